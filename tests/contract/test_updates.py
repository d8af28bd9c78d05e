"""update_one / update_many: the update operators of the subset and UpdateResult."""
import datetime

import pytest
from bson import ObjectId
from pymongo.errors import WriteError
from pymongo.results import UpdateResult


async def doc(coll, _id=1):
    return await coll.find_one({"_id": _id})


def counts(result):
    assert isinstance(result, UpdateResult)
    return result.matched_count, result.modified_count, result.upserted_id


# -- $set ------------------------------------------------------------------------

async def test_set_changes_and_adds_fields(coll):
    await coll.insert_one({"_id": 1, "a": 1, "b": "x"})
    result = await coll.update_one({"_id": 1}, {"$set": {"a": 2, "c": [1, 2]}})
    assert counts(result) == (1, 1, None)
    assert await doc(coll) == {"_id": 1, "a": 2, "b": "x", "c": [1, 2]}


async def test_set_to_the_same_value_matches_but_does_not_modify(coll):
    await coll.insert_one({"_id": 1, "a": 1})
    assert counts(await coll.update_one({"_id": 1}, {"$set": {"a": 1}})) == (1, 0, None)
    assert await doc(coll) == {"_id": 1, "a": 1}


async def test_set_dotted_path_creates_sub_documents(coll):
    await coll.insert_one({"_id": 1, "profile": {"name": "ann"}})
    await coll.update_one({"_id": 1}, {"$set": {"profile.address.city": "Oslo",
                                                "settings.theme": "dark"}})
    assert await doc(coll) == {"_id": 1,
                               "profile": {"name": "ann", "address": {"city": "Oslo"}},
                               "settings": {"theme": "dark"}}
    await coll.update_one({"_id": 1}, {"$set": {"profile.name": "bea"}})
    assert (await doc(coll))["profile"] == {"name": "bea", "address": {"city": "Oslo"}}


async def test_set_a_whole_sub_document(coll):
    await coll.insert_one({"_id": 1, "profile": {"name": "ann", "age": 3}})
    await coll.update_one({"_id": 1}, {"$set": {"profile": {"nick": "an"}}})
    assert await doc(coll) == {"_id": 1, "profile": {"nick": "an"}}


async def test_set_through_a_scalar_fails_and_changes_nothing(coll):
    await coll.insert_one({"_id": 1, "a": 5})
    with pytest.raises(WriteError):
        await coll.update_one({"_id": 1}, {"$set": {"a.b": 1, "c": 2}})
    assert await doc(coll) == {"_id": 1, "a": 5}


async def test_set_a_named_field_through_an_array_fails_and_changes_nothing(coll):
    await coll.insert_one({"_id": 1, "comments": [{"author": "bob"}], "n": 1})
    with pytest.raises(WriteError):
        await coll.update_one({"_id": 1}, {"$set": {"comments.author": "cy", "n": 2}})
    assert await doc(coll) == {"_id": 1, "comments": [{"author": "bob"}], "n": 1}


# -- $unset ------------------------------------------------------------------------

async def test_unset_removes_fields(coll):
    await coll.insert_one({"_id": 1, "a": 1, "b": {"c": 2, "d": 3}, "e": None})
    result = await coll.update_one({"_id": 1}, {"$unset": {"a": "", "b.c": 1, "e": True}})
    assert counts(result) == (1, 1, None)
    assert await doc(coll) == {"_id": 1, "b": {"d": 3}}


async def test_unset_a_missing_field_modifies_nothing(coll):
    await coll.insert_one({"_id": 1, "a": 1})
    assert counts(await coll.update_one({"_id": 1}, {"$unset": {"zz": ""}})) == (1, 0, None)
    assert await doc(coll) == {"_id": 1, "a": 1}


# -- $inc --------------------------------------------------------------------------

async def test_inc(coll):
    await coll.insert_one({"_id": 1, "n": 5, "f": 1.5, "sub": {"k": 1}})
    result = await coll.update_one({"_id": 1}, {"$inc": {"n": -2, "f": 1, "sub.k": 10}})
    assert counts(result) == (1, 1, None)
    assert await doc(coll) == {"_id": 1, "n": 3, "f": 2.5, "sub": {"k": 11}}
    assert not isinstance((await doc(coll))["n"], (bool, float))


async def test_inc_a_missing_field_sets_it(coll):
    await coll.insert_one({"_id": 1})
    await coll.update_one({"_id": 1}, {"$inc": {"n": 3, "deep.m": 1}})
    assert await doc(coll) == {"_id": 1, "n": 3, "deep": {"m": 1}}


