"""The value types of the subset survive a round trip with MongoDB's types and comparisons."""
import datetime

from bson import ObjectId

from core.db.embedded.codec import TAG

UTC = datetime.timezone.utc


async def round_trip(coll, value):
    await coll.insert_one({"_id": "v", "v": value})
    return (await coll.find_one({"_id": "v"}))["v"]


async def test_objectid_round_trip(coll):
    oid = ObjectId()
    back = await round_trip(coll, oid)
    assert type(back) is ObjectId
    assert back == oid
    assert (await coll.find_one({"v": oid}))["_id"] == "v"
    # the hex string is a different value
    assert await coll.find_one({"v": str(oid)}) is None


async def test_generated_ids_are_objectids_that_find_their_document(coll):
    oid = (await coll.insert_one({"k": 1})).inserted_id
    found = await coll.find_one({"_id": oid})
    assert type(found["_id"]) is ObjectId and found["_id"] == oid
    assert await coll.find_one({"_id": str(oid)}) is None


async def test_aware_datetime_round_trip_is_utc_truncated_to_milliseconds(coll):
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, 123987, tzinfo=UTC)
    back = await round_trip(coll, when)
    assert isinstance(back, datetime.datetime)
    assert back.tzinfo is not None
    assert back.utcoffset() == datetime.timedelta(0)
    assert back == when.replace(microsecond=123000)
    # the query value is truncated the same way
    assert (await coll.find_one({"v": when}))["_id"] == "v"


async def test_datetimes_before_1970_round_trip_and_compare(coll):
    dates = [datetime.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
             datetime.datetime(1900, 1, 1, tzinfo=UTC),
             datetime.datetime(1970, 1, 1, tzinfo=UTC),
             datetime.datetime(1, 1, 1, tzinfo=UTC),
             datetime.datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)]
    await coll.insert_many([{"_id": i, "at": d} for i, d in enumerate(dates)])
    got = {d["_id"]: d["at"] for d in await coll.find().to_list(None)}
    assert got[0] == datetime.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
    assert [got[i] for i in (1, 2, 3, 4)] == [dates[i] for i in (1, 2, 3, 4)]
    in_order = [d["_id"] async for d in coll.find().sort("at", 1)]
    assert in_order == [3, 1, 0, 2, 4]
    epoch = datetime.datetime(1970, 1, 1, tzinfo=UTC)
    assert await coll.count_documents({"at": {"$lt": epoch}}) == 3


async def test_datetime_in_another_timezone_comes_back_as_the_same_instant_in_utc(coll):
    oslo_summer = datetime.timezone(datetime.timedelta(hours=2))
    when = datetime.datetime(2024, 5, 6, 9, 8, 9, 500000, tzinfo=oslo_summer)
    back = await round_trip(coll, when)
    assert back == when
    assert back.utcoffset() == datetime.timedelta(0)
    assert (back.hour, back.minute) == (7, 8)


async def test_naive_datetime_is_taken_as_utc(coll):
    naive = datetime.datetime(2024, 5, 6, 7, 8, 9, 4567)
    back = await round_trip(coll, naive)
    assert back.utcoffset() == datetime.timedelta(0)
    assert back == naive.replace(tzinfo=UTC, microsecond=4000)
    # a naive value in a query means UTC too
    assert (await coll.find_one({"v": naive.replace(microsecond=4000)}))["_id"] == "v"
    assert await coll.count_documents({"v": {"$gte": naive.replace(microsecond=0)}}) == 1


async def test_datetimes_in_nested_documents_and_lists(coll):
    a = datetime.datetime(2020, 1, 1, tzinfo=UTC)
    b = datetime.datetime(2021, 6, 1, 12, 30, tzinfo=UTC)
    back = await round_trip(coll, {"when": a, "history": [a, b]})
    assert back == {"when": a, "history": [a, b]}
    assert all(d.tzinfo is not None for d in [back["when"], *back["history"]])
    assert await coll.count_documents({"v.history": b}) == 1
    assert await coll.count_documents({"v.when": {"$lt": b}}) == 1


async def test_int_and_float_are_both_numbers_and_equal_in_queries(coll):
    await coll.insert_many([{"_id": 1, "n": 1}, {"_id": 2, "n": 1.0}, {"_id": 3, "n": 1.5},
                            {"_id": 4, "n": "1"}])
    for value in (1, 1.0):
        found = await coll.find({"n": value}).sort("_id", 1).to_list(None)
        assert [d["_id"] for d in found] == [1, 2]
    assert [d["_id"] for d in await coll.find({"n": {"$in": [1.0]}}).to_list(None)] == [1, 2]
    assert await coll.count_documents({"n": {"$gt": 1}}) == 1
    assert await coll.count_documents({"n": {"$lte": 1.5}}) == 3


