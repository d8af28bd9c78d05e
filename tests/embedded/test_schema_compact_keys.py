"""Schema version 3 of the embedded store: compact index keys (an ObjectId's hex digits,
a date's epoch milliseconds) and descending indexes laid out so that keys growing with
time fill their pages, with every sort an index served still served by it."""
import datetime
import sqlite3

import pytest
from bson import ObjectId

from core.db import connect
from core.db.embedded import sql, store
from support.legacy_files import rewrite_as_schema_3
from support.plans import query_plan

UTC = datetime.timezone.utc
BASE = datetime.datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path):
    database = connect(f"embedded:{tmp_path}/keys.sqlite3")
    yield database
    await database.close()


async def seed(coll, count, batch=250):
    """Articles as an application writes them: newest last, ObjectIds growing."""
    for start in range(0, count, batch):
        await coll.insert_many([
            {"_id": ObjectId(), "n": i, "category": f"c{i % 10}", "author": ObjectId(),
             "created": BASE + datetime.timedelta(minutes=i)}
            for i in range(start, min(count, start + batch))])


def dbstat(path, name):
    """``(bytes, unused bytes, payload bytes, entries)`` of one index of the file."""
    raw = sqlite3.connect(path)
    try:
        return raw.execute("SELECT sum(pgsize), sum(unused), sum(payload), sum(ncell) "
                           "FROM dbstat WHERE name=? AND pagetype='leaf'", (name,)).fetchone()
    finally:
        raw.close()


SORTS = [
    ({"category": "c7"}, [("created", -1), ("_id", -1)], "category_1_created_-1__id_-1"),
    ({"category": "c7"}, [("created", 1), ("_id", 1)], "category_1_created_-1__id_-1"),
    ({}, [("category", 1), ("created", -1), ("_id", -1)], "category_1_created_-1__id_-1"),
    ({}, [("category", -1), ("created", 1), ("_id", 1)], "category_1_created_-1__id_-1"),
    ({}, [("created", -1), ("_id", -1)], "created_-1__id_-1"),
    ({}, [("created", 1), ("_id", 1)], "created_-1__id_-1"),
    ({"created": {"$lt": BASE + datetime.timedelta(minutes=90)}}, [("created", -1), ("_id", -1)],
     "created_-1__id_-1"),
]


@pytest.mark.parametrize("flt,sort,index", SORTS)
async def test_descending_indexes_still_serve_their_sorts_in_order(db, flt, sort, index):
    coll = db["articles"]
    await coll.create_index([("category", 1), ("created", -1), ("_id", -1)])
    await coll.create_index([("created", -1), ("_id", -1)])
    await seed(coll, 300)
    text = await query_plan(db, coll, flt, sort)
    assert f"USING INDEX i:articles:{index}" in text, text
    assert "TEMP B-TREE" not in text, text
    page = await coll.find(flt, sort=sort, limit=20).to_list(None)
    everything = await coll.find(flt).to_list(None)
    for path, direction in reversed(sort):
        everything.sort(key=lambda doc: doc[path], reverse=direction == -1)
    assert [d["n"] for d in page] == [d["n"] for d in everything[:20]]


async def test_keys_that_grow_with_time_fill_the_pages_of_a_descending_index(db, tmp_path):
    coll = db["articles"]
    await coll.create_index([("category", 1), ("created", -1), ("_id", -1)])
    await coll.create_index([("created", -1), ("_id", -1)])
    await seed(coll, 4000)
    await db.close()
    for name in ("category_1_created_-1__id_-1", "created_-1__id_-1"):
        size, unused, _payload, _entries = dbstat(tmp_path / "keys.sqlite3",
                                                  f"i:articles:{name}")
        # keys landing at the left edge of each range left pages half empty (~50 % unused)
        assert unused / size < 0.3, (name, unused / size)


async def test_index_entries_hold_object_ids_and_dates_compactly(db, tmp_path):
    coll = db["articles"]
    await coll.create_index([("created", -1), ("_id", -1)])
    await seed(coll, 1000)
    await db.close()
    _size, _unused, payload, entries = dbstat(tmp_path / "keys.sqlite3",
                                              "i:articles:created_-1__id_-1")
    # rank + 6-byte milliseconds + rank + 16 base-64 characters + rowid (+ header): 24
    # hex digits in schema 3 (42), 2 + 21 and 2 + 29 bytes of tagged text before
    assert payload / entries < 34, payload / entries


