"""Compiled filters kept by shape (``core.db.embedded.shapes``): a filter of a shape seen
before binds its own values into the kept text, and gets what a fresh compile gives."""
import datetime
import random

import pytest
from bson import ObjectId
from bson.decimal128 import Decimal128

from core.db import connect
from core.db.embedded import shapes, sql

UTC = datetime.timezone.utc


def fresh(flt, sort, known=(), guards=None, rowid="t.rowid"):
    where, params = sql.compile_filter(flt, set(known), guards or {}, rowid)
    return where, params, sql.compile_sort(sort, set(known), flt)


def random_value(rng):
    return rng.choice([
        lambda: rng.randint(-5, 5), lambda: rng.random(), lambda: rng.choice([True, False]),
        lambda: rng.choice(["a", "b", "\x7fo"]), lambda: None, lambda: ObjectId(),
        lambda: datetime.datetime(2020, 1, rng.randint(1, 28), tzinfo=UTC)])()


def random_filter(rng, depth=0):
    """A filter of the grammar the shape walk follows: logic, comparisons, $in/$nin,
    $exists, $not, equality, in any order and mixture of types."""
    flt = {}
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(6 if depth < 2 else 4)
        path = rng.choice(["a", "b", "c.d"])
        if kind == 0:
            flt[path] = random_value(rng)
        elif kind == 1:
            ops = rng.sample(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"], rng.randint(1, 3))
            flt[path] = {op: random_value(rng) for op in ops}
        elif kind == 2:
            op = rng.choice(["$in", "$nin"])
            flt[path] = {op: [random_value(rng) for _ in range(rng.randint(0, 4))]}
        elif kind == 3:
            flt[path] = rng.choice([{"$exists": rng.choice([True, False])},
                                    {"$not": {"$gt": random_value(rng)}}])
        else:
            key = rng.choice(["$and", "$or", "$nor"])
            flt[key] = [random_filter(rng, depth + 1) for _ in range(rng.randint(1, 3))]
    return flt


def same_shape(rng, flt):
    """``flt`` with every value replaced by another of the same type (``$exists`` kept:
    its truth is part of the shape)."""
    if isinstance(flt, dict):
        return {key: value if key == "$exists" else same_shape(rng, value)
                for key, value in flt.items()}
    if isinstance(flt, list):
        return [same_shape(rng, item) for item in flt]
    for _ in range(50):
        other = random_value(rng)
        if type(other) is type(flt):
            return other
    return flt


def test_a_kept_shape_compiles_as_a_fresh_compile_would():
    rng = random.Random(11)
    for _ in range(500):
        sort = rng.choice([[], [("a", 1), ("_id", 1)], [("b", -1), ("_id", -1)]])
        first = random_filter(rng)
        kept = shapes.CompiledFilters()
        assert kept.compile(first, sort, set(), {}, "t.rowid") == fresh(first, sort)
        second = same_shape(rng, first)
        assert shapes.shape_of(second)[0] == shapes.shape_of(first)[0]
        assert kept.compile(second, sort, set(), {}, "t.rowid") == fresh(second, sort), second


def test_a_kept_shape_is_not_compiled_again(monkeypatch):
    kept = shapes.CompiledFilters()
    cursor = {"$and": [{"created": {"$lte": datetime.datetime(2020, 1, 3, tzinfo=UTC)}},
                       {"$or": [{"created": {"$lt": datetime.datetime(2020, 1, 3, tzinfo=UTC)}},
                                {"_id": {"$lt": ObjectId()}}]}]}
    kept.compile(cursor, [("created", -1), ("_id", -1)], set(), {}, "t.rowid")
    calls = []
    monkeypatch.setattr(sql, "compile_filter", lambda *args: calls.append(args))
    later = same_shape(random.Random(3), cursor)
    where, params, order = kept.compile(later, [("created", -1), ("_id", -1)], set(), {},
                                        "t.rowid")
    assert calls == []
    monkeypatch.undo()
    assert (where, params, order) == fresh(later, [("created", -1), ("_id", -1)])


@pytest.mark.parametrize("flt", [
    {"title": {"$regex": "cat", "$options": "i"}},
    {"tags": ["a", "b"]},
    {"address": {"city": "Paris"}},
    {"price": Decimal128("1.5")},
    {"n": {"$in": [Decimal128("1.5"), 2]}},
])
def test_what_the_walk_does_not_follow_is_compiled_every_time(flt):
    assert shapes.shape_of(flt) == (None, None)
    kept = shapes.CompiledFilters()
    assert kept.compile(flt, [], set(), {}, "t.rowid") == fresh(flt, [])
    assert kept._kept == {}


def test_a_path_holding_arrays_binds_its_value_twice_and_is_not_kept():
    kept = shapes.CompiledFilters()
    flt = {"tags": {"$gt": "m"}}
    assert kept.compile(flt, [], {"tags"}, {}, "t.rowid") == fresh(flt, [], known={"tags"})
    assert kept._kept == {}


def test_the_kept_shapes_are_bounded_and_a_new_one_drops_only_the_oldest():
    kept = shapes.CompiledFilters(size=3)
    for n in range(10):
        kept.compile({f"f{n}": n}, [], set(), {}, "t.rowid")
        assert len(kept._kept) == min(n + 1, 3)
    assert [key[0] for key in kept._kept] == [(("f7", int),), (("f8", int),), (("f9", int),)]


def test_a_long_in_list_is_not_a_shape():
    """Each length of an ``$in`` is its own shape: a page's reference ids (a list of any
    length) would fill the kept shapes with long texts and push out the hot ones."""
    kept = shapes.CompiledFilters()
    for length in range(shapes.MAX_MEMBERS + 1, shapes.MAX_MEMBERS + 40):
        flt = {"_id": {"$in": [ObjectId() for _ in range(length)]}}
        assert shapes.shape_of(flt) == (None, None)
        assert kept.compile(flt, [], set(), {}, "t.rowid") == fresh(flt, [])
    assert kept._kept == {}
    short = {"_id": {"$in": [ObjectId() for _ in range(shapes.MAX_MEMBERS)]}}
    assert kept.compile(short, [], set(), {}, "t.rowid") == fresh(short, [])
    assert len(kept._kept) == 1


def test_one_walk_counts_the_values_and_finds_no_regex_as_the_walks_it_replaces():
    rng = random.Random(5)
    for _ in range(500):
        flt = random_filter(rng)
        walk = shapes.FilterWalk(flt)
        assert walk.shape is not None and walk.params == shapes.shape_of(flt)[1]
        assert walk.values == shapes.values_in(flt, shapes.MAX_VALUES)
        assert walk.regex is False and sql.uses_regex(flt) is False
        other = shapes.FilterWalk(same_shape(rng, flt))      # the shape's kept count
        assert other.values == walk.values


@pytest.mark.parametrize("flt, values, regex", [
    ({"title": {"$regex": "cat", "$options": "i"}}, 5, True),
    ({"$or": [{"n": 1}, {"title": {"$regex": "c"}}]}, 6, True),
    ({"tags": ["a", "b"]}, 3, False),
    ({}, 0, False),
])
def test_a_filter_the_walk_does_not_follow_is_counted_and_searched_on_its_own(
        flt, values, regex):
    walk = shapes.FilterWalk(flt)
    assert walk.values == values and walk.regex is regex


def test_the_walk_stops_past_max_values_keys():
    """It runs on the event loop's thread: a long ``$or`` is not walked to its end."""
    seen = []

    class Counted(dict):
        def items(self):
            seen.append(1)
            return super().items()
    long = {"$or": [Counted(n=i) for i in range(10 * shapes.MAX_VALUES)]}
    walk = shapes.FilterWalk(long)
    assert walk.shape is None and len(seen) <= shapes.MAX_VALUES
    assert walk.values > shapes.MAX_VALUES
    fits = {"$or": [{"n": i} for i in range(shapes.MAX_VALUES // 2 - 1)]}
    assert shapes.FilterWalk(fits).values == shapes.MAX_VALUES - 1


@pytest.fixture
async def db(tmp_path):
    database = connect(f"embedded:{tmp_path}/shapes.sqlite3")
    yield database
    await database.close()


async def test_pages_of_one_shape_read_their_own_rows(db):
    things = db["things"]
    await things.insert_many([{"_id": i, "n": i % 10, "s": str(i)} for i in range(100)])

    async def ids(flt):
        return [d["_id"] async for d in things.find(flt, sort=[("_id", 1)])]
    for low in (10, 50, 90):                       # one shape, three values
        assert await ids({"$and": [{"_id": {"$gte": low}}, {"n": {"$lt": 3}}]}) == [
            i for i in range(low, 100) if i % 10 < 3]
        assert await things.count_documents({"_id": {"$gte": low}}) == 100 - low
    assert await ids({"s": "7"}) == [7]
    assert await ids({"s": "8"}) == [8]


async def test_a_path_that_starts_holding_arrays_is_compiled_again(db):
    things = db["things"]
    await things.insert_many([{"_id": 1, "tags": "a"}, {"_id": 2, "tags": "b"}])
    assert [d["_id"] async for d in things.find({"tags": "b"})] == [2]
    await things.insert_one({"_id": 3, "tags": ["x", "b"]})
    assert [d["_id"] async for d in things.find({"tags": "b"}, sort=[("_id", 1)])] == [2, 3]


async def test_a_filter_without_regex_reads_no_search_declaration(db):
    things = db["things"]
    await things.insert_many([{"_id": i, "title": f"t{i}"} for i in range(5)])
    await things.create_search_index(["title"])
    statements = []
    conn = db.store.connection()
    conn.set_trace_callback(statements.append)
    try:
        assert db.store.find("things", {"_id": {"$gt": 2}}, (None, [], True),
                             [("_id", 1)], 0, 0) == [{"_id": 3, "title": "t3"},
                                                     {"_id": 4, "title": "t4"}]
        assert not any("bastion_search" in text for text in statements)
        found = db.store.find("things", {"title": {"$regex": "t3"}}, (None, [], True),
                              [], 0, 0)
    finally:
        conn.set_trace_callback(None)
    assert found == [{"_id": 3, "title": "t3"}]
    assert any("bastion_search" in text for text in statements)


async def test_a_page_read_walks_its_filter_once(db, monkeypatch):
    things = db["things"]
    await things.insert_many([{"_id": i, "n": i % 10} for i in range(100)])
    walks = []
    made = shapes.FilterWalk.__init__

    def counted(self, flt):
        walks.append(flt)
        made(self, flt)
    monkeypatch.setattr(shapes.FilterWalk, "__init__", counted)
    monkeypatch.setattr(sql, "uses_regex", lambda flt: pytest.fail("walked again"))
    page = {"$and": [{"_id": {"$gte": 40}}, {"n": {"$lt": 3}}]}
    found = await things.find(page, sort=[("_id", 1)], limit=3).to_list(3)
    assert [d["_id"] for d in found] == [40, 41, 42]
    assert walks == [page]


def test_a_sort_given_as_lists_is_kept_as_pairs():
    kept = shapes.CompiledFilters()
    for n in (1, 2):
        assert kept.compile({"a": n}, [["b", -1], ["_id", -1]], set(), {}, "t.rowid") == \
            fresh({"a": n}, [("b", -1), ("_id", -1)])
    assert len(kept._kept) == 1
