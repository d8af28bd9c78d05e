"""Promises of the embedded engine that the backend-neutral contract cannot see:
index use, early stopping, TTL sweeping, the event loop left free, and the
limits it refuses rather than answering differently from MongoDB."""
import asyncio
import datetime
import re
import threading

import pytest

from core.db import UnsupportedOperation, connect
from core.db.embedded import codec, sql
from support.plans import query_plan

UTC = datetime.timezone.utc


@pytest.fixture
async def db(tmp_path):
    database = connect(f"embedded:{tmp_path}/engine.sqlite3")
    yield database
    await database.close()


async def seed(coll, count, **extra):
    base = datetime.datetime(2024, 1, 1, tzinfo=UTC)
    await coll.insert_many([
        {"n": i, "category": f"c{i % 10}", "title": f"title {i}",
         "created": base + datetime.timedelta(minutes=i), **extra}
        for i in range(count)])


async def test_declared_indexes_serve_filtered_sorted_pages(db):
    coll = db["articles"]
    await coll.create_index([("category", 1), ("created", -1)])
    await seed(coll, 200)
    text = await query_plan(db, coll, {"category": "c7"}, [("created", -1)])
    assert "USING INDEX i:articles:category_1_created_-1" in text
    assert "TEMP B-TREE" not in text            # the index gives the order too


async def test_lookups_by_id_use_the_id_index(db):
    coll = db["articles"]
    result = await coll.insert_one({"n": 1})
    text = await query_plan(db, coll, {"_id": result.inserted_id}, [])
    assert "USING INDEX i:articles:_id_" in text


async def test_a_limited_search_stops_scanning_once_it_has_enough(db, monkeypatch):
    calls = []
    original = sql.regex_function

    def counting(pattern, options, value):
        calls.append(value)
        return original(pattern, options, value)
    monkeypatch.setattr(sql, "regex_function", counting)
    fresh = connect(f"embedded:{db.path}")        # registers the counting function
    try:
        coll = fresh["articles"]
        await seed(coll, 2000)
        found = await coll.find({"title": {"$regex": r"title \d+"}}, limit=5).to_list(None)
        assert len(found) == 5
        assert len(calls) < 50                  # not 2,000: LIMIT reached SQLite
        calls.clear()
        assert await coll.count_documents({"title": {"$regex": r"^t"}}, limit=10) == 10
        assert len(calls) < 50
    finally:
        await fresh.close()


async def test_sqlite_runs_on_executor_threads_not_the_loop(db, monkeypatch):
    seen = []
    original = db.store.find

    def recording(*args):
        seen.append(threading.get_ident())
        return original(*args)
    monkeypatch.setattr(db.store, "find", recording)
    await db["x"].insert_one({"a": 1})
    await db["x"].find({}).to_list(None)
    assert seen and threading.get_ident() not in seen


async def test_the_loop_keeps_running_during_a_long_query(db):
    coll = db["articles"]
    await seed(coll, 20000)
    ticks = 0
    stop = asyncio.Event()

    async def ticker():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.001)
    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = ticks
    # a non-literal regex calls Python for each of the 20,000 rows
    assert await coll.count_documents({"title": {"$regex": r"title \d*5$"}}) == 2000
    during = ticks - before
    stop.set()
    await task
    assert during >= 3, f"the loop ticked {during} times while the query ran"


async def test_ttl_index_sweeps_expired_documents(db):
    coll = db["sessions"]
    await coll.create_index("expires_at", expireAfterSeconds=0)
    now = datetime.datetime.now(UTC)
    await coll.insert_many([
        {"k": "old", "expires_at": now - datetime.timedelta(hours=1)},
        {"k": "fresh", "expires_at": now + datetime.timedelta(hours=1)},
        {"k": "no date"},
    ])
    assert await db.sweep_expired(now=now) == 1
    assert sorted(d["k"] for d in await coll.find({}).to_list(None)) == ["fresh", "no date"]


async def test_sorting_on_a_field_that_held_arrays_is_refused(db):
    coll = db["posts"]
    await coll.insert_many([{"tags": ["b", "a"]}, {"tags": "c"}])
    with pytest.raises(UnsupportedOperation, match="holds arrays"):
        await coll.find({}).sort("tags", 1).to_list(None)
    # queries on it still work, through the elements
    assert await coll.count_documents({"tags": "a"}) == 1


async def test_arrays_in_uniquely_indexed_fields_are_refused(db):
    coll = db["users"]
    await coll.create_index("email", unique=True)
    with pytest.raises(UnsupportedOperation, match="unique index"):
        await coll.insert_one({"email": ["a@x", "b@x"]})
    assert await coll.count_documents({}) == 0
    other = db["other"]
    await other.insert_one({"codes": [1, 2]})
    with pytest.raises(UnsupportedOperation, match="holds arrays"):
        await other.create_index("codes", unique=True)


