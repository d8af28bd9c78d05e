"""Filter semantics, as MongoDB defines them, on every backend."""
import datetime
import re

import pytest
from bson import ObjectId

from core.db.embedded.codec import TAG

UTC = datetime.timezone.utc


async def matching(coll, flt):
    """The sorted ``_id``s of the documents ``flt`` matches (checked three ways)."""
    found = sorted(doc["_id"] for doc in await coll.find(flt).to_list(None))
    assert await coll.count_documents(flt) == len(found)
    assert len(await coll.find(flt, ["_id"]).to_list(None)) == len(found)
    return found


# -- missing vs null ---------------------------------------------------------

@pytest.fixture
async def nullish(coll):
    await coll.insert_many([
        {"_id": 1, "f": None},
        {"_id": 2},
        {"_id": 3, "f": 0},
        {"_id": 4, "f": ""},
        {"_id": 5, "f": False},
    ])


@pytest.mark.parametrize("flt, expected", [
    ({"f": None}, [1, 2]),
    ({"f": {"$eq": None}}, [1, 2]),
    ({"f": {"$exists": False}}, [2]),
    ({"f": {"$exists": True}}, [1, 3, 4, 5]),
    ({"f": {"$ne": None}}, [3, 4, 5]),
    ({"f": {"$in": [None, 0]}}, [1, 2, 3]),
    ({"f": {"$nin": [None]}}, [3, 4, 5]),
    ({"f": 0}, [3]),
    ({"f": False}, [5]),
    ({"f": ""}, [4]),
], ids=["eq-null", "$eq-null", "not-exists", "exists", "ne-null", "in-null", "nin-null",
        "zero", "false", "empty-string"])
async def test_missing_and_null(coll, nullish, flt, expected):
    assert await matching(coll, flt) == expected


# -- arrays ------------------------------------------------------------------

@pytest.fixture
async def tagged(coll):
    await coll.insert_many([
        {"_id": 1, "tags": ["x", "y"]},
        {"_id": 2, "tags": ["y", "x"]},
        {"_id": 3, "tags": ["z"]},
        {"_id": 4, "tags": "x"},
        {"_id": 5, "tags": []},
        {"_id": 6},
    ])


@pytest.mark.parametrize("flt, expected", [
    ({"tags": "x"}, [1, 2, 4]),
    ({"tags": {"$eq": "y"}}, [1, 2]),
    ({"tags": ["x", "y"]}, [1]),
    ({"tags": ["y", "x"]}, [2]),
    ({"tags": ["x"]}, []),
    ({"tags": []}, [5]),
    ({"tags": {"$in": ["x", "z"]}}, [1, 2, 3, 4]),
    ({"tags": {"$in": ["nothing"]}}, []),
    ({"tags": {"$nin": ["x"]}}, [3, 5, 6]),
    ({"tags": {"$ne": "x"}}, [3, 5, 6]),
    ({"tags": {"$ne": ["x", "y"]}}, [2, 3, 4, 5, 6]),
    ({"tags": {"$gt": "x"}}, [1, 2, 3]),
    ({"tags": {"$in": []}}, []),
    ({"tags": {"$nin": []}}, [1, 2, 3, 4, 5, 6]),
], ids=["scalar-in-array", "$eq-in-array", "whole-array", "whole-array-order",
        "array-prefix", "empty-array", "$in", "$in-none", "$nin", "$ne-scalar", "$ne-array",
        "$gt-element", "$in-empty", "$nin-empty"])
async def test_array_fields(coll, tagged, flt, expected):
    assert await matching(coll, flt) == expected


# -- dotted paths --------------------------------------------------------------

@pytest.fixture
async def posts(coll):
    await coll.insert_many([
        {"_id": 1, "author": {"name": "ann", "age": 30},
         "comments": [{"author": "bob", "votes": 3}, {"author": "cy", "votes": 9}]},
        {"_id": 2, "author": {"name": "bob", "age": 40},
         "comments": [{"author": "ann", "votes": 1}]},
        {"_id": 3, "author": {"name": "cy"}, "comments": []},
        {"_id": 4, "author": "dee"},
        {"_id": 5},
    ])


@pytest.mark.parametrize("flt, expected", [
    ({"author.name": "ann"}, [1]),
    ({"author.age": {"$gte": 35}}, [2]),
    ({"author.age": {"$exists": True}}, [1, 2]),
    ({"author.name": None}, [4, 5]),
    ({"comments.author": "bob"}, [1]),
    ({"comments.author": {"$in": ["ann", "cy"]}}, [1, 2]),
    ({"comments.votes": {"$gt": 5}}, [1]),
    ({"comments.votes": {"$lt": 2}}, [2]),
    ({"comments.author": {"$exists": False}}, [3, 4, 5]),
], ids=["subdoc", "subdoc-$gte", "subdoc-exists", "subdoc-null", "array-of-subdocs",
        "array-of-subdocs-$in", "array-of-subdocs-$gt", "array-of-subdocs-$lt",
        "array-of-subdocs-not-exists"])
