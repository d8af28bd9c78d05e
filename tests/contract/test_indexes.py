"""create_index / index_information, and unique indexes enforcing uniqueness on every write."""
import datetime

import pytest
from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

UTC = datetime.timezone.utc


async def everything(coll):
    return await coll.find({}, sort=[("_id", 1)]).to_list(None)


# -- creating and listing ------------------------------------------------------------

async def test_create_index_returns_mongodb_default_names(coll):
    assert await coll.create_index("email") == "email_1"
    assert await coll.create_index([("age", -1)]) == "age_-1"
    assert await coll.create_index([("last", 1), ("first", -1)]) == "last_1_first_-1"
    assert await coll.create_index("profile.city") == "profile.city_1"
    assert await coll.create_index([("nick", 1)], name="by_nick") == "by_nick"


async def test_index_information_lists_keys_and_the_unique_flag(coll):
    await coll.create_index("email", unique=True)
    await coll.create_index([("last", 1), ("first", -1)])
    info = await coll.index_information()
    assert set(info) == {"_id_", "email_1", "last_1_first_-1"}
    assert info["_id_"]["key"] == [("_id", 1)]
    assert info["email_1"]["key"] == [("email", 1)]
    assert info["email_1"]["unique"] is True
    assert info["last_1_first_-1"]["key"] == [("last", 1), ("first", -1)]
    assert not info["last_1_first_-1"].get("unique", False)


async def test_create_index_is_idempotent(coll):
    assert await coll.create_index("email", unique=True) == "email_1"
    await coll.insert_one({"email": "a@x.org"})
    assert await coll.create_index("email", unique=True) == "email_1"
    assert await coll.create_index([("email", 1)], unique=True) == "email_1"
    info = await coll.index_information()
    assert set(info) == {"_id_", "email_1"}
    assert info["email_1"]["unique"] is True
    assert await coll.count_documents({}) == 1


async def test_ttl_index_is_accepted(coll, ferretdb_deviates):
    ferretdb_deviates('createIndexes with "expireAfterSeconds" answers NotImplemented')
    name = await coll.create_index("created_at", expireAfterSeconds=3600)
    assert name == "created_at_1"
    info = await coll.index_information()
    assert info[name]["key"] == [("created_at", 1)]
    assert info[name]["expireAfterSeconds"] == 3600
    # documents well inside the delay stay
    await coll.insert_one({"_id": 1, "created_at": datetime.datetime.now(UTC)})
    assert await coll.count_documents({}) == 1


async def test_indexed_queries_give_the_same_answers(coll):
    await coll.insert_many([{"_id": i, "n": i % 5, "s": f"v{i % 3}"} for i in range(30)])
    before = await coll.find({"n": {"$gte": 3}, "s": "v1"}).sort("_id", 1).to_list(None)
    await coll.create_index("n")
    await coll.create_index([("s", 1), ("n", -1)])
    after = await coll.find({"n": {"$gte": 3}, "s": "v1"}).sort("_id", 1).to_list(None)
    assert after == before
    assert [d["_id"] for d in after] == [4, 13, 19, 28]


# -- unique indexes ------------------------------------------------------------------

@pytest.fixture
async def users(coll):
    await coll.create_index("email", unique=True)
    await coll.insert_many([{"_id": 1, "email": "ann@x.org"}, {"_id": 2, "email": "bob@x.org"}])
    return coll


async def assert_duplicate_rejected(coll, write):
    """``write`` fails with DuplicateKeyError (code 11000) and changes nothing.

    FerretDB v1 answers a unique violation by an update, a replacement or findAndModify
    with InternalError (code 1, "UNIQUE constraint failed"); core/db/mongo.py turns that
    into DuplicateKeyError, and these tests hold it to that.
    """
    before = await everything(coll)
    with pytest.raises(OperationFailure) as caught:
        await write
    assert await everything(coll) == before
    assert type(caught.value) is DuplicateKeyError
    assert caught.value.code == 11000


async def test_unique_index_rejects_a_duplicate_insert(users):
    await assert_duplicate_rejected(users, users.insert_one({"_id": 3, "email": "ann@x.org"}))


async def test_unique_index_rejects_an_upsert_that_would_duplicate(users):
    await assert_duplicate_rejected(
        users, users.update_one({"_id": 9}, {"$set": {"email": "bob@x.org"}}, upsert=True))


async def test_unique_index_rejects_an_update_to_a_taken_value(users):
    await assert_duplicate_rejected(
        users, users.update_one({"_id": 2}, {"$set": {"email": "ann@x.org", "other": 1}}))