async def test_inc_a_string_fails_and_changes_nothing(coll):
    await coll.insert_one({"_id": 1, "name": "ann", "n": 1})
    with pytest.raises(WriteError):
        await coll.update_one({"_id": 1}, {"$inc": {"n": 1, "name": 1}})
    assert await doc(coll) == {"_id": 1, "name": "ann", "n": 1}


async def test_inc_a_null_fails_and_changes_nothing(coll):
    await coll.insert_one({"_id": 1, "n": None})
    with pytest.raises(WriteError):
        await coll.update_one({"_id": 1}, {"$inc": {"n": 1}})
    assert await doc(coll) == {"_id": 1, "n": None}


async def test_inc_mixing_int_and_float(coll):
    await coll.insert_one({"_id": 1, "i": 2, "f": 0.5})
    await coll.update_one({"_id": 1}, {"$inc": {"i": 0.5, "f": 2}})
    got = await doc(coll)
    assert got == {"_id": 1, "i": 2.5, "f": 2.5}
    assert type(got["i"]) is float and type(got["f"]) is float


async def test_inc_stays_exact_for_large_integers(coll):
    big = 2 ** 62
    await coll.insert_one({"_id": 1, "n": big})
    await coll.update_one({"_id": 1}, {"$inc": {"n": 1}})
    assert (await doc(coll))["n"] == big + 1


# -- array operators ---------------------------------------------------------------

async def test_push_appends_and_creates_the_array(coll):
    await coll.insert_one({"_id": 1, "tags": ["a"]})
    assert counts(await coll.update_one({"_id": 1}, {"$push": {"tags": "a"}})) == (1, 1, None)
    await coll.update_one({"_id": 1}, {"$push": {"tags": {"k": 1}, "new": 5}})
    assert await doc(coll) == {"_id": 1, "tags": ["a", "a", {"k": 1}], "new": [5]}


async def test_push_to_a_non_array_fails_and_changes_nothing(coll):
    await coll.insert_one({"_id": 1, "tags": "a"})
    with pytest.raises(WriteError):
        await coll.update_one({"_id": 1}, {"$push": {"tags": "b"}})
    assert await doc(coll) == {"_id": 1, "tags": "a"}


async def test_pull_removes_every_equal_element(coll):
    await coll.insert_one({"_id": 1, "tags": ["a", "b", "a", "c"], "nums": [1, 2.0, 2, 3]})
    result = await coll.update_one({"_id": 1}, {"$pull": {"tags": "a", "nums": 2}})
    assert counts(result) == (1, 1, None)
    assert await doc(coll) == {"_id": 1, "tags": ["b", "c"], "nums": [1, 3]}
    assert counts(await coll.update_one({"_id": 1}, {"$pull": {"tags": "zz"}})) == (1, 0, None)


async def test_add_to_set_adds_only_missing_values(coll):
    await coll.insert_one({"_id": 1, "tags": ["a"]})
    assert counts(await coll.update_one({"_id": 1}, {"$addToSet": {"tags": "b"}})) == (1, 1, None)
    assert counts(await coll.update_one({"_id": 1}, {"$addToSet": {"tags": "a"}})) == (1, 0, None)
    await coll.update_one({"_id": 1}, {"$addToSet": {"fresh": "x"}})
    assert await doc(coll) == {"_id": 1, "tags": ["a", "b"], "fresh": ["x"]}


async def test_add_to_set_and_pull_use_mongodb_equality(coll):
    when = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    await coll.insert_one({"_id": 1, "nums": [1], "flags": [True], "subs": [{"k": 1}],
                           "dates": [when]})
    assert counts(await coll.update_one({"_id": 1}, {"$addToSet": {"nums": 1.0}})) == (1, 0, None)
    assert counts(await coll.update_one({"_id": 1}, {"$addToSet": {"flags": 1}})) == (1, 1, None)
    assert counts(await coll.update_one({"_id": 1}, {"$addToSet": {"subs": {"k": 1}}})) == (
        1, 0, None)
    assert counts(await coll.update_one(
        {"_id": 1}, {"$addToSet": {"dates": when.replace(microsecond=400)}})) == (1, 0, None)
    assert await doc(coll) == {"_id": 1, "nums": [1], "flags": [True, 1], "subs": [{"k": 1}],
                               "dates": [when]}
    await coll.update_one({"_id": 1}, {"$pull": {"flags": True}})
    assert (await doc(coll))["flags"] == [1]


# -- upserts and $setOnInsert --------------------------------------------------------