async def test_dotted_paths(coll, posts, flt, expected):
    assert await matching(coll, flt) == expected


async def test_ne_and_nin_through_an_array_of_subdocuments(coll, posts, ferretdb_deviates):
    ferretdb_deviates("$ne/$nin on a dotted path through an array of sub-documents also "
                      "returns documents where some element equals the value")
    # {"a.b": {"$ne": v}} is "not {"a.b": v}": no element may match
    assert await matching(coll, {"comments.author": {"$ne": "bob"}}) == [2, 3, 4, 5]
    assert await matching(coll, {"comments.author": {"$nin": ["bob", "ann"]}}) == [3, 4, 5]


# -- comparison ------------------------------------------------------------------

@pytest.fixture
async def mixed(coll):
    await coll.insert_many([
        {"_id": 1, "n": 3},
        {"_id": 2, "n": 7},
        {"_id": 3, "n": 5.5},
        {"_id": 4, "n": "9"},
        {"_id": 5, "n": "abc"},
        {"_id": 6, "n": None},
        {"_id": 7, "n": True},
        {"_id": 8},
        {"_id": 9, "n": 5},
    ])


@pytest.mark.parametrize("flt, expected", [
    ({"n": {"$gt": 5}}, [2, 3]),
    ({"n": {"$gte": 5}}, [2, 3, 9]),
    ({"n": {"$lt": 5}}, [1]),
    ({"n": {"$lte": 5.0}}, [1, 9]),
    ({"n": {"$gt": 3, "$lt": 7}}, [3, 9]),
    ({"n": {"$gt": "5"}}, [4, 5]),
    ({"n": {"$lt": "b"}}, [4, 5]),
    ({"n": {"$gte": None}}, [6, 8]),
    ({"n": 5}, [9]),
    ({"n": 5.0}, [9]),
    ({"n": {"$ne": 5}}, [1, 2, 3, 4, 5, 6, 7, 8]),
], ids=["$gt", "$gte", "$lt", "$lte-float", "range", "$gt-string", "$lt-string",
        "$gte-null", "eq-int", "eq-float", "$ne"])
async def test_comparison_is_type_bracketed(coll, mixed, flt, expected):
    assert await matching(coll, flt) == expected


async def test_string_comparison_is_binary(coll):
    await coll.insert_many([{"_id": i, "s": s} for i, s in enumerate(["a", "b", "c", "B", "ab"])])
    assert await matching(coll, {"s": {"$gt": "b"}}) == [2]
    assert await matching(coll, {"s": {"$gte": "b"}}) == [1, 2]
    assert await matching(coll, {"s": {"$lt": "a"}}) == [3]  # "B" < "a"
    assert await matching(coll, {"s": {"$gt": "a", "$lt": "b"}}) == [4]


async def test_datetime_comparison(coll):
    base = datetime.datetime(2024, 1, 1, tzinfo=UTC)
    await coll.insert_many([{"_id": d, "at": base + datetime.timedelta(days=d)}
                            for d in range(5)])
    await coll.insert_one({"_id": 99, "at": "2024-01-03"})
    day2 = base + datetime.timedelta(days=2)
    assert await matching(coll, {"at": {"$gt": day2}}) == [3, 4]
    assert await matching(coll, {"at": {"$gte": day2}}) == [2, 3, 4]
    assert await matching(coll, {"at": {"$lt": day2}}) == [0, 1]
    assert await matching(coll, {"at": {"$lte": day2, "$gt": base}}) == [1, 2]
    assert await matching(coll, {"at": day2}) == [2]
    # the same instant given in another timezone
    plus2 = datetime.timezone(datetime.timedelta(hours=2))
    assert await matching(coll, {"at": day2.astimezone(plus2)}) == [2]


async def test_objectid_comparison(coll):
    oids = [ObjectId(f"{i:08x}" + "0" * 16) for i in (1, 2, 3, 4)]
    await coll.insert_many([{"_id": i, "ref": oid} for i, oid in enumerate(oids)])
    await coll.insert_one({"_id": 9, "ref": str(oids[2])})
    assert await matching(coll, {"ref": {"$gt": oids[1]}}) == [2, 3]
    assert await matching(coll, {"ref": {"$gte": oids[1]}}) == [1, 2, 3]
    assert await matching(coll, {"ref": {"$lt": oids[1]}}) == [0]
    assert await matching(coll, {"ref": {"$lte": oids[1]}}) == [0, 1]
    assert await matching(coll, {"ref": oids[2]}) == [2]
    assert await matching(coll, {"ref": {"$in": [oids[0], oids[3]]}}) == [0, 3]


