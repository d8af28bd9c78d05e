"""Store benchmark: insert, indexed/filtered/search pages, counts, per backend and size.

    python bench/store.py [--sizes 10000,100000]
                          [--backends memory,embedded,wire-motor,wire-pymongo]

The wire backends run when MONGO_URL points at a MongoDB-wire server. Prints
one table; medians of 5 runs, in milliseconds.
"""
import argparse
import asyncio
import os
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.workload import (  # noqa: E402
    COUNT_CAP, COUNT_FILTER, INDEXES, QUERIES, Timer, batches, median_ms,
)
from core.db import connect  # noqa: E402

RUNS = 5
MIN_SIZE = 10_000


def backend_url(backend, workdir):
    if backend == "memory":
        return "memory:", "motor"
    if backend == "embedded":
        return f"embedded:{workdir}/bench-{uuid.uuid4().hex[:8]}.sqlite3", "motor"
    mongo = os.environ.get("MONGO_URL")
    if not mongo:
        return None, None
    return f"{mongo.rstrip('/')}/bench_{uuid.uuid4().hex[:8]}", backend.split("-", 1)[1]


async def measure(backend, size, workdir):
    url, driver = backend_url(backend, workdir)
    if url is None:
        return None
    db = connect(url, driver=driver)
    coll = db["articles"]
    try:
        for keys in INDEXES:
            await coll.create_index(keys)
        with Timer() as insert:
            for batch in batches(size):
                await coll.insert_many(batch)
        row = {"insert s": insert.seconds}
        for name, flt, sort, limit in QUERIES:
            samples = []
            for _ in range(RUNS):
                with Timer() as t:
                    docs = await coll.find(flt, sort=sort, limit=limit).to_list(None)
                samples.append(t.seconds)
            assert len(docs) == limit, (name, len(docs))
            row[name] = median_ms(samples)
        samples = []
        for _ in range(RUNS):
            with Timer() as t:
                await coll.count_documents(COUNT_FILTER, limit=COUNT_CAP)
            samples.append(t.seconds)
        row["capped count"] = median_ms(samples)
        samples = []
        for _ in range(RUNS):
            with Timer() as t:
                await coll.estimated_document_count()
            samples.append(t.seconds)
        row["estimated count"] = median_ms(samples)
        return row
    finally:
        await db.drop()
        await db.close()


COLUMNS = ["insert s", "indexed page", "filtered page", "search page", "capped count",
           "estimated count"]


async def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--backends", default="memory,embedded,wire-motor,wire-pymongo")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        parser.error("--sizes takes comma-separated integers, e.g. 10000,100000")
    if min(sizes) < MIN_SIZE:
        parser.error(f"sizes must be at least {MIN_SIZE:,}: the search page needs 50 of the "
                     "documents that match (one in 200)")
    print(f"{'backend':<14}{'docs':>8}" + "".join(f"{c:>17}" for c in COLUMNS))
    print(f"{'':<14}{'':>8}" + "".join(f"{'(s)' if c == 'insert s' else '(ms)':>17}"
                                       for c in COLUMNS))
    with tempfile.TemporaryDirectory() as workdir:
        for backend in args.backends.split(","):
            for size in sizes:
                row = await measure(backend, size, workdir)
                if row is None:
                    print(f"{backend:<14}{size:>8}  skipped: MONGO_URL not set")
                    continue
                print(f"{backend:<14}{size:>8}" + "".join(f"{row[c]:>17.2f}" for c in COLUMNS),
                      flush=True)


if __name__ == "__main__":
    asyncio.run(main())