async def test_unique_index_rejects_update_many_to_a_taken_value(users):
    await assert_duplicate_rejected(
        users, users.update_many({"_id": 2}, {"$set": {"email": "ann@x.org"}}))


async def test_unique_index_rejects_a_replacement_with_a_taken_value(users):
    await assert_duplicate_rejected(
        users, users.replace_one({"_id": 2}, {"email": "ann@x.org", "name": "bob"}))


async def test_unique_index_rejects_find_one_and_update_to_a_taken_value(users):
    await assert_duplicate_rejected(
        users, users.find_one_and_update({"_id": 2}, {"$set": {"email": "ann@x.org"}},
                                         return_document=ReturnDocument.AFTER))


async def test_unique_index_in_an_ordered_insert_many(users):
    with pytest.raises(BulkWriteError) as caught:
        await users.insert_many([{"_id": 3, "email": "cy@x.org"}, {"_id": 4, "email": "ann@x.org"},
                                 {"_id": 5, "email": "dee@x.org"}])
    assert [(e["index"], e["code"]) for e in caught.value.details["writeErrors"]] == [(1, 11000)]
    assert [d["_id"] for d in await everything(users)] == [1, 2, 3]


async def test_unique_index_allows_distinct_values_and_rewriting_your_own(users):
    await users.insert_one({"_id": 3, "email": "Ann@x.org"})  # case matters
    result = await users.update_one({"_id": 1}, {"$set": {"email": "ann@x.org", "n": 1}})
    assert result.matched_count == 1
    await users.update_one({"_id": 2}, {"$set": {"email": "bob2@x.org"}})
    await users.insert_one({"_id": 4, "email": "bob@x.org"})  # freed by the update
    await users.delete_one({"_id": 4})
    await users.insert_one({"_id": 5, "email": "bob@x.org"})  # freed by the delete
    assert await users.count_documents({}) == 4


async def test_unique_index_treats_int_and_float_as_the_same_value(coll):
    await coll.create_index("n", unique=True)
    await coll.insert_one({"_id": 1, "n": 1})
    with pytest.raises(DuplicateKeyError):
        await coll.insert_one({"_id": 2, "n": 1.0})
    await coll.insert_one({"_id": 3, "n": "1"})
    assert sorted(d["_id"] for d in await coll.find().to_list(None)) == [1, 3]


async def test_unique_index_counts_a_missing_field_as_null(coll, ferretdb_deviates):
    ferretdb_deviates("a unique index accepts several documents without the field")
    await coll.create_index("email", unique=True)
    await coll.insert_one({"_id": 1, "name": "no email"})
    with pytest.raises(DuplicateKeyError):
        await coll.insert_one({"_id": 2, "name": "no email either"})
    with pytest.raises(DuplicateKeyError):
        await coll.insert_one({"_id": 3, "email": None})
    assert [d["_id"] for d in await coll.find().to_list(None)] == [1]


async def test_compound_unique_index(coll):
    assert await coll.create_index([("org", 1), ("slug", 1)], unique=True) == "org_1_slug_1"
    await coll.insert_many([{"_id": 1, "org": "a", "slug": "home"},
                            {"_id": 2, "org": "b", "slug": "home"},
                            {"_id": 3, "org": "a", "slug": "about"}])
    await assert_duplicate_rejected(coll, coll.insert_one({"_id": 4, "org": "a", "slug": "home"}))
    info = await coll.index_information()
    assert info["org_1_slug_1"]["key"] == [("org", 1), ("slug", 1)]
    assert info["org_1_slug_1"]["unique"] is True
    await coll.update_one({"_id": 3}, {"$set": {"org": "c"}})  # (c, about) is free
    await assert_duplicate_rejected(
        coll, coll.update_one({"_id": 3}, {"$set": {"org": "b", "slug": "home"}}))


async def test_unique_index_on_a_dotted_path(coll):
    await coll.create_index("profile.handle", unique=True)
    await coll.insert_one({"_id": 1, "profile": {"handle": "ann"}})
    with pytest.raises(DuplicateKeyError):
        await coll.insert_one({"_id": 2, "profile": {"handle": "ann", "x": 1}})
    await coll.insert_one({"_id": 3, "profile": {"handle": "bob"}})
    assert await coll.count_documents({}) == 2


async def test_unique_index_over_existing_duplicates_fails(coll):
    await coll.insert_many([{"_id": 1, "k": "same"}, {"_id": 2, "k": "same"}])
    with pytest.raises(OperationFailure):
        await coll.create_index("k", unique=True)
    assert "k_1" not in await coll.index_information()
    # the failed index enforces nothing
    await coll.insert_one({"_id": 3, "k": "same"})
    assert await coll.count_documents({"k": "same"}) == 3
