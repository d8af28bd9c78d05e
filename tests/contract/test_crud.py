"""Inserts, reads (find/cursor/find_one), replace_one, deletes, counts and distinct."""
import datetime

import pytest
from bson import Decimal128, ObjectId
from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError, WriteError
from pymongo.results import DeleteResult, InsertManyResult, InsertOneResult, UpdateResult


async def fill(coll, count=20):
    """Insert ``count`` documents ``{_id: i, n: i, parity: 'even'|'odd'}``."""
    await coll.insert_many([{"_id": i, "n": i, "parity": "odd" if i % 2 else "even"}
                            for i in range(count)])


async def ids(cursor):
    return [doc["_id"] for doc in await cursor.to_list(None)]


# -- insert_one / insert_many ------------------------------------------------

async def test_insert_one_assigns_an_objectid_into_the_document(coll):
    doc = {"name": "ann"}
    result = await coll.insert_one(doc)
    assert isinstance(result, InsertOneResult)
    assert result.acknowledged
    assert isinstance(result.inserted_id, ObjectId)
    assert doc["_id"] == result.inserted_id
    stored = await coll.find_one({"_id": result.inserted_id})
    assert stored == {"_id": result.inserted_id, "name": "ann"}


@pytest.mark.parametrize("given_id", ["user-1", 42])
async def test_insert_one_keeps_a_given_id_and_its_type(coll, given_id):
    result = await coll.insert_one({"_id": given_id, "name": "ann"})
    assert result.inserted_id == given_id
    stored = await coll.find_one({"_id": given_id})
    assert stored["_id"] == given_id
    assert type(stored["_id"]) is type(given_id)
    # a str id and an int id are different values
    other = str(given_id) if isinstance(given_id, int) else 1
    assert await coll.find_one({"_id": other}) is None


async def test_insert_one_with_a_taken_id_raises_duplicate_key(coll):
    await coll.insert_one({"_id": "x", "v": 1})
    with pytest.raises(DuplicateKeyError):
        await coll.insert_one({"_id": "x", "v": 2})
    assert await coll.find({}).to_list(None) == [{"_id": "x", "v": 1}]


async def test_insert_many_returns_ids_in_order(coll):
    docs = [{"n": 1}, {"_id": "given", "n": 2}, {"n": 3}]
    result = await coll.insert_many(docs)
    assert isinstance(result, InsertManyResult)
    assert result.inserted_ids == [docs[0]["_id"], "given", docs[2]["_id"]]
    assert isinstance(docs[0]["_id"], ObjectId) and isinstance(docs[2]["_id"], ObjectId)
    assert docs[0]["_id"] != docs[2]["_id"]
    assert await coll.count_documents({}) == 3


async def test_ordered_insert_many_stops_at_a_duplicate_and_keeps_earlier_docs(coll):
    docs = [{"_id": 1}, {"_id": 2}, {"_id": 1, "dup": True}, {"_id": 3}]
    with pytest.raises(BulkWriteError) as caught:
        await coll.insert_many(docs)
    details = caught.value.details
    assert details["nInserted"] == 2
    assert [(e["index"], e["code"]) for e in details["writeErrors"]] == [(2, 11000)]
    assert await ids(coll.find({}, sort=[("_id", 1)])) == [1, 2]
    assert await coll.find_one({"_id": 1}) == {"_id": 1}


async def test_a_duplicate_deep_in_a_long_insert_many_is_found_where_it_is(
        coll, ferretdb_deviates):
    """Long batches go to the store in chunks (the embedded store: one statement per
    chunk); a duplicate in a later chunk still stops an ordered insert exactly there,
    and nothing of what it did not insert (an array field) stays behind."""
    ferretdb_deviates("an ordered insert_many of 600 with a duplicate at 400 reports "
                      "nInserted 500")
    docs = [{"_id": i, "n": i} for i in range(600)]
    docs[400] = {"_id": 7, "n": 400}
    for doc in docs[401:]:
        doc["later"] = [doc["n"], 0]
    with pytest.raises(BulkWriteError) as caught:
        await coll.insert_many([dict(d) for d in docs])
    assert caught.value.details["nInserted"] == 400
    assert [(e["index"], e["code"]) for e in caught.value.details["writeErrors"]] == [
        (400, 11000)]
    assert await coll.count_documents({}) == 400
    # "later" never held an array in a stored document: it sorts
    assert len(await coll.find({}, sort=[("later", 1)]).to_list(None)) == 400

    await coll.delete_many({})
    with pytest.raises(BulkWriteError) as caught:
        await coll.insert_many([dict(d) for d in docs], ordered=False)
    assert caught.value.details["nInserted"] == 599
    assert [e["index"] for e in caught.value.details["writeErrors"]] == [400]
    assert await coll.count_documents({"later": 0}) == 199


