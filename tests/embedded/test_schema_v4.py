"""Schema version 4 of the embedded store: a one-byte tag, ObjectIds in 16 characters of
an order-keeping base 64, dates in plain milliseconds; a schema-3 file is brought
forward when it is first opened."""
import datetime
import os
import sqlite3

import pytest
from bson import Binary, ObjectId
from bson.decimal128 import Decimal128

from core.db import DuplicateKeyError, connect
from core.db.embedded import codec, search, sql, store
from support.legacy_files import V3_TAG, rewrite_as_schema_3, v3_text
from support.plans import query_plan

UTC = datetime.timezone.utc
BASE = datetime.datetime(2024, 1, 1, tzinfo=UTC)
TAG = codec.TAG


def raw_documents(path, coll):
    raw = sqlite3.connect(path)
    try:
        return [text for (text,) in raw.execute(f'SELECT doc FROM "c:{coll}" ORDER BY rowid')]
    finally:
        raw.close()


def test_an_object_id_is_stored_in_16_characters_that_sort_as_its_bytes():
    ids = [ObjectId(bytes(12)), ObjectId(b"\xff" * 12), ObjectId(b"\x00" * 11 + b"\x01"),
           ObjectId(b"\x80" + b"\x00" * 11)] + [ObjectId(os.urandom(12)) for _ in range(500)]
    texts = [codec.oid_text(oid) for oid in ids]
    assert {len(text) for text in texts} == {16}
    assert all(text.isascii() and '"' not in text and "\\" not in text for text in texts)
    assert [codec.oid_from_text(text) for text in texts] == ids
    assert sorted(texts) == [codec.oid_text(oid) for oid in sorted(ids, key=lambda o: o.binary)]


async def test_documents_hold_object_ids_and_dates_compactly(tmp_path):
    path = tmp_path / "v4.sqlite3"
    db = connect(f"embedded:{path}")
    oid, ref = ObjectId(), ObjectId()
    await db["articles"].insert_one({"_id": oid, "ref": ref, "when": BASE})
    await db.close()
    (text,) = raw_documents(path, "articles")
    ms = codec.datetime_to_ms(BASE)
    assert text == (f'{{"_id":"{TAG}o{codec.oid_text(oid)}","ref":"{TAG}o{codec.oid_text(ref)}",'
                    f'"when":"{TAG}d{ms}"}}')
    # schema 3: a four-byte tag (3 bytes more, three times), 24 hex digits (8 more, twice)
    # and 16 date digits (3 more)
    assert len(v3_text({"_id": oid, "ref": ref, "when": BASE}).encode()) - len(
        text.encode()) == 28


async def test_strings_that_start_with_the_tag_stay_strings(tmp_path):
    db = connect(f"embedded:{tmp_path}/tags.sqlite3")
    try:
        coll = db["things"]
        oid = ObjectId()
        lookalikes = [TAG, TAG + "o" + codec.oid_text(oid), TAG + "d1", TAG + "s" + TAG,
                      "a" + TAG, V3_TAG + "o" + str(oid)]
        plain = ["", "a", "z", "~", "\u00e9", V3_TAG + "x"]
        await coll.insert_many([{"n": i, "s": s} for i, s in enumerate(lookalikes + plain)])
        await coll.insert_one({"n": 99, "s": oid})
        await coll.create_index("s")
        for i, value in enumerate(lookalikes):
            found = await coll.find({"s": value}).to_list(None)
            assert [(d["n"], d["s"]) for d in found] == [(i, value)]
        assert [d["n"] for d in await coll.find({"s": oid}).to_list(None)] == [99]
        strings = await coll.find({"s": {"$gte": ""}}, sort=[("s", 1)]).to_list(None)
        assert [d["s"] for d in strings] == sorted(lookalikes + plain)
        assert await coll.count_documents({"s": {"$regex": "^" + TAG + "o", "$options": "i"}}) == 1
    finally:
        await db.close()