async def test_objectid_ids_sort_and_compare_by_creation(coll):
    first = (await coll.insert_one({"k": 1})).inserted_id
    second = (await coll.insert_one({"k": 2})).inserted_id
    assert [d["k"] for d in await coll.find({}, sort=[("_id", 1)]).to_list(None)] == [1, 2]
    assert [d["k"] for d in await coll.find({"_id": {"$gt": first}}).to_list(None)] == [2]
    assert [d["k"] for d in await coll.find({"_id": {"$lt": second}}).to_list(None)] == [1]


# -- logical operators -----------------------------------------------------------

@pytest.mark.parametrize("flt, expected", [
    ({"$and": [{"n": {"$gt": 3}}, {"n": {"$lt": 7}}]}, [3, 9]),
    ({"$and": [{"n": {"$gte": 5}}]}, [2, 3, 9]),
    ({"$or": [{"n": 3}, {"n": "abc"}]}, [1, 5]),
    ({"$or": [{"n": 3}, {"missing": {"$exists": False}}]}, [1, 2, 3, 4, 5, 6, 7, 8, 9]),
    ({"$nor": [{"n": {"$lt": 6}}, {"n": None}]}, [2, 4, 5, 7]),
    ({"n": {"$not": {"$gt": 5}}}, [1, 4, 5, 6, 7, 8, 9]),
    ({"n": {"$not": {"$regex": "^a"}}}, [1, 2, 3, 4, 6, 7, 8, 9]),
    ({"$or": [{"$and": [{"n": {"$gt": 1}}, {"n": {"$lt": 4}}]}, {"n": "9"}]}, [1, 4]),
    ({"n": {"$gt": 3}, "$or": [{"_id": 2}, {"_id": 9}]}, [2, 9]),
], ids=["$and", "$and-one", "$or", "$or-always", "$nor", "$not", "$not-regex", "nested",
        "field-and-$or"])
async def test_logical_operators(coll, mixed, flt, expected):
    assert await matching(coll, flt) == expected


# -- $regex ------------------------------------------------------------------------

@pytest.fixture
async def named(coll):
    await coll.insert_many([
        {"_id": 1, "name": "A.B (C)* shop"},
        {"_id": 2, "name": "axb (c)* shop"},
        {"_id": 3, "name": "a.b c shop"},
        {"_id": 4, "name": "the a.b (c)*"},
        {"_id": 5, "name": 123},
        {"_id": 6, "name": ["zz", "a.b (c)* in a list"]},
        {"_id": 7},
    ])


async def test_regex_with_escaped_user_text_matches_literally_and_ignores_case(coll, named):
    pattern = re.escape("a.b (c)*")
    assert await matching(coll, {"name": {"$regex": pattern, "$options": "i"}}) == [1, 4, 6]
    assert await matching(coll, {"name": {"$regex": pattern}}) == [4, 6]


async def test_regex_literal_text_with_sql_wildcards_and_backslashes(coll):
    texts = ["50%_off", "50% off", "500_off", "5000off", "a\\b", "a/b", "C:\\Temp"]
    await coll.insert_many([{"_id": i, "s": t} for i, t in enumerate(texts)])
    for options in ("", "i"):
        for i, text in enumerate(texts):
            flt = {"s": {"$regex": re.escape(text), "$options": options}}
            assert await matching(coll, flt) == [i], (text, options)
    assert await matching(coll, {"s": {"$regex": re.escape("c:\\temp"), "$options": "i"}}) == [6]
    assert await matching(coll, {"s": {"$regex": re.escape("c:\\temp")}}) == []


async def test_regex_on_non_ascii_text(coll):
    await coll.insert_many([{"_id": 1, "s": "Ærøskøbing"}, {"_id": 2, "s": "ærø"},
                            {"_id": 3, "s": "Zürich"}, {"_id": 4, "s": "zurich"}])
    assert await matching(coll, {"s": {"$regex": re.escape("ærø"), "$options": "i"}}) == [1, 2]
    assert await matching(coll, {"s": {"$regex": re.escape("ærø")}}) == [2]
    assert await matching(coll, {"s": {"$regex": "^zü", "$options": "i"}}) == [3]
    assert await matching(coll, {"s": {"$regex": "ü"}}) == [3]