# -- find, projection, cursor ------------------------------------------------

async def test_find_filters(coll):
    await fill(coll)
    assert await ids(coll.find({"parity": "odd", "n": {"$lt": 6}}, sort=[("n", 1)])) == [1, 3, 5]
    assert await coll.find({"parity": "none"}).to_list(None) == []


async def test_find_without_filter_returns_everything(coll):
    await fill(coll, 5)
    assert sorted(await ids(coll.find())) == [0, 1, 2, 3, 4]
    assert sorted(await ids(coll.find({}))) == [0, 1, 2, 3, 4]


@pytest.fixture
async def person(coll):
    doc = {"_id": 1, "name": "ann", "secret": "s3", "address": {"city": "Oslo", "zip": "0150"},
           "tags": ["a", "b"]}
    await coll.insert_one(doc)
    return doc


@pytest.mark.parametrize("projection, expected", [
    ({"name": 1}, {"_id": 1, "name": "ann"}),
    ({"name": 1, "tags": True}, {"_id": 1, "name": "ann", "tags": ["a", "b"]}),
    (["name"], {"_id": 1, "name": "ann"}),
    ({"name": 1, "_id": 0}, {"name": "ann"}),
    ({"_id": 0}, {"name": "ann", "secret": "s3", "address": {"city": "Oslo", "zip": "0150"},
                  "tags": ["a", "b"]}),
    ({"secret": 0}, {"_id": 1, "name": "ann", "address": {"city": "Oslo", "zip": "0150"},
                     "tags": ["a", "b"]}),
    ({"secret": 0, "tags": 0, "_id": 0}, {"name": "ann",
                                          "address": {"city": "Oslo", "zip": "0150"}}),
    ({"address.city": 1}, {"_id": 1, "address": {"city": "Oslo"}}),
    ({"address.zip": 0, "secret": 0, "tags": 0},
     {"_id": 1, "name": "ann", "address": {"city": "Oslo"}}),
    ({"missing": 1}, {"_id": 1}),
], ids=["include", "include-true", "list", "include-no-id", "only-no-id", "exclude",
        "exclude-with-id", "include-dotted", "exclude-dotted", "include-missing"])
async def test_find_projection(coll, person, projection, expected):
    assert await coll.find({}, projection).to_list(None) == [expected]
    assert await coll.find_one({"_id": 1}, projection) == expected


async def test_projection_tells_a_null_member_from_an_absent_one(coll):
    await coll.insert_many([
        {"_id": 1, "a": None, "b": "null", "c": 1},
        {"_id": 2, "b": None},
        {"_id": 3, "a": {"x": None}, "b": [None], "c": "x"},
        {"_id": 4, "a": 0, "b": "", "c": False}])
    found = await coll.find({}, {"a": 1, "b": 1}, sort=[("_id", 1)]).to_list(None)
    assert found == [{"_id": 1, "a": None, "b": "null"}, {"_id": 2, "b": None},
                     {"_id": 3, "a": {"x": None}, "b": [None]}, {"_id": 4, "a": 0, "b": ""}]
    assert await coll.find({}, {"_id": 1}, sort=[("_id", 1)]).to_list(None) == [
        {"_id": n} for n in (1, 2, 3, 4)]
    assert await coll.find({}, {"a": 1, "_id": 0}, sort=[("_id", 1)]).to_list(None) == [
        {"a": None}, {}, {"a": {"x": None}}, {"a": 0}]


async def test_projection_keeps_each_type(coll):
    oid, moment = ObjectId(), datetime.datetime(2024, 2, 29, 23, 59, 59, 999000,
                                                tzinfo=datetime.timezone.utc)
    doc = {"_id": oid, "when": moment, "raw": b"\x00\x01", "text": "\x7fd123",
           "n": 2 ** 62, "f": 1.5, "nested": {"when": moment, "at": [oid]}}
    await coll.insert_one(doc)
    got = await coll.find_one({}, {name: 1 for name in doc if name != "_id"})
    assert got == doc and isinstance(got["when"], datetime.datetime)
    assert await coll.find_one({}, {"text": 1, "_id": 0}) == {"text": "\x7fd123"}