async def test_int_and_float_keep_their_types(coll):
    await coll.insert_many([{"_id": 1, "n": 1}, {"_id": 2, "n": 1.0}, {"_id": 3, "n": -7},
                            {"_id": 4, "n": 2 ** 40}, {"_id": 5, "n": 0.1}])
    got = {d["_id"]: d["n"] for d in await coll.find().to_list(None)}
    assert is_int(got[1]) and got[1] == 1
    assert type(got[2]) is float and got[2] == 1.0
    assert is_int(got[3]) and got[3] == -7
    assert is_int(got[4]) and got[4] == 2 ** 40
    assert type(got[5]) is float and got[5] == 0.1


def is_int(value):
    """An integer, not a bool (PyMongo decodes 64-bit integers as bson.Int64, an int)."""
    return isinstance(value, int) and not isinstance(value, bool)


async def test_64_bit_integers_are_exact(coll):
    values = [2 ** 63 - 1, -(2 ** 63), 2 ** 53 + 1]
    await coll.insert_many([{"_id": i, "n": v} for i, v in enumerate(values)])
    got = [d["n"] for d in await coll.find().sort("_id", 1).to_list(None)]
    assert got == values
    assert await coll.count_documents({"n": 2 ** 53 + 1}) == 1
    assert await coll.count_documents({"n": 2 ** 53}) == 0
    # integers and doubles compare exactly, not after rounding to a double
    assert await coll.count_documents({"n": float(2 ** 53)}) == 0
    assert await coll.count_documents({"n": {"$gt": float(2 ** 53)}}) == 2


async def test_bool_is_not_a_number(coll):
    await coll.insert_many([{"_id": 1, "n": 1}, {"_id": 2, "n": True}, {"_id": 3, "n": 0},
                            {"_id": 4, "n": False}])
    assert [d["_id"] for d in await coll.find({"n": 1}).to_list(None)] == [1]
    assert [d["_id"] for d in await coll.find({"n": True}).to_list(None)] == [2]
    assert [d["_id"] for d in await coll.find({"n": 0}).to_list(None)] == [3]
    assert [d["_id"] for d in await coll.find({"n": False}).to_list(None)] == [4]
    assert sorted(d["_id"] for d in await coll.find({"n": {"$in": [1, 0]}}).to_list(None)) == [1, 3]
    assert [d["_id"] for d in await coll.find({"n": {"$gte": 0}}).sort("_id", 1)
            .to_list(None)] == [1, 3]
    got = {d["_id"]: d["n"] for d in await coll.find().to_list(None)}
    assert type(got[2]) is bool and type(got[4]) is bool
    assert is_int(got[1]) and is_int(got[3])


async def test_nested_documents_and_lists_round_trip(coll):
    value = {
        "title": "Hello",
        "author": {"name": "ann", "tags": ["a", "b"], "deep": {"deeper": {"n": 1}}},
        "items": [{"sku": "x", "qty": 2}, {"sku": "y", "qty": 0.5}],
        "mixed": [1, "two", 3.5, None, True, {"k": "v"}],
        "empty_list": [],
        "empty_doc": {},
        "none": None,
    }
    back = await round_trip(coll, value)
    assert back == value
    assert type(back["mixed"][4]) is bool


async def test_field_order_is_kept(coll):
    await coll.insert_one({"_id": 1, "zeta": 1, "alpha": 2, "mid": {"y": 1, "b": 2}})
    got = await coll.find_one({"_id": 1})
    assert [k for k in got if k != "_id"] == ["zeta", "alpha", "mid"]
    assert list(got["mid"]) == ["y", "b"]


async def test_a_null_field_stays_present(coll):
    await coll.insert_one({"_id": 1, "f": None})
    assert await coll.find_one({"_id": 1}) == {"_id": 1, "f": None}


async def test_strings_round_trip_exactly(coll):
    texts = ["", "plain", "ünïcödé ✓ 日本語", 'quotes " \' and \\ backslash', "line\nbreak\ttab",
             "$dollar", "a.b", "emoji 🦊", "x" * 10_000, TAG + " starts with the tag",
             "50%_off", "%", "_"]
    await coll.insert_many([{"_id": i, "s": s} for i, s in enumerate(texts)])
    got = [d["s"] for d in await coll.find().sort("_id", 1).to_list(None)]
    assert got == texts
    for i, text in enumerate(texts):
        assert (await coll.find_one({"s": text}))["_id"] == i


async def test_nested_arrays_round_trip(coll, ferretdb_deviates):
    ferretdb_deviates("nested arrays are rejected ('nested arrays are not supported')")
    value = [[1, 2], ["a", []]]
    assert await round_trip(coll, value) == value
