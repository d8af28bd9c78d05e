"""``subset.check_filter`` keeps the shapes of the filters it accepted: a filter of a kept
shape is accepted after one walk, and every other gets the full check, so the verdict
and the error are the full check's for every filter, before and after any other."""
import datetime
import math
import random

import pytest
from bson import Binary, ObjectId
from bson.decimal128 import Decimal128

from core.db import subset
from core.db.errors import UnsupportedOperation

UTC = datetime.timezone.utc
VALUES = [
    lambda r: r.randint(-5, 5), lambda r: 2 ** 63 - 1, lambda r: 2 ** 63, lambda r: -2 ** 63,
    lambda r: -2 ** 63 - 1, lambda r: r.random(), lambda r: math.nan, lambda r: math.inf,
    lambda r: True, lambda r: None, lambda r: "a.b", lambda r: ObjectId(), lambda r: b"x",
    lambda r: Binary(b"y", 5), lambda r: datetime.datetime(2020, 1, 2, tzinfo=UTC),
    lambda r: Decimal128("1.5"), lambda r: Decimal128("NaN"), lambda r: {"a": 1},
    lambda r: {"$gt": 1}, lambda r: [1, 2], lambda r: [1, [2]], lambda r: [], lambda r: object(),
    lambda r: {}, lambda r: {1: 2}, lambda r: r.choice([1, "x"]), lambda r: (1, 2),
]
OPERATORS = ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$not",
             "$regex", "$options", "$where", "$size"]
KEYS = ["a", "b.c", "$and", "$or", "$nor", "$where", "a..b", "1", "x.2", 'q"', "", 7]


def random_value(rng):
    return rng.choice(VALUES)(rng)


def random_operator_arg(rng, op, depth):
    if op in ("$in", "$nin"):
        return rng.choice([[random_value(rng) for _ in range(rng.randint(0, 3))],
                           random_value(rng), list(range(40))])
    if op == "$exists":
        return rng.choice([True, False, 1, 0, None])
    if op == "$not" and depth < 2:
        return rng.choice([random_operators(rng, depth + 1), {}, random_value(rng)])
    if op == "$regex":
        return rng.choice(["a", "(", 5])
    if op == "$options":
        return rng.choice(["i", "z", 1])
    return random_value(rng)


def random_operators(rng, depth):
    ops = rng.sample(OPERATORS, rng.randint(1, 3))
    return {op: random_operator_arg(rng, op, depth) for op in ops}


def random_filter(rng, depth=0):
    flt = {}
    for _ in range(rng.randint(0, 3)):
        key = rng.choice(KEYS)
        if key in ("$and", "$or", "$nor"):
            flt[key] = rng.choice([
                [random_filter(rng, depth + 1) for _ in range(rng.randint(0, 2))] if depth < 2
                else [], {"a": 1}, [None], ({"a": 1},)])
        elif rng.random() < 0.5:
            flt[key] = random_operators(rng, depth)
        else:
            flt[key] = random_value(rng)
    return flt


def verdict(check, flt):
    try:
        check(flt)
    except Exception as exc:          # noqa: BLE001 - the verdicts are compared whole
        return type(exc), str(exc)
    return "accepted"


def test_every_filter_gets_the_full_checks_verdict_whatever_was_accepted_before():
    rng = random.Random(7)
    subset._accepted_shapes.clear()
    accepted = 0
    for _ in range(20000):
        flt = random_filter(rng)
        expected = verdict(subset._checked_filter, flt)
        assert verdict(subset.check_filter, flt) == expected, flt
        assert verdict(subset.check_filter, flt) == expected, flt       # now kept if accepted
        accepted += expected == "accepted"
    assert accepted > 1000 and len(subset._accepted_shapes) > 50


@pytest.mark.parametrize("good, bad, error", [
    ({"n": 5}, {"n": 2 ** 63}, OverflowError),
    ({"n": {"$gt": -2 ** 63}}, {"n": {"$gt": -2 ** 63 - 1}}, OverflowError),
    ({"f": 1.5}, {"f": math.nan}, UnsupportedOperation),
    ({"f": {"$in": [1.5, 2.5]}}, {"f": {"$in": [1.5, math.inf]}}, UnsupportedOperation),
    ({"e": {"$exists": True}}, {"e": {"$exists": 1}}, UnsupportedOperation),
    ({"d": Decimal128("1")}, {"d": Decimal128("NaN")}, UnsupportedOperation),
    ({"t": {"$regex": "a"}}, {"t": {"$regex": "("}}, UnsupportedOperation),
    ({"$or": [{"a": 1}]}, {"$or": []}, UnsupportedOperation),
    ({"a": [1, 2]}, {"a": [1, [2]]}, UnsupportedOperation),
])
def test_a_value_that_changes_the_verdict_is_never_taken_for_an_accepted_shape(
        good, bad, error):
    for _ in range(2):
        assert subset.check_filter(good) is good
    with pytest.raises(error):
        subset.check_filter(bad)
    with pytest.raises(error):
        subset.check_filter(bad)


def test_a_kept_shape_is_not_checked_in_full_again(monkeypatch):
    page = {"$and": [{"created": {"$lte": datetime.datetime(2020, 1, 3, tzinfo=UTC)}},
                     {"$or": [{"created": {"$lt": datetime.datetime(2020, 1, 3, tzinfo=UTC)}},
                              {"_id": {"$lt": ObjectId()}}]}]}
    subset.check_filter(page)
    monkeypatch.setattr(subset, "_checked_filter", lambda flt: pytest.fail("checked again"))
    later = {"$and": [{"created": {"$lte": datetime.datetime(2021, 5, 1, tzinfo=UTC)}},
                      {"$or": [{"created": {"$lt": datetime.datetime(2021, 5, 1, tzinfo=UTC)}},
                               {"_id": {"$lt": ObjectId()}}]}]}
    assert subset.check_filter(later) is later
