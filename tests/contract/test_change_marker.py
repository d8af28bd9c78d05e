"""``Database.change_marker``: a value that moves whenever anything is written, by this
process or another; ``None`` on a backend that has none (then callers read every time)."""
import sqlite3

import pytest

from core.db import connect

#: the backends that have a marker (the others answer ``None``)
MARKED = {"embedded"}

WRITES = {
    "insert_one": lambda c: c.insert_one({"_id": 9, "n": 0}),
    "insert_many": lambda c: c.insert_many([{"_id": 10}, {"_id": 11}]),
    "update_one": lambda c: c.update_one({"_id": 1}, {"$inc": {"n": 1}}),
    "update_many": lambda c: c.update_many({}, {"$inc": {"n": 1}}),
    "upsert": lambda c: c.update_one({"_id": 12}, {"$set": {"n": 1}}, upsert=True),
    "replace_one": lambda c: c.replace_one({"_id": 1}, {"n": 7}),
    "find_one_and_update": lambda c: c.find_one_and_update({"_id": 1}, {"$set": {"n": 3}}),
    "delete_one": lambda c: c.delete_one({"_id": 1}),
    "delete_many": lambda c: c.delete_many({}),
    "write_each": lambda c: c.database.write_each([(c.name, "insert_one", {"_id": 13})]),
}


def backend_of(request):
    return request.node.callspec.params["db"]


async def seeded(db):
    collection = db["things"]
    await collection.insert_many([{"_id": 1, "n": 0}, {"_id": 2, "n": 0}])
    await collection.find_one({"_id": 1})
    return collection


@pytest.mark.parametrize("write", sorted(WRITES))
async def test_a_write_moves_the_marker_and_reads_do_not(db, request, write):
    collection = await seeded(db)
    before = db.change_marker()
    if backend_of(request) not in MARKED:
        assert before is None
        return
    assert before is not None
    await collection.find_one({"_id": 2})                    # a read on the loop's thread
    await collection.find({"n": 0}).to_list(None)            # a read on a reader thread
    await collection.count_documents({})
    assert db.change_marker() == before
    await WRITES[write](collection)
    after = db.change_marker()
    assert after != before
    assert db.change_marker() == after


async def test_a_commit_by_another_connection_moves_the_marker(db, request, embedded_url):
    """Another process writing the file (here: a plain SQLite connection to it)."""
    await seeded(db)
    before = db.change_marker()
    if backend_of(request) not in MARKED:
        assert before is None
        return
    other = sqlite3.connect(embedded_url.removeprefix("embedded:"))
    try:
        other.execute("CREATE TABLE IF NOT EXISTS elsewhere (x)")
        other.execute("INSERT INTO elsewhere VALUES (1)")
        other.commit()
    finally:
        other.close()
    assert db.change_marker() != before


@pytest.mark.parametrize("write", ["insert_one", "update_many", "delete_one", "write_each"])
async def test_a_write_by_another_database_on_the_same_file_moves_the_marker(
        db, request, embedded_url, write):
    """Another process of the site: its own ``Database`` on the same file, writing
    through the store's own paths (its writer thread, its own transaction)."""
    await seeded(db)
    if backend_of(request) not in MARKED:
        return
    before = db.change_marker()
    other = connect(embedded_url)
    try:
        await WRITES[write](other["things"])
    finally:
        await other.close()
    assert db.change_marker() != before
    assert db.change_marker() == db.change_marker()


async def test_a_write_on_the_loop_s_own_connection_moves_the_marker(db, request):
    """``data_version`` does not see the reading connection's own commits: the marker
    counts them too, should a write ever run on the loop's thread."""
    await seeded(db)
    if backend_of(request) not in MARKED:
        return
    before = db.change_marker()
    conn = db.store.connection()             # the connection this (the loop's) thread reads with
    conn.execute("CREATE TABLE IF NOT EXISTS elsewhere (x)")
    conn.execute("INSERT INTO elsewhere VALUES (1)")
    assert db.change_marker() != before


async def test_no_marker_with_inline_reads_off(db, request):
    await seeded(db)
    if backend_of(request) not in MARKED:
        return
    db.inline_reads = False
    assert db.change_marker() is None