async def test_projection_keeps_a_decimal(coll, ferretdb_deviates):
    # FerretDB v1 refuses Decimal128 on the wire (and drops the connection)
    ferretdb_deviates("FerretDB v1 has no Decimal128 type")
    await coll.insert_one({"_id": 1, "price": Decimal128("12.50"), "n": 1})
    got = await coll.find_one({}, {"price": 1, "_id": 0})
    assert got == {"price": Decimal128("12.50")} and type(got["price"]) is Decimal128


async def test_projection_through_an_array_of_sub_documents(coll):
    await coll.insert_one({"_id": 1, "title": "t", "comments": [
        {"author": "bob", "votes": 3}, {"author": "cy", "votes": 9}, {"votes": 1}]})
    assert await coll.find_one({}, {"comments.author": 1, "_id": 0}) == {
        "comments": [{"author": "bob"}, {"author": "cy"}, {}]}
    assert await coll.find_one({}, {"comments.votes": 0}) == {
        "_id": 1, "title": "t", "comments": [{"author": "bob"}, {"author": "cy"}, {}]}


async def test_sort_on_one_key_both_directions(coll):
    await coll.insert_many([{"_id": i, "n": n} for i, n in enumerate([5, 1, 4, 2, 3])])
    assert [d["n"] for d in await coll.find().sort("n", 1).to_list(None)] == [1, 2, 3, 4, 5]
    assert [d["n"] for d in await coll.find().sort("n", -1).to_list(None)] == [5, 4, 3, 2, 1]
    assert [d["n"] for d in await coll.find().sort([("n", -1)]).to_list(None)] == [5, 4, 3, 2, 1]
    assert [d["n"] for d in await coll.find(sort=[("n", 1)]).to_list(None)] == [1, 2, 3, 4, 5]
    # a bare key sorts ascending
    assert [d["n"] for d in await coll.find().sort("n").to_list(None)] == [1, 2, 3, 4, 5]


async def test_sort_on_two_keys_with_mixed_directions(coll):
    rows = [("b", 1), ("a", 2), ("b", 3), ("a", 1), ("c", 0), ("b", 2)]
    await coll.insert_many([{"g": g, "n": n} for g, n in rows])
    got = [(d["g"], d["n"]) for d in await coll.find().sort([("g", 1), ("n", -1)]).to_list(None)]
    assert got == [("a", 2), ("a", 1), ("b", 3), ("b", 2), ("b", 1), ("c", 0)]
    got = [(d["g"], d["n"]) for d in await coll.find().sort([("g", -1), ("n", 1)]).to_list(None)]
    assert got == [("c", 0), ("b", 1), ("b", 2), ("b", 3), ("a", 1), ("a", 2)]


async def test_sort_on_a_dotted_path_puts_missing_first(coll):
    await coll.insert_many([{"_id": 1, "a": {"n": 2}}, {"_id": 2, "a": {"n": 1}}, {"_id": 3}])
    assert await ids(coll.find().sort("a.n", 1)) == [3, 2, 1]
    assert await ids(coll.find().sort("a.n", -1)) == [1, 2, 3]


async def test_skip_and_limit(coll):
    await fill(coll)
    assert await ids(coll.find().sort("n", 1).skip(17)) == [17, 18, 19]
    assert await ids(coll.find().sort("n", 1).limit(3)) == [0, 1, 2]
    assert await ids(coll.find().sort("n", 1).limit(0)) == list(range(20))  # 0 = no limit
    assert await ids(coll.find().sort("n", 1).skip(25)) == []
    assert await ids(coll.find({}, sort=[("n", -1)], skip=2, limit=3)) == [17, 16, 15]


async def test_chained_sort_skip_limit_pages_through_results(coll):
    await fill(coll)
    pages = []
    for page in range(4):
        cursor = coll.find({"parity": "even"}).sort([("n", -1)]).skip(page * 3).limit(3)
        pages.append(await ids(cursor))
    assert pages == [[18, 16, 14], [12, 10, 8], [6, 4, 2], [0]]


async def test_to_list_length_fetches_in_batches(coll):
    await fill(coll, 5)
    cursor = coll.find().sort("n", 1)
    assert [d["n"] for d in await cursor.to_list(2)] == [0, 1]
    assert [d["n"] for d in await cursor.to_list(2)] == [2, 3]
    assert [d["n"] for d in await cursor.to_list(None)] == [4]
    assert await cursor.to_list(None) == []


