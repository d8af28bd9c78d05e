"""Multikey indexes on the embedded store: a query on an array path, scanned and indexed.

    python bench/multikey.py [--orders 20000] [--lines 3]

Stores ``--orders`` orders of ``--lines`` lines (``{"sku": ...}``) each, times
``{"lines.sku": X}`` and ``{"lines.sku": {"$in": [X, Y]}}`` (find of all matches, and a
count) before and after ``create_index("lines.sku")``, and the insert of the same orders
into a collection that has the index (the side table's cost on writes). Prints one line
per measure, in milliseconds.
"""
import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.db import connect  # noqa: E402


def orders(count, lines):
    return [{"n": n, "lines": [{"sku": f"sku-{(n * lines + k) % (count * 2)}", "qty": k + 1}
                               for k in range(lines)]} for n in range(count)]


async def timed(label, work, repeat=5):
    best = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = await work()
        spent = (time.perf_counter() - start) * 1000
        best = spent if best is None else min(best, spent)
    print(f"{label:<48} {best:9.2f} ms  ({result})")


async def main(args):
    with tempfile.TemporaryDirectory() as folder:
        db = connect(f"embedded:{folder}/bench.sqlite3")
        docs = orders(args.orders, args.lines)
        coll = db["orders"]
        start = time.perf_counter()
        for at in range(0, len(docs), 1000):
            await coll.insert_many([dict(d) for d in docs[at:at + 1000]])
        print(f"{'insert, no index':<48} {(time.perf_counter() - start) * 1000:9.2f} ms")
        one = {"lines.sku": "sku-31"}
        two = {"lines.sku": {"$in": ["sku-31", "sku-77"]}}
        for state in ("scan", "indexed"):
            if state == "indexed":
                start = time.perf_counter()
                await coll.create_index("lines.sku")
                print(f"{'create_index(lines.sku)':<48} "
                      f"{(time.perf_counter() - start) * 1000:9.2f} ms")
            await timed(f"{state}: find lines.sku = X", lambda: _count(coll.find(one)))
            await timed(f"{state}: find lines.sku $in [X, Y]", lambda: _count(coll.find(two)))
            await timed(f"{state}: count_documents lines.sku = X",
                        lambda: coll.count_documents(one))
        indexed = db["indexed"]
        await indexed.create_index("lines.sku")
        await indexed.insert_one({"lines": [{"sku": "seed"}]})
        start = time.perf_counter()
        for at in range(0, len(docs), 1000):
            await indexed.insert_many([dict(d) for d in docs[at:at + 1000]])
        print(f"{'insert, with the multikey index':<48} "
              f"{(time.perf_counter() - start) * 1000:9.2f} ms")
        await db.close()


async def _count(cursor):
    return len(await cursor.to_list(None))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--lines", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
