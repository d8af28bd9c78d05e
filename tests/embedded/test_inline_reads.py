"""Point reads (documents by ``_id``, the estimated count) run on the event loop's thread;
everything else on executor threads."""
import asyncio
import sqlite3
import threading

import pytest

from core.db import connect

from core.db.embedded import (
    BOUNDED_FILTER_VALUES, BOUNDED_READ_LIMIT, POINT_READ_IDS, is_bounded_read,
    is_point_filter,
)
from core.db.embedded.store import INLINE_CHECK_STEPS, INLINE_READ_STEPS, Store


@pytest.fixture
async def db(tmp_path):
    database = connect(f"embedded:{tmp_path}/inline.sqlite3")
    await database["things"].insert_many([{"_id": i, "n": i} for i in range(100)])
    yield database
    await database.close()


def loop_thread_connection(database):
    """The connection the test's (the loop's) thread opened, if any."""
    return getattr(database.store._local, "conn", None)


def test_which_filters_are_point_reads():
    assert is_point_filter({"_id": 5})
    assert is_point_filter({"_id": {"$in": list(range(POINT_READ_IDS))}})
    assert not is_point_filter({"_id": {"$in": list(range(POINT_READ_IDS + 1))}})
    assert not is_point_filter({"_id": {"$gt": 5}})
    assert not is_point_filter({"_id": 5, "n": 5})
    assert not is_point_filter({"n": 5})
    assert not is_point_filter({})


async def test_only_point_reads_use_the_loop_thread(db):
    things = db["things"]
    assert [d["n"] async for d in things.find({"n": {"$lt": 3}}, sort=[("n", 1)])] == [0, 1, 2]
    assert await things.count_documents({"n": {"$gte": 50}}) == 50
    assert loop_thread_connection(db) is None            # scans ran on reader threads
    assert await things.find_one({"_id": 7}) == {"_id": 7, "n": 7}
    assert loop_thread_connection(db) is not None
    found = await things.find({"_id": {"$in": [3, 1, 99]}}, sort=[("_id", 1)]).to_list(None)
    assert [d["_id"] for d in found] == [1, 3, 99]
    cursor = things.find({"_id": {"$in": [3, 1, 99]}}, sort=[("_id", 1)])
    assert [d["_id"] for d in await cursor.to_list(2)] == [1, 3]     # a batch still a batch
    assert [d["_id"] for d in await cursor.to_list(2)] == [99]
    assert await things.estimated_document_count() == 100


async def test_a_ping_answers_on_the_loop_thread_not_behind_the_readers(db):
    release = threading.Event()
    busy = [db._readers.submit(release.wait, 10) for _ in range(4)]   # every reader taken
    try:
        await asyncio.wait_for(db.ping(), 2)   # on a reader thread it would wait 10 s
        assert loop_thread_connection(db) is not None
    finally:
        release.set()
        for future in busy:
            future.result()


async def test_inline_reads_off_reads_on_threads(db):
    db.inline_reads = False
    assert await db["things"].find_one({"_id": 7}) == {"_id": 7, "n": 7}
    assert loop_thread_connection(db) is None


# -- bounded reads: a small limit on the loop's thread, within INLINE_READ_STEPS ----------------

def record_threads(database, monkeypatch):
    """The thread of every ``store.find`` call, in order."""
    threads, find = [], database.store.find

    def recording(*args):
        threads.append(threading.get_ident())
        return find(*args)
    monkeypatch.setattr(database.store, "find", recording)
    return threads


def test_which_reads_are_bounded():
    assert is_bounded_read({"n": {"$gt": 5}}, BOUNDED_READ_LIMIT)
    assert is_bounded_read({}, 1)
    assert not is_bounded_read({}, BOUNDED_READ_LIMIT + 1)
    assert not is_bounded_read({}, 0)               # no limit
    assert not is_bounded_read({}, None)
    assert not is_bounded_read({"n": {"$regex": "a"}}, 10)   # its budget is its own
    many = list(range(BOUNDED_FILTER_VALUES))                # compiling it is not bounded
    assert is_bounded_read({"n": {"$in": many[:-3]}}, 10)
    assert not is_bounded_read({"n": {"$in": many}}, 10)
    assert not is_bounded_read({"$or": [{"n": i} for i in many]}, 10)


async def test_a_bounded_read_answers_from_the_loop(db, monkeypatch):
    await db["things"].create_index([("n", -1)])
    threads = record_threads(db, monkeypatch)
    page = await db["things"].find({"n": {"$gte": 10}}, sort=[("n", -1)],
                                   limit=BOUNDED_READ_LIMIT).to_list(BOUNDED_READ_LIMIT)
    assert [d["n"] for d in page] == list(range(99, 99 - BOUNDED_READ_LIMIT, -1))
    assert threads == [threading.get_ident()]
    assert db.store.inline_interrupts == 0


