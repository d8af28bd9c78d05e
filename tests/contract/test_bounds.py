"""Searches of any letters and numbers at the edge of int64, the same on every backend.

The embedded store answers case-insensitive literal searches in SQLite (GLOB classes of
case-equivalent letters) instead of Python's ``re``; these pin that it still answers
what MongoDB answers, for the letters an admin search box sends.
"""
import re

import pytest
from pymongo.errors import WriteError

from core.db import UnsupportedOperation, ValueOutOfRange

INT64_MAX = 2 ** 63 - 1

TEXTS = {1: "Crème Brûlée", 2: "CRÈME BRÛLÉE", 3: "creme brulee", 4: "Ærøskøbing",
         5: "ÆRØSKØBING", 6: "Жук и ЖУК", 7: "Straße", 8: "Zürich", 9: "ZÜRICH",
         10: "Ελλάδα", 11: "ΕΛΛΆΔΑ", 12: "a*b?c[d]%_\\", 13: "naïve café"}


async def matching(coll, flt):
    found = sorted(doc["_id"] for doc in await coll.find(flt).to_list(None))
    assert await coll.count_documents(flt) == len(found)
    return found


@pytest.fixture
async def texts(coll):
    await coll.insert_many([{"_id": key, "s": text, "other": "crème"}
                            for key, text in TEXTS.items()])
    return coll


@pytest.mark.parametrize("word, expected", [
    ("crème", [1, 2]), ("BRÛLÉE", [1, 2]), ("brulee", [3]), ("ærø", [4, 5]),
    ("SKØB", [4, 5]), ("жук", [6]), ("ЖУК И Ж", [6]), ("straße", [7]), ("zü", [8, 9]),
    ("üri", [8, 9]), ("λλά", [10, 11]), ("a*b?c[d]%_\\", [12]), ("[D]%", [12]),
    ("NAÏVE CAFÉ", [13]), ("ï", [13]), ("qqqq", []),
])
async def test_case_insensitive_literal_searches_of_any_letters(texts, word, expected):
    assert await matching(texts, {"s": {"$regex": re.escape(word), "$options": "i"}}) == expected


async def test_case_sensitive_literal_searches_of_any_letters(texts):
    assert await matching(texts, {"s": {"$regex": re.escape("Crème")}}) == [1]
    assert await matching(texts, {"s": {"$regex": re.escape("ЖУК")}}) == [6]
    assert await matching(texts, {"s": {"$regex": re.escape("ÆRØ")}}) == [5]


async def test_a_search_across_fields_finds_each_document_once(texts):
    flt = {"$or": [{name: {"$regex": re.escape("CRÈME"), "$options": "i"}}
                   for name in ("s", "other")]}
    assert await matching(texts, flt) == sorted(TEXTS)


async def test_a_literal_search_over_a_large_string(coll):
    big = "Lorem ipsum dolor sit amet, crème brûlée. " * 50_000        # ~2 MB
    await coll.insert_many([{"_id": 1, "s": big}, {"_id": 2, "s": big + "naïve"},
                            {"_id": 3, "s": "short"}])
    assert await matching(coll, {"s": {"$regex": re.escape("NAÏVE"), "$options": "i"}}) == [2]
    assert await matching(coll, {"s": {"$regex": re.escape("BRÛLÉE"), "$options": "i"}}) == [1, 2]
    assert await matching(coll, {"s": {"$regex": re.escape("zzz"), "$options": "i"}}) == []


async def test_ints_outside_int64_are_value_out_of_range_before_any_work(coll):
    await coll.insert_one({"_id": 1, "n": INT64_MAX})
    for call in (lambda: coll.find({"n": 2 ** 64}).to_list(None),
                 lambda: coll.count_documents({"n": {"$gt": -(2 ** 63) - 1}}),
                 lambda: coll.insert_one({"n": 2 ** 63}),
                 lambda: coll.update_one({"_id": 1}, {"$set": {"n": 2 ** 63}}),
                 lambda: coll.update_one({"_id": 1}, {"$inc": {"n": 2 ** 63}})):
        with pytest.raises(ValueOutOfRange) as caught:
            await call()
        assert isinstance(caught.value, UnsupportedOperation)
        assert isinstance(caught.value, OverflowError)
    assert await coll.find({}).to_list(None) == [{"_id": 1, "n": INT64_MAX}]


async def test_int64_bounds_themselves_round_trip(coll):
    await coll.insert_many([{"_id": 1, "n": INT64_MAX}, {"_id": 2, "n": -(2 ** 63)}])
    assert await matching(coll, {"n": INT64_MAX}) == [1]
    assert await matching(coll, {"n": {"$lt": 0}}) == [2]


async def test_an_inc_past_int64_fails_and_changes_nothing(coll):
    await coll.insert_one({"_id": 1, "n": INT64_MAX})
    with pytest.raises(WriteError) as caught:
        await coll.update_one({"_id": 1}, {"$inc": {"n": 1}})
    assert caught.value.code == 2                   # BadValue, as MongoDB answers
    assert await coll.find_one({"_id": 1}) == {"_id": 1, "n": INT64_MAX}
