"""Indexes on paths that hold arrays (multikey indexes): a query through the index finds
exactly what a scan finds, on every backend, before and after the index exists and
through every kind of write (insert, update, replacement, delete)."""
import pytest

ORDERS = [
    {"_id": 1, "lines": [{"sku": "pen", "qty": 1}, {"sku": "ink", "qty": 2}], "tags": ["a", "b"]},
    {"_id": 2, "lines": [{"sku": "ink", "qty": 5}], "tags": "a"},
    {"_id": 3, "lines": {"sku": "pen"}, "tags": []},                 # a sub-document, no array
    {"_id": 4, "lines": [], "tags": ["c"]},
    {"_id": 5},
    {"_id": 6, "lines": [{"sku": 7}, {"sku": ["pad", "pen"]}], "tags": ["d"]},
    {"_id": 7, "lines": [{"title": "no sku"}, "loose"], "tags": ["A"]},
]

QUERIES = [
    ({"lines.sku": "pen"}, [1, 3, 6]),
    ({"lines.sku": "ink"}, [1, 2]),
    ({"lines.sku": 7}, [6]),
    ({"lines.sku": "pad"}, [6]),
    ({"lines.sku": {"$in": ["ink", "pad"]}}, [1, 2, 6]),
    ({"lines.sku": {"$in": ["pen", 7]}}, [1, 3, 6]),
    ({"lines.sku": {"$ne": "pen"}}, [2, 4, 5, 7]),
    ({"lines.sku": {"$nin": ["ink", "pen"]}}, [4, 5, 7]),
    ({"lines.sku": "lamp"}, []),
    ({"tags": "a"}, [1, 2]),
    ({"tags": {"$in": ["c", "d"]}}, [4, 6]),
    ({"tags": ["a", "b"]}, [1]),
    ({"$or": [{"tags": "b"}, {"lines.sku": 7}]}, [1, 6]),
    ({"lines.sku": "pen", "tags": "a"}, [1]),
]


async def ids(coll, flt):
    return [doc["_id"] for doc in await coll.find(flt, sort=[("_id", 1)]).to_list(None)]


@pytest.fixture
async def orders(coll):
    await coll.insert_many([dict(doc) for doc in ORDERS])
    return coll


@pytest.mark.parametrize("flt, expected", QUERIES)
async def test_an_index_on_an_array_path_finds_what_a_scan_finds(
        orders, flt, expected, ferretdb_deviates):
    if any(op in str(flt) for op in ("$ne", "$nin")) and "lines" in str(flt):
        ferretdb_deviates("$ne/$nin on a path through an array of sub-documents matches "
                          "documents where some element holds the value")
    assert await ids(orders, flt) == expected
    await orders.create_index("lines.sku")
    await orders.create_index([("tags", 1), ("_id", 1)])
    assert await ids(orders, flt) == expected
    assert await orders.count_documents(flt) == len(expected)


async def test_the_index_follows_every_write(coll):
    await coll.create_index("lines.sku")
    await coll.create_index("tags")
    await coll.insert_many([{"_id": 1, "lines": [{"sku": "pen"}], "tags": ["x"]},
                            {"_id": 2, "lines": {"sku": "ink"}, "tags": "y"}])
    await coll.insert_one({"_id": 3, "lines": [{"sku": "ink"}, {"sku": "pad"}]})
    assert await ids(coll, {"lines.sku": "ink"}) == [2, 3]
    await coll.update_one({"_id": 1}, {"$push": {"lines": {"sku": "ink"}}})
    await coll.update_one({"_id": 3}, {"$set": {"lines": [{"sku": "cap"}, {"sku": "pad"}]}})
    assert await ids(coll, {"lines.sku": "ink"}) == [1, 2]
    assert await ids(coll, {"lines.sku": "cap"}) == [3]
    await coll.replace_one({"_id": 2}, {"lines": [{"sku": "mug"}], "tags": ["x", "z"]})
    assert await ids(coll, {"lines.sku": {"$in": ["ink", "mug"]}}) == [1, 2]
    assert await ids(coll, {"tags": "x"}) == [1, 2]
    await coll.update_many({}, {"$pull": {"tags": "x"}})
    assert await ids(coll, {"tags": "x"}) == []
    assert await ids(coll, {"tags": "z"}) == [2]
    await coll.delete_one({"_id": 1})
    assert await ids(coll, {"lines.sku": "ink"}) == []
    await coll.find_one_and_update({"_id": 3}, {"$set": {"lines": [{"sku": "ink"}]}})
    assert await ids(coll, {"lines.sku": "ink"}) == [3]
    await coll.delete_many({"lines.sku": "ink"})
    assert await ids(coll, {}) == [2]


async def test_an_index_made_before_any_array_then_arrays_arrive(coll):
    await coll.create_index("tags")
    await coll.insert_many([{"_id": n, "tags": f"t{n % 3}"} for n in range(9)])
    assert await ids(coll, {"tags": "t1"}) == [1, 4, 7]
    await coll.insert_one({"_id": 9, "tags": ["t1", "t2"]})
    assert await ids(coll, {"tags": "t1"}) == [1, 4, 7, 9]
    assert await ids(coll, {"tags": {"$in": ["t2"]}}) == [2, 5, 8, 9]


KITS = [
    {"_id": 1, "lines": [{"parts": [{"sku": "pen"}, {"sku": "ink"}]}, {"parts": {"sku": "cap"}}]},
    {"_id": 2, "lines": [{"parts": [{"sku": ["pad", "pen"]}]}, {"title": "no parts"}]},
    {"_id": 3, "lines": {"parts": [{"sku": "ink"}]}},                # one array level
    {"_id": 4, "lines": [{"parts": []}, "loose", {"parts": [{"other": "pen"}]}]},
    {"_id": 5},
]

KIT_QUERIES = [
    ({"lines.parts.sku": "pen"}, [1, 2]),
    ({"lines.parts.sku": "ink"}, [1, 3]),
    ({"lines.parts.sku": "cap"}, [1]),
    ({"lines.parts.sku": "pad"}, [2]),
    ({"lines.parts.sku": {"$in": ["cap", "pad"]}}, [1, 2]),
    ({"lines.parts.sku": "lamp"}, []),
]


@pytest.mark.parametrize("flt, expected", KIT_QUERIES)
async def test_an_index_under_two_array_levels_finds_what_a_scan_finds(coll, flt, expected):
    await coll.insert_many([dict(doc) for doc in KITS])
    assert await ids(coll, flt) == expected
    await coll.create_index("lines.parts.sku")
    assert await ids(coll, flt) == expected
    assert await coll.count_documents(flt) == len(expected)
    await coll.update_one({"_id": 5}, {"$set": {"lines": [{"parts": [{"sku": "lamp"}]}]}})
    assert await ids(coll, {"lines.parts.sku": "lamp"}) == [5]
