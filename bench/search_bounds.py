"""Search over legacy huge text: time of one search and the longest event-loop stall.

    python bench/search_bounds.py [--small 10000] [--mib 9] [--backend embedded|memory]
                                  [--concurrent 4]

Stores one article whose body is ``--mib`` MiB of mixed ASCII/non-ASCII text
(inserted straight into the store, as data from before ``TextField`` had a
``max_length`` would be) plus ``--small`` ordinary articles, then runs what the
admin list page runs for ``?q=WORD`` (every word ``$regex``-escaped, ``i``, over
title and body; a page of 50 and a capped count) while a ticker task measures
how long the event loop was kept from running. Prints one line per search (``?q=``),
and a last one for ``--concurrent`` users searching at once.
"""
import argparse
import asyncio
import gc
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.workload import batches  # noqa: E402
from core.db import connect  # noqa: E402

SEARCH_FIELDS = ("title", "body")
QUERIES = ["naïve", "zebra", "qqqq", "naïve café résumé über straße",
           "eins zwei drei vier fünf sechs sieben acht neun zehn"]
CHUNK = "Lorem ipsum dolor sit amet, crème brûlée à la carte, Ærø; "


def search_filter(q):
    """The filter ``core.admin.changelist.ChangeList.get_search_filter`` builds for ``?q=``."""
    clauses = [{"$or": [{name: {"$regex": re.escape(word), "$options": "i"}}
                        for name in SEARCH_FIELDS]} for word in q.split()[:10]]
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class Ticker:
    """Wakes up every millisecond and records the longest gap between wake-ups."""

    def __init__(self):
        self.max_gap = 0.0
        self._stop = False

    async def run(self):
        last = time.perf_counter()
        while not self._stop:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.max_gap = max(self.max_gap, now - last)
            last = now

    def stop(self):
        self._stop = True


async def list_page(coll, flt):
    """What the list page reads: a page of 50 and a capped count."""
    try:
        rows = await coll.find(flt, sort=[("_id", -1)], limit=50).to_list(None)
        count = await coll.count_documents(flt, limit=1000)
        return f"{len(rows)} rows, count {count}"
    except Exception as exc:  # the bounded store may refuse; show what it said
        return f"{type(exc).__name__}: {exc}"


async def search_once(coll, q, concurrent=1):
    flt = search_filter(q)
    ticker = Ticker()
    task = asyncio.create_task(ticker.run())
    await asyncio.sleep(0.01)
    started = time.perf_counter()
    outcomes = await asyncio.gather(*(list_page(coll, flt) for _ in range(concurrent)))
    outcome = outcomes[0] if concurrent == 1 else f"{concurrent} at once: {outcomes[0]}"
    elapsed = time.perf_counter() - started
    ticker.stop()
    await task
    return elapsed, ticker.max_gap, outcome


async def main(args):
    with tempfile.TemporaryDirectory() as workdir:
        url = "memory:" if args.backend == "memory" else f"embedded:{workdir}/bench.sqlite3"
        db = connect(url)
        coll = db["articles"]
        try:
            for batch in batches(args.small):
                await coll.insert_many(batch)
            body = CHUNK * (args.mib * 1024 * 1024 // len(CHUNK.encode()))
            print(f"backend={args.backend} small={args.small} big={len(body.encode()) / 2**20:.1f}"
                  f" MiB ({len(body)} chars)")
            await coll.insert_one({"title": "Legacy article", "body": body})
            del body
            gc.collect()            # the seeding's garbage is not the search's stall
            for q, concurrent in [(q, 1) for q in QUERIES] + [("naïve", args.concurrent)]:
                elapsed, gap, outcome = await search_once(coll, q, concurrent)
                print(f"  q={q[:24]!r:26} search {elapsed * 1000:8.1f} ms   "
                      f"max loop stall {gap * 1000:7.1f} ms   {outcome}")
        finally:
            await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--mib", type=int, default=9)
    parser.add_argument("--backend", choices=("embedded", "memory"), default="embedded")
    parser.add_argument("--concurrent", type=int, default=4,
                        help="how many users search at once in the last line")
    asyncio.run(main(parser.parse_args()))