async def test_estimated_count_follows_inserts_and_deletes_across_connections(db):
    coll = db["things"]
    await seed(coll, 30)
    await coll.delete_many({"n": {"$lt": 10}})
    second = connect(f"embedded:{db.path}")
    try:
        await second["things"].insert_one({"n": 99})
        assert await coll.estimated_document_count() == 21
        assert await second["things"].estimated_document_count() == 21
    finally:
        await second.close()


async def test_case_insensitive_search_matches_unicode_folds_like_python(db):
    coll = db["names"]
    # U+212A KELVIN SIGN folds to "k" in Python's re (and in PCRE): the LIKE fast
    # path must not lose it
    await coll.insert_many([{"s": "\u212aelvin"}, {"s": "kelvin"}, {"s": "other"}])
    found = await coll.find({"s": {"$regex": re.escape("KELVIN"), "$options": "i"}}).to_list(None)
    assert sorted(d["s"] for d in found) == ["kelvin", "\u212aelvin"]


async def test_keyset_ranges_read_the_index_in_order(db):
    """A "created before the cursor" page must not sort the rest of the collection."""
    coll = db["articles"]
    await coll.create_index([("created", -1), ("_id", -1)])
    await seed(coll, 300)
    cursor = datetime.datetime(2024, 1, 1, 2, tzinfo=UTC)
    keyset = {"$and": [{"created": {"$lte": cursor}},
                       {"$or": [{"created": {"$lt": cursor}}, {"_id": {"$lt": "zzz"}}]}]}
    text = await query_plan(db, coll, keyset, [("created", -1), ("_id", -1)])
    assert "USING INDEX i:articles:created_-1__id_-1" in text
    assert "TEMP B-TREE" not in text, text
    page = await coll.find(keyset, sort=[("created", -1), ("_id", -1)], limit=5).to_list(None)
    # n=120 sits exactly at the cursor, and an ObjectId is never < a string
    assert [d["n"] for d in page] == [119, 118, 117, 116, 115]


def test_pinned_terms_are_what_the_top_level_conjunction_fixes():
    assert sql.pinned_terms({"n": {"$lt": 5}, "s": "x"}, set()) == {
        "n": (codec.RANK_NUMBER, False), "s": (codec.RANK_STRING, True)}
    assert sql.pinned_terms({"$and": [{"at": {"$gte": 1}}, {"at": {"$lte": "z"}}]}, set()) == {}
    assert sql.pinned_terms({"tags": "x", "n": None}, {"tags"}) == {}
    assert sql.pinned_terms({"$or": [{"n": 1}, {"n": "a"}]}, set()) == {}


SEARCH_TEXTS = ["Zebra crossing", "a zebra", "ZEBRA!", "zeb ra", "caf\u00e9 zebra", "\u212aelvin",
                "kelvin", 'say "hi"', "back\\slash", "tab\there", "50% off_sale",
                codec.TAG + "zebra",
                "Stra\u00dfe", "no match here"]
SEARCH_WORDS = ["zebra", "ZEBRA", "kelvin", '"hi"', "back\\slash", "tab\there", "50% off_",
                "stra\u00dfe", "caf\u00e9", codec.TAG + "z", "other-field"]


@pytest.mark.parametrize("options", ["i", ""])
async def test_literal_searches_answer_exactly_as_python_re(db, options):
    """The raw-text prefilter and the LIKE/instr fast paths only ever narrow the scan."""
    coll = db["texts"]
    await coll.insert_many([{"s": text, "other": "other-field"} for text in SEARCH_TEXTS])
    flags = re.IGNORECASE if options else 0
    for word in SEARCH_WORDS:
        flt = {"s": {"$regex": re.escape(word), "$options": options}}
        found = await coll.find(flt).to_list(None)
        expected = [t for t in SEARCH_TEXTS if re.search(re.escape(word), t, flags)]
        assert sorted(d["s"] for d in found) == sorted(expected), word


async def test_a_file_from_before_the_folds_column_is_migrated(tmp_path):
    import sqlite3
    path = tmp_path / "old.sqlite3"
    old = connect(f"embedded:{path}")
    await old["notes"].insert_one({"s": "caf\u00e9 zebra"})
    await old.close()
    raw = sqlite3.connect(path)            # rebuild the table as version 0 wrote it
    raw.executescript('ALTER TABLE "c:notes" RENAME TO old; '
                      'CREATE TABLE "c:notes" (doc TEXT NOT NULL); '
                      'INSERT INTO "c:notes" (rowid, doc) SELECT rowid, doc FROM old; '
                      'DROP TABLE old; PRAGMA user_version=0;')
    raw.close()
    db = connect(f"embedded:{path}")
    try:
        await db["notes"].insert_one({"s": "plain zebra"})
        found = await db["notes"].find({"s": {"$regex": "ZEBRA", "$options": "i"}}).to_list(None)
        assert sorted(d["s"] for d in found) == ["caf\u00e9 zebra", "plain zebra"]
    finally:
        await db.close()
