"""Point reads (documents by ``_id``, the estimated count) run on the event loop's thread;
everything else on executor threads."""
import pytest

from core.db import connect
from core.db.embedded import POINT_READ_IDS, is_point_filter


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


async def test_inline_reads_off_reads_on_threads(db):
    db.inline_reads = False
    assert await db["things"].find_one({"_id": 7}) == {"_id": 7, "n": 7}
    assert loop_thread_connection(db) is None
