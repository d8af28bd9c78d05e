"""Input outside the written-down subset fails the same way on every backend:
``UnsupportedOperation``, raised before any data is read or changed."""
import datetime
import decimal

import pytest
from bson.decimal128 import Decimal128

from core.db import UnsupportedOperation

SEED = [
    {"_id": 1, "name": "ann", "n": 1, "tags": ["x", "y"], "profile": {"city": "Oslo"}},
    {"_id": 2, "name": "bob", "n": 2, "tags": ["z"], "profile": {"city": "Rome"}},
]


@pytest.fixture
async def seeded(coll):
    await coll.insert_many([dict(doc) for doc in SEED])
    return coll


async def assert_untouched(coll):
    assert await coll.find({}, sort=[("_id", 1)]).to_list(None) == SEED
    assert set(await coll.index_information()) == {"_id_"}


async def rejects(call):
    """``call()`` raises UnsupportedOperation, whether it returns a cursor or a coroutine."""
    with pytest.raises(UnsupportedOperation):
        result = call()
        if hasattr(result, "to_list"):
            await result.to_list(None)
        else:
            await result


BAD_FILTERS = {
    "$where": {"$where": "this.n > 1"},
    "$expr": {"$expr": {"$gt": ["$n", 1]}},
    "$elemMatch": {"tags": {"$elemMatch": {"$eq": "x"}}},
    "$size": {"tags": {"$size": 2}},
    "$all": {"tags": {"$all": ["x", "y"]}},
    "$type": {"n": {"$type": "int"}},
    "$text": {"$text": {"$search": "ann"}},
    "positional-path": {"tags.0": "x"},
    "positional-path-in-$or": {"$or": [{"name": "ann"}, {"tags.1": "y"}]},
    "$-field-segment": {"profile.$city": "Oslo"},
    "operator-injected-into-$eq": {"name": {"$eq": {"$gt": ""}}},
    "operator-injected-into-$in": {"name": {"$in": [{"$gt": ""}]}},
    "operators-mixed-with-fields": {"name": {"$gt": "", "first": "ann"}},
    "sub-document-equality": {"profile": {"city": "Oslo"}},
    "empty-$or": {"$or": []},
    "$and-not-a-list": {"$and": {"name": "ann"}},
    "$in-not-a-list": {"name": {"$in": "ann"}},
    "$exists-not-a-bool": {"name": {"$exists": 1}},
    "$not-of-a-value": {"name": {"$not": "ann"}},
    "$regex-bad-option": {"name": {"$regex": "a", "$options": "g"}},
    "$regex-invalid": {"name": {"$regex": "a("}},
    "$options-without-$regex": {"name": {"$options": "i"}},
    "empty-operator-document": {"name": {"$not": {}}},
    "bytearray-value": {"name": bytearray(b"ann")},
    "decimal128-nan": {"n": Decimal128("NaN")},
    "nan": {"n": float("nan")},
    "not-a-dict": [("name", "ann")],
}


@pytest.mark.parametrize("flt", BAD_FILTERS.values(), ids=BAD_FILTERS.keys())
async def test_filters_outside_the_subset_are_rejected_everywhere(seeded, flt):
    coll = seeded
    await rejects(lambda: coll.find(flt))
    await rejects(lambda: coll.find_one(flt))
    await rejects(lambda: coll.count_documents(flt))
    await rejects(lambda: coll.distinct("name", flt))
    await rejects(lambda: coll.update_one(flt, {"$set": {"hit": True}}))
    await rejects(lambda: coll.update_many(flt, {"$set": {"hit": True}}, upsert=True))
    await rejects(lambda: coll.replace_one(flt, {"name": "hit"}, upsert=True))
    await rejects(lambda: coll.find_one_and_update(flt, {"$set": {"hit": True}}, upsert=True))
    await rejects(lambda: coll.delete_one(flt))
    await rejects(lambda: coll.delete_many(flt))
    await assert_untouched(coll)


async def test_an_operator_where_a_string_belongs_is_a_valid_filter(seeded):
    # {"name": {"$gt": ""}} is a legal range query: turning request input into such a
    # filter is the caller's bug, which is why handlers validate types first
    assert await seeded.count_documents({"name": {"$gt": ""}}) == 2


BAD_UPDATES = {
    "no-operators": {"name": "hit"},
    "operators-and-fields": {"$set": {"name": "hit"}, "n": 5},
    "empty": {},
    "empty-$set": {"$set": {}},
    "$rename": {"$rename": {"name": "nick"}},
    "$mul": {"$mul": {"n": 2}},
    "$currentDate": {"$currentDate": {"at": True}},
    "$pop": {"$pop": {"tags": 1}},
    "valid-then-$rename": {"$set": {"name": "hit"}, "$rename": {"n": "m"}},
    "positional-path": {"$set": {"tags.0": "hit"}},
    "positional-$": {"$set": {"tags.$": "hit"}},
    "positional-$[]": {"$inc": {"tags.$[]": 1}},
    "operator-injected-as-value": {"$set": {"name": {"$gt": ""}}},
    "dotted-key-in-value": {"$set": {"profile": {"a.b": 1}}},
    "set-_id": {"$set": {"_id": 5}},
    "conflicting-paths": {"$set": {"n": 1}, "$unset": {"n": ""}},
    "parent-and-child-path": {"$set": {"profile": {}, "profile.city": "Oslo"}},
    "$inc-by-string": {"$inc": {"n": "1"}},
    "$inc-by-bool": {"$inc": {"n": True}},
    "$pull-with-condition": {"$pull": {"tags": {"$in": ["x"]}}},
    "unsupported-value": {"$set": {"price": decimal.Decimal("1.5")}},
    "$set-not-a-dict": {"$set": [("name", "hit")]},
}


