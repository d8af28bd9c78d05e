"""create_search_index: searches answer exactly as without it, on every backend, and
every kind of write keeps the index in step.

The expected results are computed here with Python's ``re`` over the documents
(string values, and the strings of an array), the semantics the admin's search
relies on: each word a case-insensitive literal ``$regex``.
"""
import re

import pytest

FIELDS = ["title", "body", "meta.note"]

CORPUS = [
    {"n": 0, "title": "Café au lait", "body": "Crème brûlée recipes", "meta": {"note": "tasty"}},
    {"n": 1, "title": "CAFÉ SOCIETY", "body": "a film", "meta": {"note": "B&W"}},
    {"n": 2, "title": "Straße", "body": "street in German", "meta": {}},
    {"n": 3, "title": "quote \"marks\" and back\\slash", "body": "50% off_sale"},
    {"n": 4, "title": "ab", "body": "abc ABC aBc"},
    {"n": 5, "title": 12345, "body": ["array of", "STRINGS café"]},
    {"n": 6, "title": None, "body": "nothing in the title"},
    {"n": 7, "body": "no title at all; regex chars .*+?()[]{}|^$"},
    {"n": 8, "title": "Line one\nline two", "body": "tabs\tand spaces"},
    {"n": 9, "title": "prefix match", "body": "the PREFIX is here", "meta": {"note": "prefixed"}},
]

#: (pattern, options) as the admin's search sends them, and a few other shapes
SEARCHES = [
    (re.escape("café"), "i"), (re.escape("CAFÉ"), "i"), (re.escape("café"), ""),
    (re.escape("crème brûlée"), "i"), (re.escape("straße"), "i"), (re.escape('"marks"'), "i"),
    (re.escape("back\\slash"), "i"), (re.escape("50% off_"), "i"), (re.escape("ab"), "i"),
    (re.escape("abc"), "i"), (re.escape("abc"), ""), (re.escape("strings"), "i"),
    (re.escape(".*+?()[]{}|^$"), "i"), (re.escape("one\nline"), "i"), (re.escape("123"), "i"),
    (re.escape("tasty"), "i"), (re.escape("b&w"), "i"), ("^" + re.escape("prefix"), "i"),
    ("^" + re.escape("prefix"), ""), (re.escape("here") + "$", "i"), ("pre.ix", "i"),
    (re.escape("absent word"), "i"),
]


def matches(doc, path, pattern, options):
    value = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    values = value if isinstance(value, list) else [value]
    flags = re.IGNORECASE if "i" in options else 0
    return any(isinstance(v, str) and re.search(pattern, v, flags) for v in values)


def expected(pattern, options, fields=FIELDS):
    return sorted(doc["n"] for doc in CORPUS
                  if any(matches(doc, path, pattern, options) for path in fields))


def search_filter(pattern, options, fields=FIELDS):
    return {"$or": [{path: {"$regex": pattern, "$options": options}} for path in fields]}


async def found(coll, flt):
    return sorted(doc["n"] for doc in await coll.find(flt).to_list(None))


async def test_searches_answer_as_without_the_index(coll):
    await coll.insert_many([dict(doc) for doc in CORPUS])
    await coll.create_search_index(FIELDS)
    for pattern, options in SEARCHES:
        flt = search_filter(pattern, options)
        want = expected(pattern, options)
        assert await found(coll, flt) == want, (pattern, options)
        assert await coll.count_documents(flt) == len(want), (pattern, options)
        assert await coll.count_documents(flt, limit=1) == min(1, len(want))


async def test_words_combine_with_each_other_and_with_filters(coll):
    await coll.insert_many([dict(doc) for doc in CORPUS])
    await coll.create_search_index(FIELDS)
    words = [search_filter(re.escape(w), "i") for w in ("caf", "lait")]
    assert await found(coll, {"$and": words}) == [0]
    assert await found(coll, {"$and": [search_filter("abc", "i"), {"n": {"$gte": 5}}]}) == []
    assert await found(coll, {"$and": [search_filter("caf", "i"), {"n": {"$gte": 1}}]}) == [1, 5]
    # one word on a field the index does not cover, and one that is too short for it
    assert await found(coll, {"$or": [{"title": {"$regex": "caf", "$options": "i"}},
                                      {"n": 5}]}) == [0, 1, 5]
    assert await found(coll, {"$and": [search_filter("ab", "i"), search_filter("ABC", "i")]}) \
        == [4]
    assert await found(coll, {"title": {"$not": {"$regex": "caf", "$options": "i"}},
                              "n": {"$lt": 3}}) == [2]