async def test_regex_sees_only_the_string_itself(coll):
    # a string that starts with the embedded store's tag (stored escaped), a date and an
    # ObjectId never match a regex on anything but a string's own characters
    await coll.insert_many([
        {"_id": 1, "s": TAG + "abc"},
        {"_id": 2, "s": datetime.datetime(2024, 1, 1, tzinfo=UTC)},
        {"_id": 3, "s": ObjectId("5f0000000000000000000000")},
        {"_id": 4, "s": "plain s"},
    ])
    assert await matching(coll, {"s": {"$regex": "s"}}) == [4]
    assert await matching(coll, {"s": {"$regex": "S", "$options": "i"}}) == [4]
    assert await matching(coll, {"s": {"$regex": "5f"}}) == []
    assert await matching(coll, {"s": {"$regex": "d"}}) == []
    assert await matching(coll, {"s": {"$regex": "abc"}}) == [1]
    assert await matching(coll, {"s": {"$regex": "^" + TAG + "a"}}) == [1]


async def test_anchored_regex(coll, named):
    assert await matching(coll, {"name": {"$regex": "^a"}}) == [2, 3, 6]
    assert await matching(coll, {"name": {"$regex": "^a", "$options": "i"}}) == [1, 2, 3, 6]
    assert await matching(coll, {"name": {"$regex": r"\*$"}}) == [4]
    assert await matching(coll, {"name": {"$regex": "^zz$"}}) == [6]
    assert await matching(coll, {"name": {"$regex": "^shop"}}) == []


async def test_regex_never_matches_numbers_or_missing_fields(coll, named):
    assert await matching(coll, {"name": {"$regex": "1"}}) == []
    assert await matching(coll, {"name": {"$regex": ""}}) == [1, 2, 3, 4, 6]


async def test_regex_options(coll):
    await coll.insert_many([{"_id": 1, "t": "first\nSecond"}, {"_id": 2, "t": "second"}])
    assert await matching(coll, {"t": {"$regex": "^second"}}) == [2]
    assert await matching(coll, {"t": {"$regex": "^second", "$options": "im"}}) == [1, 2]
    assert await matching(coll, {"t": {"$regex": "first.second", "$options": "is"}}) == [1]
    assert await matching(coll, {"t": {"$regex": "first.second", "$options": "i"}}) == []


async def test_regex_extended_option(coll, ferretdb_deviates):
    ferretdb_deviates("$options 'x' answers NotImplemented")
    await coll.insert_many([{"_id": 1, "t": "first\nSecond"}, {"_id": 2, "t": "second"}])
    assert await matching(coll, {"t": {"$regex": "sec ond # comment", "$options": "x"}}) == [2]


# -- mixed-type sort ---------------------------------------------------------------

async def test_mixed_type_sort_follows_mongodb_order(coll):
    oid = ObjectId("5f0000000000000000000000")
    when = datetime.datetime(2024, 1, 1, tzinfo=UTC)
    await coll.insert_many([
        {"_id": 1, "v": when},
        {"_id": 2, "v": True},
        {"_id": 3, "v": "b"},
        {"_id": 4, "v": 10},
        {"_id": 5, "v": oid},
        {"_id": 6, "v": None},
        {"_id": 7, "v": "a"},
        {"_id": 8, "v": 2.5},
        {"_id": 9, "v": False},
        {"_id": 10},
        {"_id": 11, "v": -1},
    ])
    # null and missing compare equal: _id breaks the tie
    ascending = [d["_id"] for d in await coll.find().sort([("v", 1), ("_id", 1)]).to_list(None)]
    assert ascending == [6, 10, 11, 8, 4, 7, 3, 5, 9, 2, 1]
    descending = [d["_id"] for d in await coll.find().sort([("v", -1), ("_id", 1)]).to_list(None)]
    assert descending == [1, 2, 9, 5, 3, 7, 4, 8, 11, 6, 10]


async def test_strings_sort_by_code_point(coll):
    words = ["b", "B", "a", "A", "é", "z", "Z", "ä", "", "aa", TAG + "x", "🦊"]
    await coll.insert_many([{"_id": i, "w": w} for i, w in enumerate(words)])
    got = [d["w"] for d in await coll.find().sort("w", 1).to_list(None)]
    assert got == ["", "A", "B", "Z", "a", "aa", "b", "z", TAG + "x", "ä", "é", "🦊"]


async def test_ints_and_floats_sort_together(coll):
    await coll.insert_many([{"_id": i, "n": n} for i, n in enumerate([2, 1.5, -3, 10, 0.25, 7])])
    got = [d["n"] for d in await coll.find().sort("n", 1).to_list(None)]
    assert got == [-3, 0.25, 1.5, 2, 7, 10]


async def test_range_query_with_sort_skip_limit(coll):
    await coll.insert_many([{"_id": i, "n": i % 7, "s": f"item{i:02d}"} for i in range(30)])
    cursor = coll.find({"n": {"$gte": 2, "$lte": 4}}, {"s": 1, "_id": 0}).sort(
        [("n", -1), ("s", 1)]).skip(3).limit(4)
    assert await cursor.to_list(None) == [
        {"s": "item25"}, {"s": "item03"}, {"s": "item10"}, {"s": "item17"}]
