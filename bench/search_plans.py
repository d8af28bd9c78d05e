"""CPU ms of each way the embedded store can read a page of search results, and its pick.

    python bench/search_plans.py [--size 100000] [--file PATH] [--repeat 7]

Seeds ``--size`` articles like ``bench/compare.py``'s (one title in 200 says "zebras",
one in 5,000 "narwhal", nearly all "cats"; every other one published; indexes on
``created`` and ``published, created``; the admin's search index on title and body) in
a temporary file, or reuses ``--file`` when it holds them already. Then, for each word
alone and with the published filter, it reads the admin's first page (51 rows, newest
first) by each plan of ``core.db.embedded.search.choose_plan`` (``sorted``, ``probe``,
``scan``) and by the plan the store picks, and runs the capped count (1,001), printing
the median CPU ms of ``--repeat`` runs on this thread (time.thread_time, so other load
on the machine changes the figures little). These figures are what ``search.COST_*``
were set from: the store should pick the cheapest, or nearly.
"""
import argparse
import datetime
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.db import QueryTimeout  # noqa: E402
from core.db.embedded import search  # noqa: E402
from core.db.embedded.store import Store  # noqa: E402

COLL = "blog_article"
SORT = [("created", -1), ("_id", -1)]
WORDS = ["narwhal", "zebras", "cats"]
BODY = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
        "incididunt ut labore et dolore magna aliqua.")
BASE = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)


def article(i):
    title = f"Article {i} about {'zebras' if i % 200 == 0 else 'cats'}"
    if i % 5000 == 123:
        title += " and a narwhal"
    return {"_id": i, "title": title, "body": BODY, "published": i % 2 == 0,
            "created": BASE + datetime.timedelta(seconds=37 * i)}


def seed(store, size):
    for start in range(0, size, 5000):
        store.insert(COLL, [article(i) for i in range(start, min(size, start + 5000))], True)
    store.create_index(COLL, [("created", -1), ("_id", -1)], False, "created", None)
    store.create_index(COLL, [("published", 1), ("created", -1), ("_id", -1)], False,
                       "published", None)
    store.create_search_index(COLL, ["title", "body"])


def word_filter(word, published):
    flt = {"$or": [{"title": {"$regex": word, "$options": "i"}},
                   {"body": {"$regex": word, "$options": "i"}}]}
    return {"$and": [flt, {"published": True}]} if published else flt


def cpu_ms(work, repeat):
    """Median CPU ms of ``work()`` (None: it ran past the store's time budget)."""
    try:
        work()                                               # warm the caches
    except QueryTimeout:
        return None
    times = []
    for _ in range(repeat):
        started = time.thread_time()
        work()
        times.append((time.thread_time() - started) * 1000)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--file", help="a file seeded by an earlier run (kept)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bastion-search-plans-") as workdir:
        path = args.file or str(Path(workdir) / "plans.sqlite3")
        store = Store(path, "bench")
        if not store.estimated_count(COLL):
            print(f"seeding {args.size:,} articles in {path} ...", flush=True)
            seed(store, args.size)
        print(f"{store.estimated_count(COLL):,} articles; CPU ms per query (median of "
              f"{args.repeat})")
        chosen = search.choose_plan
        everything = (None, [], True)
        try:
            for word in WORDS:
                for published in (False, True):
                    flt = word_filter(word, published)
                    figures = {}
                    for plan in (search.SORTED, search.PROBE, search.SCAN, None):
                        search.choose_plan = chosen if plan is None else (
                            lambda *a, plan=plan: (plan, search.NO_ROWID))
                        store._plans = search.Plans()
                        figures[plan or "picked"] = cpu_ms(
                            lambda: store.find(COLL, flt, everything, SORT, 0, 51), args.repeat)
                    search.choose_plan = chosen
                    picked = store._search_plan(store.connection(), COLL,
                                                store._search_match(store.connection(), COLL,
                                                                    flt, set()), 51, SORT[0])
                    count = cpu_ms(lambda: store.count(COLL, flt, 0, 1001), args.repeat)
                    name = word + (" + published" if published else "")
                    print(f"  {name:20} " + "  ".join(
                        f"{k} {v:7.2f}" if v is not None else f"{k} timeout"
                        for k, v in figures.items())
                          + f"  (picks {picked[0]}"
                          + ("" if picked[1] == search.NO_ROWID else ", its set cut") +
                          f")   capped count {count:6.2f}", flush=True)
        finally:
            search.choose_plan = chosen
            store.close()


if __name__ == "__main__":
    main()