async def test_every_write_keeps_the_index_in_step(coll):
    await coll.create_search_index(["title"])
    title_has = lambda word: {"title": {"$regex": re.escape(word), "$options": "i"}}  # noqa: E731
    await coll.insert_one({"_id": 1, "title": "Alpha release"})
    await coll.insert_many([{"_id": 2, "title": "Beta release"},
                            {"_id": 3, "title": "Gamma"}])
    assert await found_ids(coll, title_has("release")) == [1, 2]
    await coll.update_one({"_id": 3}, {"$set": {"title": "Gamma release"}})
    await coll.update_one({"_id": 1}, {"$set": {"title": "Alpha retired"}})
    assert await found_ids(coll, title_has("release")) == [2, 3]
    assert await found_ids(coll, title_has("alpha")) == [1]
    await coll.replace_one({"_id": 2}, {"title": "Beta, replaced"})
    assert await found_ids(coll, title_has("release")) == [3]
    assert await found_ids(coll, title_has("replaced")) == [2]
    await coll.update_many({}, {"$set": {"title": "all the same"}})
    assert await found_ids(coll, title_has("release")) == []
    assert await found_ids(coll, title_has("THE SAME")) == [1, 2, 3]
    await coll.find_one_and_update({"_id": 2}, {"$set": {"title": "found and updated"}})
    assert await found_ids(coll, title_has("and upd")) == [2]
    await coll.update_one({"_id": 4}, {"$set": {"title": "upserted row"}}, upsert=True)
    assert await found_ids(coll, title_has("upserted")) == [4]
    await coll.update_one({"_id": 4}, {"$unset": {"title": ""}})
    assert await found_ids(coll, title_has("upserted")) == []
    await coll.delete_one({"_id": 2})
    await coll.delete_many({"_id": {"$in": [1, 3]}})
    assert await found_ids(coll, title_has("same")) == []
    assert await coll.count_documents({}) == 1


async def test_declared_after_the_documents_and_redeclared(coll):
    await coll.insert_many([dict(doc) for doc in CORPUS])
    await coll.create_search_index(["title"])
    await coll.create_search_index(["title"])            # idempotent
    flt = search_filter(re.escape("prefix"), "i")
    assert await found(coll, flt) == expected(re.escape("prefix"), "i")
    await coll.create_search_index(["body", "meta.note"])
    assert await found(coll, flt) == expected(re.escape("prefix"), "i")
    await coll.create_search_index([])
    assert await found(coll, flt) == expected(re.escape("prefix"), "i")


async def test_search_fields_are_checked(coll):
    from core.db import UnsupportedOperation
    for bad in (["$where"], ["_id"], ["a..b"], [""]):
        with pytest.raises(UnsupportedOperation):
            await coll.create_search_index(bad)


async def found_ids(coll, flt):
    return sorted(doc["_id"] for doc in await coll.find(flt).to_list(None))


async def test_a_field_that_already_leads_an_index_is_served_by_it(coll):
    """A unique index on a searched field (a category's name) stays the one index on that
    key: MongoDB refuses a second index on the same key under another name."""
    await coll.create_index("title", unique=True)
    await coll.insert_many([{"title": "Apple pie"}, {"title": "Pear tart"}])
    await coll.create_search_index(["title", "body"])
    await coll.create_search_index(["title", "body"])              # again: nothing changes
    found = await coll.find({"title": {"$regex": "pie", "$options": "i"}}).to_list(None)
    assert [doc["title"] for doc in found] == ["Apple pie"]
    keys = [info["key"] for info in (await coll.index_information()).values()]
    assert keys.count([("title", 1)]) == 1