async def test_object_id_and_date_filters_compare_like_mongodb(db):
    coll = db["articles"]
    await coll.create_index([("created", -1), ("_id", -1)])
    await seed(coll, 50)
    docs = await coll.find({}, sort=[("n", 1)]).to_list(None)
    middle = docs[25]
    assert await coll.count_documents({"_id": {"$gt": middle["_id"]}}) == 24
    assert await coll.count_documents({"created": {"$gte": middle["created"]}}) == 25
    assert await coll.count_documents({"created": {"$in": [middle["created"], "x"]}}) == 1
    assert await coll.count_documents({"author": middle["author"]}) == 1
    assert await coll.count_documents({"created": {"$lt": "a string"}}) == 0
    assert await coll.count_documents(
        {"created": {"$lt": datetime.datetime(1960, 1, 1, tzinfo=UTC)}}) == 0
    await coll.insert_one({"n": -1, "created": datetime.datetime(1960, 1, 1, tzinfo=UTC)})
    first = await coll.find({}, sort=[("created", 1)], limit=1).to_list(None)
    assert first[0]["n"] == -1


def old_columns(spec):
    """The column list version 2 declared: tagged text keys, directions as written."""
    columns = []
    for path, direction in spec:
        operand = sql.Operand.at("doc", path.split("."))
        suffix = " DESC" if direction == -1 else ""
        columns += [operand.rank + suffix, f"ifnull({operand.value},0)" + suffix]
    return ", ".join(columns)


async def test_a_version_2_file_gets_compact_keys_and_its_side_tables_rebuilt(tmp_path):
    path = tmp_path / "v2.sqlite3"
    db = connect(f"embedded:{path}")
    tag = ObjectId()
    await db["articles"].insert_many([
        {"n": i, "tags": [tag] if i % 2 else [ObjectId()],
         "created": BASE + datetime.timedelta(days=i)} for i in range(10)])
    await db["articles"].create_index([("created", -1)])
    await db["articles"].create_index("tags")
    await db.close()
    rewrite_as_schema_3(path, "articles", user_version=2)     # the documents' text
    raw = sqlite3.connect(path)           # the indexes and side table as version 2 wrote them
    raw.executescript(
        f'DROP INDEX "i:articles:created_-1"; CREATE INDEX "i:articles:created_-1" '
        f'ON "c:articles" ({old_columns([("created", -1)])});'
        f'DROP INDEX "i:articles:_id_"; CREATE UNIQUE INDEX "i:articles:_id_" '
        f'ON "c:articles" ({old_columns([("_id", 1)])});'
        """UPDATE "m:articles:tags" SET key=char(1114111)||'o'||key WHERE rank=7;"""
        "PRAGMA user_version=2;")
    raw.close()
    db = connect(f"embedded:{path}")
    try:
        coll = db["articles"]
        assert sorted(d["n"] for d in await coll.find({"tags": tag}).to_list(None)) == [
            1, 3, 5, 7, 9]
        newest = await coll.find({"created": {"$gt": BASE + datetime.timedelta(days=6)}},
                                 sort=[("created", -1)]).to_list(None)
        assert [d["n"] for d in newest] == [9, 8, 7]
        text = await query_plan(db, coll, {}, [("created", -1)])
        assert "USING INDEX i:articles:created_-1" in text and "TEMP B-TREE" not in text
        await coll.insert_one({"n": 10, "tags": [tag]})     # the rebuilt triggers keep it
        assert await coll.count_documents({"tags": tag}) == 6
        with pytest.raises(Exception, match="duplicate key"):
            await coll.insert_one({"_id": newest[0]["_id"]})
    finally:
        await db.close()
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
        created_sql = raw.execute("SELECT sql FROM sqlite_master WHERE name=?",
                                  ("i:articles:created_-1",)).fetchone()[0]
        assert "CAST(substr(" in created_sql and " DESC" not in created_sql
    finally:
        raw.close()