async def test_a_read_that_scans_is_stopped_and_read_on_a_thread(tmp_path, monkeypatch):
    database = connect(f"embedded:{tmp_path}/scan.sqlite3")
    try:
        things = database["things"]
        # ~30 SQLite steps a row: 2,000 rows scanned take several times INLINE_READ_STEPS
        await things.insert_many([{"_id": i, "n": i, "word": f"w{i % 7}"}
                                  for i in range(2000)])
        threads = record_threads(database, monkeypatch)
        assert await things.find({"word": "nothing"}, limit=50).to_list(50) == []
        assert database.store.inline_interrupts == 1
        assert len(threads) == 2 and threads[0] == threading.get_ident() != threads[1]
        # a match near the end: interrupted too, and the reader thread's answer is right
        late = await things.find({"n": {"$gte": 1995}, "word": {"$ne": "x"}},
                                 sort=[("n", 1)], limit=3).to_list(3)
        assert [d["n"] for d in late] == [1995, 1996, 1997]
        assert database.store.inline_interrupts == 2
        # sorted on fields no index holds: stopped while sorting. The cached COMMIT's
        # step count goes on from one read to the next, so every few hundred reads the
        # bound also stops the read's COMMIT: its transaction is ended all the same (else
        # the next read on the loop's connection could not begin)
        store, loop_connection = database.store, database.store.connection()
        for sort in ([("word", -1), ("n", -1)], [("word", 1)]):
            for _ in range(400):
                assert store.run_inline(store.find, "things", {}, (None, [], True), sort,
                                        0, 2, steps=INLINE_READ_STEPS) == (False, None)
                assert not loop_connection.in_transaction
        last = await things.find({}, sort=[("word", -1), ("n", -1)], limit=2).to_list(2)
        assert [d["n"] for d in last] == [1994, 1987]       # "w6", newest first
        assert store.inline_interrupts == 803
        # the loop's connection is usable afterwards (no transaction or handler left over)
        assert await things.find_one({"_id": 5}) == {"_id": 5, "n": 5, "word": "w5"}
        assert not database.store.connection().in_transaction
    finally:
        await database.close()


async def test_bounded_reads_answer_as_reader_threads_do(db):
    await db["things"].update_many({"n": {"$in": list(range(0, 100, 3))}},
                                   {"$set": {"tag": "three"}})
    queries = [({}, [("n", 1)], 51), ({"tag": "three"}, [("n", -1)], 10),
               ({"tag": {"$exists": False}}, [("_id", 1)], 51), ({"n": {"$lt": 0}}, [], 5)]
    for inline in (True, False):
        db.inline_reads = inline
        answers = [await db["things"].find(flt, sort=sort or None, limit=limit,
                                           projection={"n": 1}).to_list(limit)
                   for flt, sort, limit in queries]
        if inline:
            first = answers
    assert answers == first
    assert [len(a) for a in first] == [51, 10, 51, 0]


#: a read of ``n`` rows generated by SQLite itself: its steps grow with ``n``, no table needed
COUNTING = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) "
            "SELECT count(*) AS n{} FROM c")


def counting_steps(n):
    """The SQLite steps ``COUNTING`` of ``n`` rows takes (counted one by one)."""
    conn, steps = sqlite3.connect(":memory:"), [0]

    def step():
        steps[0] += 1
        return 0
    conn.set_progress_handler(step, 1)
    conn.execute(COUNTING.format(n), (n,)).fetchone()
    conn.close()
    return steps[0]


def test_a_read_may_take_inline_read_steps_and_no_more(tmp_path):
    per_row = (counting_steps(200) - counting_steps(100)) / 100
    fixed = counting_steps(100) - 100 * per_row
    under, over = (int((INLINE_READ_STEPS + d * INLINE_CHECK_STEPS / 2 - fixed) / per_row)
                   for d in (-1, 1))
    assert INLINE_READ_STEPS - INLINE_CHECK_STEPS < counting_steps(under) < INLINE_READ_STEPS
    assert INLINE_READ_STEPS < counting_steps(over) < INLINE_READ_STEPS + INLINE_CHECK_STEPS
    store = Store(str(tmp_path / "steps.sqlite3"), "test")
    try:
        def read(n):         # a text of its own: a cached statement's step count goes on
            return store.connection().execute(COUNTING.format(n), (n,)).fetchone()[0]
        assert store.run_inline(read, under, steps=INLINE_READ_STEPS) == (True, under)
        assert store.run_inline(read, over, steps=INLINE_READ_STEPS) == (False, None)
        assert store.inline_interrupts == 1
    finally:
        store.close()