async def test_upsert_inserts_filter_equalities_set_and_set_on_insert(coll):
    result = await coll.update_one(
        {"email": "a@x.org", "profile.kind": "staff", "n": {"$gt": 1}},
        {"$set": {"name": "ann"}, "$setOnInsert": {"created": 1}, "$inc": {"logins": 1}},
        upsert=True)
    matched, modified, upserted_id = counts(result)
    assert (matched, modified) == (0, 0)
    assert isinstance(upserted_id, ObjectId)
    assert await coll.find_one({}, {"_id": 0}) == {
        "email": "a@x.org", "profile": {"kind": "staff"}, "name": "ann", "created": 1,
        "logins": 1}
    assert (await coll.find_one({}))["_id"] == upserted_id


async def test_set_on_insert_is_ignored_when_the_upsert_matches(coll):
    await coll.insert_one({"_id": 1, "email": "a@x.org", "created": 0})
    result = await coll.update_one(
        {"email": "a@x.org"},
        {"$set": {"name": "ann"}, "$setOnInsert": {"created": 1}}, upsert=True)
    assert counts(result) == (1, 1, None)
    assert await doc(coll) == {"_id": 1, "email": "a@x.org", "created": 0, "name": "ann"}
    # only $setOnInsert and a match: nothing to do
    result = await coll.update_one({"email": "a@x.org"}, {"$setOnInsert": {"created": 2}},
                                   upsert=True)
    assert counts(result) == (1, 0, None)
    assert await coll.count_documents({}) == 1


async def test_upsert_with_an_id_in_the_filter_uses_it(coll):
    result = await coll.update_one({"_id": "k1"}, {"$inc": {"n": 1}}, upsert=True)
    assert counts(result) == (0, 0, "k1")
    result = await coll.update_one({"_id": "k1"}, {"$inc": {"n": 1}}, upsert=True)
    assert counts(result) == (1, 1, None)
    assert await doc(coll, "k1") == {"_id": "k1", "n": 2}


async def test_update_without_match_or_upsert_changes_nothing(coll):
    await coll.insert_one({"_id": 1, "a": 1})
    assert counts(await coll.update_one({"_id": 2}, {"$set": {"a": 2}})) == (0, 0, None)
    assert counts(await coll.update_many({"a": 9}, {"$set": {"a": 2}})) == (0, 0, None)
    assert await coll.find({}).to_list(None) == [{"_id": 1, "a": 1}]


# -- update_one vs update_many ---------------------------------------------------------

async def test_update_one_changes_a_single_document(coll):
    await coll.insert_many([{"_id": i, "group": "g", "n": 0} for i in range(3)])
    assert counts(await coll.update_one({"group": "g"}, {"$inc": {"n": 1}})) == (1, 1, None)
    assert sorted(d["n"] for d in await coll.find().to_list(None)) == [0, 0, 1]


async def test_update_many_changes_every_match_and_counts_modifications(coll):
    await coll.insert_many([{"_id": 1, "g": "a", "s": "new"}, {"_id": 2, "g": "a", "s": "old"},
                            {"_id": 3, "g": "a", "s": "new"}, {"_id": 4, "g": "b", "s": "new"}])
    result = await coll.update_many({"g": "a"}, {"$set": {"s": "old"}})
    assert counts(result) == (3, 2, None)
    assert await coll.count_documents({"s": "old"}) == 3
    assert (await doc(coll, 4))["s"] == "new"


async def test_update_many_upsert_inserts_one_document(coll):
    result = await coll.update_many({"g": "z"}, {"$set": {"s": 1}}, upsert=True)
    assert result.matched_count == 0
    assert isinstance(result.upserted_id, ObjectId)
    assert await coll.find({}, {"_id": 0}).to_list(None) == [{"g": "z", "s": 1}]


async def test_several_operators_in_one_update(coll):
    await coll.insert_one({"_id": 1, "a": 1, "b": 2, "n": 1, "tags": ["x"], "set": ["p"]})
    await coll.update_one({"_id": 1}, {
        "$set": {"a": "A"}, "$unset": {"b": ""}, "$inc": {"n": 4},
        "$push": {"tags": "y"}, "$addToSet": {"set": "p"}})
    assert await doc(coll) == {"_id": 1, "a": "A", "n": 5, "tags": ["x", "y"], "set": ["p"]}


async def test_updates_keep_the_id(coll):
    oid = (await coll.insert_one({"a": 1})).inserted_id
    await coll.update_one({"_id": oid}, {"$set": {"a": 2}})
    await coll.replace_one({"_id": oid}, {"a": 3})
    assert await coll.find({}).to_list(None) == [{"_id": oid, "a": 3}]