async def test_to_list_length_respects_skip_and_limit(coll):
    await fill(coll)
    cursor = coll.find().sort("n", 1).skip(3).limit(5)
    assert [d["n"] for d in await cursor.to_list(3)] == [3, 4, 5]
    assert [d["n"] for d in await cursor.to_list(3)] == [6, 7]
    assert await cursor.to_list(3) == []


async def test_async_for_iterates_the_cursor(coll):
    await fill(coll, 6)
    seen = [doc["n"] async for doc in coll.find({"parity": "odd"}).sort("n", -1)]
    assert seen == [5, 3, 1]


async def test_async_for_over_many_documents_returns_each_once(coll):
    await coll.insert_many([{"_id": i, "g": i % 3} for i in range(250)])
    unsorted = [doc["_id"] async for doc in coll.find()]
    assert sorted(unsorted) == list(range(250))
    # a sort key with many ties: still every document exactly once, in key order
    tied = [doc async for doc in coll.find().sort("g", 1)]
    assert sorted(doc["_id"] for doc in tied) == list(range(250))
    assert [doc["g"] for doc in tied] == sorted(doc["g"] for doc in tied)
    window = [doc["_id"] async for doc in coll.find().sort("_id", -1).skip(10).limit(200)]
    assert window == list(range(239, 39, -1))


async def test_async_for_visits_every_match_while_the_loop_updates_them(coll):
    # a cursor is one query: documents the loop takes out of the filter must not shift
    # the documents still to come
    await coll.insert_many([{"_id": i, "state": "queued"} for i in range(250)])
    visited = []
    async for doc in coll.find({"state": "queued"}).sort("_id", 1):
        visited.append(doc["_id"])
        await coll.update_one({"_id": doc["_id"]}, {"$set": {"state": "done"}})
    assert visited == list(range(250))
    assert await coll.count_documents({"state": "queued"}) == 0


async def test_async_for_visits_every_document_while_the_loop_deletes_them(coll):
    await coll.insert_many([{"_id": i} for i in range(250)])
    visited = []
    async for doc in coll.find({}).sort("_id", 1):
        visited.append(doc["_id"])
        await coll.delete_one({"_id": doc["_id"]})
    assert visited == list(range(250))
    assert await coll.count_documents({}) == 0


async def test_find_one_with_sort_and_no_match(coll):
    await fill(coll, 10)
    assert (await coll.find_one({}, sort=[("n", -1)]))["n"] == 9
    assert (await coll.find_one({"parity": "odd"}, sort=[("n", 1)]))["n"] == 1
    assert (await coll.find_one({"parity": "even"}, {"_id": 0}, sort=[("n", -1)])) == {
        "n": 8, "parity": "even"}
    assert await coll.find_one({"n": 99}) is None


async def test_find_one_on_an_empty_collection_returns_none(db):
    assert await db["empty"].find_one({}) is None
    assert await db["empty"].find_one() is None
    assert await db["empty"].find({}).to_list(None) == []


# -- replace_one -------------------------------------------------------------

async def test_replace_one_keeps_the_id_and_drops_old_fields(coll):
    oid = (await coll.insert_one({"name": "ann", "age": 30})).inserted_id
    result = await coll.replace_one({"name": "ann"}, {"name": "bea", "city": "Oslo"})
    assert isinstance(result, UpdateResult)
    assert (result.matched_count, result.modified_count, result.upserted_id) == (1, 1, None)
    assert await coll.find({}).to_list(None) == [{"_id": oid, "name": "bea", "city": "Oslo"}]


async def test_replace_one_replaces_only_one_document(coll):
    await coll.insert_many([{"_id": 1, "k": "x"}, {"_id": 2, "k": "x"}])
    result = await coll.replace_one({"k": "x"}, {"k": "y"})
    assert result.matched_count == 1
    assert await coll.count_documents({"k": "x"}) == 1
    assert await coll.count_documents({"k": "y"}) == 1


async def test_replace_one_without_match(coll):
    await coll.insert_one({"_id": 1, "k": "x"})
    result = await coll.replace_one({"k": "nope"}, {"k": "y"})
    assert (result.matched_count, result.modified_count, result.upserted_id) == (0, 0, None)
    assert await coll.find({}).to_list(None) == [{"_id": 1, "k": "x"}]


async def test_replace_one_upsert_inserts(coll):
    result = await coll.replace_one({"k": "x"}, {"k": "x", "n": 1}, upsert=True)
    assert (result.matched_count, result.modified_count) == (0, 0)
    assert isinstance(result.upserted_id, ObjectId)
    assert await coll.find({}).to_list(None) == [{"_id": result.upserted_id, "k": "x", "n": 1}]
    # a second upsert matches the document it inserted
    again = await coll.replace_one({"k": "x"}, {"k": "x", "n": 2}, upsert=True)
    assert (again.matched_count, again.modified_count, again.upserted_id) == (1, 1, None)
    assert await coll.count_documents({}) == 1