@pytest.mark.parametrize("update", BAD_UPDATES.values(), ids=BAD_UPDATES.keys())
async def test_updates_outside_the_subset_change_nothing(seeded, update):
    coll = seeded
    await rejects(lambda: coll.update_one({"_id": 1}, update))
    await rejects(lambda: coll.update_many({}, update, upsert=True))
    await rejects(lambda: coll.update_one({"_id": 99}, update, upsert=True))
    await rejects(lambda: coll.find_one_and_update({"_id": 1}, update, upsert=True))
    await assert_untouched(coll)


BAD_DOCUMENTS = {
    "operator-injected-as-value": {"name": {"$gt": ""}},
    "$-field": {"$where": "1"},
    "dotted-field": {"a.b": 1},
    "empty-field-name": {"": 1},
    "bytearray": {"v": bytearray(b"\x00")},
    "decimal128-infinity": {"v": Decimal128("-Infinity")},
    "set": {"v": {1, 2}},
    "decimal": {"v": decimal.Decimal("1.5")},
    "date-without-time": {"v": datetime.date(2024, 1, 1)},
    "nan": {"v": float("nan")},
    "infinity": {"v": float("inf")},
    "non-string-key": {1: "one"},
    "nested-bad-value": {"v": [{"ok": 1}, {"bad": object()}]},
}


@pytest.mark.parametrize("doc", BAD_DOCUMENTS.values(), ids=BAD_DOCUMENTS.keys())
async def test_documents_outside_the_subset_are_not_stored(seeded, doc):
    coll = seeded
    await rejects(lambda: coll.insert_one(dict(doc)))
    await rejects(lambda: coll.insert_many([{"_id": 10}, dict(doc), {"_id": 11}]))
    await rejects(lambda: coll.replace_one({"_id": 1}, dict(doc)))
    await assert_untouched(coll)


def test_a_refused_value_is_named_by_its_dotted_path():
    from bson import Binary, ObjectId

    from core.db import subset
    storable = {"s": "x", "b": True, "none": None, "id": ObjectId(), "raw": b"\x00",
                "bin": Binary(b"x", 4), "when": datetime.datetime(2024, 1, 1), "n": 2 ** 62}
    assert subset.check_document(storable) is storable
    with pytest.raises(UnsupportedOperation, match=r"document\.a\.b: NaN"):
        subset.check_document({"ok": "x", "a": {"b": float("nan")}})
    with pytest.raises(UnsupportedOperation, match=r"document\.v: type date"):
        subset.check_document({"id": ObjectId(), "v": datetime.date(2024, 1, 1)})


async def test_replacement_with_operators_is_rejected(seeded):
    await rejects(lambda: seeded.replace_one({"_id": 1}, {"$set": {"name": "hit"}}))
    await rejects(lambda: seeded.replace_one({"_id": 1}, {"name": "hit", "$inc": {"n": 1}}))
    await assert_untouched(seeded)


async def test_integers_beyond_64_bits_overflow_everywhere(seeded):
    with pytest.raises(OverflowError):
        await seeded.insert_one({"n": 2 ** 63})
    with pytest.raises(OverflowError):
        await seeded.update_one({"_id": 1}, {"$set": {"n": -(2 ** 63) - 1}})
    with pytest.raises(OverflowError):
        await seeded.find({"n": 2 ** 64}).to_list(None)
    await assert_untouched(seeded)


@pytest.mark.parametrize("sort", [
    [("n", 2)], [("n", 0)], [("n", True)], [("n", "asc")], [("tags.0", 1)], [("$natural", 1)],
    ["n"], [("", 1)],
], ids=["2", "0", "bool", "string", "positional", "$natural", "bare-key-in-list", "empty"])
async def test_sorts_outside_the_subset(seeded, sort):
    await rejects(lambda: seeded.find({}).sort(sort))
    await rejects(lambda: seeded.find({}, sort=sort))
    await rejects(lambda: seeded.find_one({}, sort=sort))
    await rejects(lambda: seeded.find_one_and_update({}, {"$set": {"hit": 1}}, sort=sort))
    await assert_untouched(seeded)


@pytest.mark.parametrize("projection", [
    {"name": 1, "n": 0}, {"name": 2}, {"name": "yes"}, {"tags": {"$slice": 1}},
    {"tags.0": 1}, {"$natural": 1}, "name",
], ids=["mixed", "2", "string", "$slice", "positional", "$field", "bare-string"])
async def test_projections_outside_the_subset(seeded, projection):
    await rejects(lambda: seeded.find({}, projection))
    await rejects(lambda: seeded.find_one({}, projection))
    await rejects(lambda: seeded.find_one_and_update({"_id": 1}, {"$set": {"hit": 1}},
                                                     projection=projection))
    await assert_untouched(seeded)


async def test_paths_outside_the_subset_in_distinct_and_indexes(seeded):
    await rejects(lambda: seeded.distinct("tags.0"))
    await rejects(lambda: seeded.distinct("$name"))
    await rejects(lambda: seeded.create_index("tags.0"))
    await rejects(lambda: seeded.create_index([("name", 2)]))
    await rejects(lambda: seeded.create_index([]))
    await assert_untouched(seeded)


async def test_ttl_index_must_be_single_field_and_not_unique(seeded):
    await rejects(lambda: seeded.create_index("at", unique=True, expireAfterSeconds=60))
    await rejects(lambda: seeded.create_index([("at", 1), ("n", 1)], expireAfterSeconds=60))
    await assert_untouched(seeded)
