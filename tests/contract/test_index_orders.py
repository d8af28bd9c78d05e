"""Indexes with descending keys (which the embedded store lays out reversed, with compact
ObjectId and date keys) answer every sort and range exactly as MongoDB does, on every
backend: both directions, a pinned prefix, mixed types, dates before 1970, ties on _id."""
import datetime

import pytest
from bson import ObjectId

UTC = datetime.timezone.utc
BASE = datetime.datetime(1969, 12, 31, 23, 59, 59, 998000, tzinfo=UTC)   # across the epoch


@pytest.fixture
async def articles(db):
    coll = db["articles"]
    await coll.create_index([("category", 1), ("created", -1), ("_id", -1)])
    await coll.create_index([("created", -1), ("_id", -1)])
    ids = sorted(ObjectId() for _ in range(12))
    await coll.insert_many([
        {"_id": oid, "n": n, "category": ["a", "b", "c"][n % 3],
         "created": BASE + datetime.timedelta(milliseconds=n // 2)}     # pairs share a time
        for n, oid in enumerate(ids)])
    return coll


def expected(docs, sort):
    for path, direction in reversed(sort):
        docs = sorted(docs, key=lambda doc: doc[path], reverse=direction == -1)
    return [doc["n"] for doc in docs]


@pytest.mark.parametrize("flt", [{}, {"category": "b"},
                                 {"created": {"$gte": BASE + datetime.timedelta(milliseconds=2)}},
                                 {"created": {"$lt": datetime.datetime(1970, 1, 1, tzinfo=UTC)}}])
@pytest.mark.parametrize("sort", [[("created", -1), ("_id", -1)], [("created", 1), ("_id", 1)],
                                  [("category", 1), ("created", -1), ("_id", -1)],
                                  [("category", -1), ("created", 1), ("_id", 1)]])
async def test_sorts_and_ranges_over_descending_indexes(articles, flt, sort):
    everything = await articles.find({}).to_list(None)
    matching = [doc for doc in everything if all(
        doc[path] == cond if not isinstance(cond, dict) else
        all({"$gte": doc[path] >= v, "$lt": doc[path] < v}[op] for op, v in cond.items())
        for path, cond in flt.items())]
    got = [doc["n"] for doc in await articles.find(flt, sort=sort).to_list(None)]
    assert got == expected(matching, sort)


async def test_object_id_and_date_bounds_select_the_same_documents(articles):
    docs = await articles.find({}, sort=[("_id", 1)]).to_list(None)
    assert await articles.count_documents({"_id": {"$gt": docs[5]["_id"]}}) == 6
    assert await articles.count_documents({"_id": {"$lte": docs[5]["_id"]}}) == 6
    assert await articles.count_documents({"created": BASE}) == 2
    assert await articles.count_documents({"created": {"$in": [BASE, docs[4]["created"]]}}) == 4
    assert await articles.count_documents({"created": {"$gt": "text"}}) == 0     # bracketing
    assert await articles.count_documents({"_id": {"$lt": 10 ** 12}}) == 0