async def test_replace_one_may_repeat_the_same_id_but_not_change_it(coll):
    await coll.insert_one({"_id": 1, "k": "x"})
    result = await coll.replace_one({"_id": 1}, {"_id": 1, "k": "y"})
    assert result.modified_count == 1
    with pytest.raises(WriteError):
        await coll.replace_one({"_id": 1}, {"_id": 2, "k": "z"})
    assert await coll.find({}).to_list(None) == [{"_id": 1, "k": "y"}]


# -- find_one_and_update -----------------------------------------------------

async def test_find_one_and_update_returns_the_document_before_by_default(coll):
    await coll.insert_one({"_id": 1, "n": 1})
    before = await coll.find_one_and_update({"_id": 1}, {"$inc": {"n": 1}})
    assert before == {"_id": 1, "n": 1}
    before = await coll.find_one_and_update({"_id": 1}, {"$inc": {"n": 1}},
                                            return_document=ReturnDocument.BEFORE)
    assert before == {"_id": 1, "n": 2}
    assert await coll.find_one({"_id": 1}) == {"_id": 1, "n": 3}


async def test_find_one_and_update_return_document_after(coll):
    await coll.insert_one({"_id": 1, "n": 1})
    after = await coll.find_one_and_update({"_id": 1}, {"$inc": {"n": 5}, "$set": {"s": "x"}},
                                           return_document=ReturnDocument.AFTER)
    assert after == {"_id": 1, "n": 6, "s": "x"}


async def test_find_one_and_update_without_match_returns_none_and_changes_nothing(coll):
    await coll.insert_one({"_id": 1, "n": 1})
    assert await coll.find_one_and_update({"_id": 2}, {"$set": {"n": 9}}) is None
    assert await coll.find_one_and_update({"_id": 2}, {"$set": {"n": 9}},
                                          return_document=ReturnDocument.AFTER) is None
    assert await coll.find({}).to_list(None) == [{"_id": 1, "n": 1}]


async def test_find_one_and_update_sort_picks_the_document(coll):
    await coll.insert_many([{"_id": i, "n": n, "state": "new"}
                            for i, n in enumerate([3, 9, 1, 7])])
    first = await coll.find_one_and_update({"state": "new"}, {"$set": {"state": "taken"}},
                                           sort=[("n", -1)], return_document=ReturnDocument.AFTER)
    assert first == {"_id": 1, "n": 9, "state": "taken"}
    second = await coll.find_one_and_update({"state": "new"}, {"$set": {"state": "taken"}},
                                            sort=[("n", 1)])
    assert second == {"_id": 2, "n": 1, "state": "new"}
    assert sorted(await ids(coll.find({"state": "taken"}))) == [1, 2]


async def test_find_one_and_update_upsert(coll):
    after = await coll.find_one_and_update({"k": "x"}, {"$set": {"n": 1}}, upsert=True,
                                           return_document=ReturnDocument.AFTER)
    assert isinstance(after["_id"], ObjectId)
    assert {k: v for k, v in after.items() if k != "_id"} == {"k": "x", "n": 1}
    # BEFORE on an upsert that inserts returns None (there was no document before)
    before = await coll.find_one_and_update({"k": "y"}, {"$set": {"n": 2}}, upsert=True)
    assert before is None
    assert await coll.count_documents({}) == 2
    assert (await coll.find_one({"k": "y"}, {"_id": 0})) == {"k": "y", "n": 2}


async def test_find_one_and_update_projection(coll):
    # FerretDB v1 has no findAndModify "fields"; core.db.mongo projects in Python
    await coll.insert_one({"_id": 1, "n": 1, "secret": "s"})
    got = await coll.find_one_and_update({"_id": 1}, {"$inc": {"n": 1}}, projection={"n": 1},
                                         return_document=ReturnDocument.AFTER)
    assert got == {"_id": 1, "n": 2}
    got = await coll.find_one_and_update({"_id": 1}, {"$inc": {"n": 1}},
                                         projection={"secret": 0, "_id": 0})
    assert got == {"n": 2}
    assert await coll.find_one({"_id": 1}) == {"_id": 1, "n": 3, "secret": "s"}


# -- delete ------------------------------------------------------------------