async def test_a_schema_3_file_is_brought_forward_with_everything_found(tmp_path):
    path = tmp_path / "v3.sqlite3"
    db = connect(f"embedded:{path}")
    coll = db["articles"]
    categories = [ObjectId() for _ in range(3)]
    tag = ObjectId()
    docs = [{"_id": ObjectId(), "n": i,
             "title": f"Article {i} about {'zebras' if i % 4 else 'cats'}",
             "category": categories[i % 3], "created": BASE + datetime.timedelta(hours=i),
             "tags": [tag] if i % 2 else [ObjectId()],
             "lines": [{"sku": f"s{i % 5}", "at": BASE}], "price": Decimal128(f"{i}.50"),
             "blob": Binary(bytes([i]), 5), "note": V3_TAG + "old tag" if i == 3 else
             TAG + "new tag" if i == 4 else "plain"} for i in range(40)]
    docs.append({"_id": ObjectId(), "n": 40, "created": datetime.datetime(1960, 5, 1, tzinfo=UTC),
                 "category": categories[0]})
    await coll.insert_many(docs)
    await coll.create_index([("category", 1), ("created", -1), ("_id", -1)])
    await coll.create_index("tags")
    await coll.create_search_index(["title"])
    await db.close()
    rewrite_as_schema_3(path, "articles")
    assert all(V3_TAG + "o" in text for text in raw_documents(path, "articles"))

    db = connect(f"embedded:{path}")
    try:
        coll = db["articles"]
        assert await coll.find({}, sort=[("n", 1)]).to_list(None) == docs
        page = await coll.find({"category": categories[0]},
                               sort=[("created", -1), ("_id", -1)]).to_list(None)
        assert [d["n"] for d in page] == [39, 36, 33, 30, 27, 24, 21, 18, 15, 12, 9, 6, 3, 0, 40]
        text = await query_plan(db, coll, {"category": categories[0]},
                                [("created", -1), ("_id", -1)])
        assert "USING INDEX i:articles:category_1_created_-1__id_-1" in text, text
        assert "TEMP B-TREE" not in text, text
        assert await coll.count_documents({"tags": tag}) == 20
        assert await coll.count_documents(
            {"created": {"$lt": BASE + datetime.timedelta(hours=5)}}) == 6
        assert await coll.count_documents({"_id": {"$gt": docs[29]["_id"]}}) == 11
        assert await coll.count_documents({"price": {"$gte": Decimal128("38.5")}}) == 2
        assert await coll.count_documents({"blob": Binary(bytes([7]), 5)}) == 1
        assert await coll.count_documents({"note": V3_TAG + "old tag"}) == 1
        assert await coll.count_documents({"note": TAG + "new tag"}) == 1
        assert await coll.count_documents({"lines.at": BASE}) == 40
        found = await coll.find({"title": {"$regex": "cats", "$options": "i"}}).to_list(None)
        assert sorted(d["n"] for d in found) == list(range(0, 40, 4))
        assert db.store.search_fields("articles") == ["title"]     # the search index too
        indexed = db.store.connection().execute(
            'SELECT count(*) FROM "s:articles" WHERE "s:articles" MATCH ?',
            (search.match_text("cats"),)).fetchone()[0]
        assert indexed == 10
        await coll.insert_one({"n": 41, "tags": [tag], "category": categories[0]})
        assert await coll.count_documents({"tags": tag}) == 21     # the side table is kept
        with pytest.raises(DuplicateKeyError):
            await coll.insert_one({"_id": docs[5]["_id"]})
    finally:
        await db.close()
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION == 4
        texts = [t for (t,) in raw.execute('SELECT doc FROM "c:articles"')]
        # the old tag is left only in the user string that holds it
        assert [t.count(V3_TAG) for t in texts if V3_TAG in t] == [1]
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        raw.close()


def test_a_rank_of_zero_still_counts_as_pinned_in_a_sort():
    """ObjectIds rank 0 (no byte in an index entry): a filter that fixes it leaves the
    rank out of ORDER BY as it does for any other rank."""
    assert codec.RANK_OID == 0
    order = sql.compile_sort([("_id", -1)], set(), {"_id": {"$lt": ObjectId()}})
    assert order == sql.index_columns("_id", -1)[1]
    order = sql.compile_sort([("n", -1)], set(), {"n": {"$lt": 5}})
    assert order == sql.index_columns("n", -1)[1]


async def test_ranks_of_object_ids_and_booleans_take_no_byte_in_an_index_entry(tmp_path):
    path = tmp_path / "ranks.sqlite3"
    db = connect(f"embedded:{path}")
    await db["flags"].insert_many([{"_id": ObjectId(), "on": i % 2 == 0} for i in range(500)])
    await db["flags"].create_index([("on", 1), ("_id", 1)])
    await db.close()
    raw = sqlite3.connect(path)
    try:
        payload, entries = raw.execute(
            "SELECT sum(payload), sum(ncell) FROM dbstat WHERE name=? AND pagetype='leaf'",
            ("i:flags:on_1__id_1",)).fetchone()
    finally:
        raw.close()
    # header (6) + rank 0 + key 0/1 + rank 0 + 16 characters + rowid (1 or 2 bytes): under
    # 24; ranks 8 and 7 took a byte each before (over 25)
    assert payload / entries < 24, payload / entries