async def test_delete_one_deletes_one_match(coll):
    await fill(coll, 6)
    result = await coll.delete_one({"parity": "odd"})
    assert isinstance(result, DeleteResult)
    assert result.deleted_count == 1
    assert await coll.count_documents({"parity": "odd"}) == 2
    assert await coll.count_documents({}) == 5
    assert (await coll.delete_one({"parity": "none"})).deleted_count == 0
    assert await coll.count_documents({}) == 5


async def test_delete_many_deletes_every_match(coll):
    await fill(coll, 6)
    result = await coll.delete_many({"parity": "odd"})
    assert isinstance(result, DeleteResult)
    assert result.deleted_count == 3
    assert sorted(await ids(coll.find())) == [0, 2, 4]
    assert (await coll.delete_many({"parity": "odd"})).deleted_count == 0
    assert (await coll.delete_many({})).deleted_count == 3
    assert await coll.find().to_list(None) == []


# -- counts and distinct -----------------------------------------------------

async def test_count_documents_with_filter_skip_and_limit(coll):
    await fill(coll)
    assert await coll.count_documents({}) == 20
    assert await coll.count_documents({"parity": "odd"}) == 10
    assert await coll.count_documents({"n": {"$gte": 15}}) == 5
    assert await coll.count_documents({}, limit=5) == 5
    assert await coll.count_documents({}, skip=18) == 2
    assert await coll.count_documents({}, skip=5, limit=10) == 10
    assert await coll.count_documents({}, skip=15, limit=10) == 5
    assert await coll.count_documents({"parity": "odd"}, skip=8, limit=5) == 2
    assert await coll.count_documents({"parity": "none"}) == 0


async def test_estimated_document_count(coll):
    assert await coll.estimated_document_count() == 0
    await fill(coll)
    assert await coll.estimated_document_count() == 20
    await coll.delete_many({"parity": "odd"})
    assert await coll.estimated_document_count() == 10


async def test_distinct_flattens_arrays_and_respects_the_filter(coll):
    await coll.insert_many([
        {"kind": "post", "tags": ["a", "b"], "author": {"name": "ann"}},
        {"kind": "post", "tags": "c", "author": {"name": "bob"}},
        {"kind": "page", "tags": ["b", "d"], "author": {"name": "ann"}},
        {"kind": "post", "tags": []},
        {"kind": "page"},
    ])
    assert sorted(await coll.distinct("tags")) == ["a", "b", "c", "d"]
    assert sorted(await coll.distinct("tags", {"kind": "post"})) == ["a", "b", "c"]
    assert sorted(await coll.distinct("author.name")) == ["ann", "bob"]
    assert sorted(await coll.distinct("kind")) == ["page", "post"]
    assert await coll.distinct("nothing") == []
    assert await coll.distinct("kind", {"kind": "none"}) == []


async def test_distinct_keeps_numbers_and_strings_apart(coll):
    await coll.insert_many([{"v": 1}, {"v": 1.0}, {"v": "1"}, {"v": 2}, {"v": None}])
    values = await coll.distinct("v")
    assert len(values) == 4  # 1 and 1.0 are the same value; "1" and None are not numbers
    assert sorted(v for v in values if isinstance(v, (int, float))) == [1, 2]
    assert "1" in values and None in values


# -- database and collection lifecycle ---------------------------------------------

async def test_database_lists_and_drops_collections(db):
    await db.ping()
    assert db["a"] is db.get_collection("a")
    await db["a"].insert_one({"_id": 1, "k": 1})
    await db["b"].create_index("k", unique=True)
    await db["b"].insert_one({"_id": 1, "k": 1})
    assert {"a", "b"} <= set(await db.list_collection_names())
    await db["a"].delete_many({})
    assert await db["b"].count_documents({}) == 1  # collections are separate

    await db.drop_collection("b")
    assert "b" not in await db.list_collection_names()
    assert await db["b"].count_documents({}) == 0
    # the dropped collection's indexes went with it
    await db["b"].insert_many([{"k": 1}, {"k": 1}])
    assert set(await db["b"].index_information()) == {"_id_"}


async def test_collection_drop_removes_documents_and_indexes(db):
    coll = db["c"]
    await coll.create_index("k", unique=True)
    await coll.insert_one({"k": 1})
    await coll.drop()
    assert await coll.count_documents({}) == 0
    assert await coll.estimated_document_count() == 0
    await coll.insert_many([{"k": 1}, {"k": 1}])
    assert await coll.count_documents({"k": 1}) == 2
