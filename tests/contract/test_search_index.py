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


# -- pages of a search: sorted, filtered, cut, counted (every way the embedded store reads) --
PAGE_SIZE = 240


def page_corpus():
    """``PAGE_SIZE`` articles inserted out of date order (rowids do not follow
    ``created``), three to a date (ties broken by ``_id``): "zebra" in every 7th title
    (in varied case), "narwhal" in three, "cat" in nearly all; every other one published."""
    import datetime
    base = datetime.datetime(2024, 1, 1)
    order = sorted(range(PAGE_SIZE), key=lambda i: (i * 97) % PAGE_SIZE)
    docs = []
    for i in order:
        word = ("Zebra", "zebra", "ZEBRA")[i % 3] if i % 7 == 0 else "cat"
        title = f"Article {i} about a {word}" + (" and a narwhal" if i in (5, 119, 230) else "")
        docs.append({"_id": i, "title": title, "body": "Lorem ipsum",
                     "published": i % 2 == 0, "created": base + datetime.timedelta(days=i // 3)})
    return docs


#: how the embedded store may read a page of search results (``search.choose_plan``):
#: ``None`` lets it choose; ``probe-cut`` keeps only the newest half of the candidates in
#: the walk's set, so older rows are left to the filter
PLANS = [None, "sorted", "probe", "probe-cut", "scan"]


@pytest.fixture(params=PLANS, ids=lambda plan: plan or "chosen")
def forced_plan(request, monkeypatch):
    """Make the embedded store read search pages by one plan (other backends ignore it)."""
    from core.db.embedded import search
    plan = request.param
    if plan is not None:
        def choose(sampled, oldest, rows, first_rowid, last_rowid, wanted, ordered,
                   newest_first=False):
            if plan == "probe-cut":
                return search.PROBE, (first_rowid + last_rowid) // 2
            return plan, search.NO_ROWID
        monkeypatch.setattr(search, "choose_plan", choose)
    return plan


def expected_page(docs, word, published, sort, skip, limit):
    hits = [doc for doc in docs if re.search(re.escape(word), doc["title"], re.I)
            and (published is None or doc["published"] == published)]
    for path, direction in reversed(sort):
        hits.sort(key=lambda doc: doc[path], reverse=direction == -1)
    hits = hits[skip:]
    return [doc["_id"] for doc in (hits[:limit] if limit else hits)]


async def test_a_page_of_a_search_is_the_page_a_scan_gives(coll, forced_plan):
    """Every plan gives the same pages: sorted either way with ties, with a filter, cut
    by skip and limit, for a rare, a middling and a common word."""
    docs = page_corpus()
    await coll.insert_many([dict(doc) for doc in docs])
    await coll.create_index([("created", -1), ("_id", -1)])
    await coll.create_index([("published", 1), ("created", -1), ("_id", -1)])
    await coll.create_search_index(["title", "body"])
    sorts = [[("created", -1), ("_id", -1)], [("created", 1), ("_id", 1)],
             [("title", 1), ("_id", 1)]]
    for word in ("narwhal", "zebra", "cat", "absent"):
        for published in (None, True):
            flt = search_filter(re.escape(word), "i", ["title", "body"])
            if published is not None:
                flt = {"$and": [flt, {"published": published}]}
            for sort in sorts:
                for skip, limit in ((0, 10), (0, 1), (3, 10), (0, 0), (20, 7)):
                    got = await coll.find(flt, sort=sort, skip=skip, limit=limit).to_list(None)
                    want = expected_page(docs, word, published, sort, skip, limit)
                    assert [doc["_id"] for doc in got] == want, (word, published, sort, skip)
            every = expected_page(docs, word, published, [("_id", 1)], 0, 0)
            for cap in (0, 1, 10, 30):
                assert await coll.count_documents(flt, limit=cap) == \
                    (min(cap, len(every)) if cap else len(every)), (word, published, cap)
            unsorted = await coll.find(flt, limit=5).to_list(None)
            assert len(unsorted) == min(5, len(every))
            assert {doc["_id"] for doc in unsorted} <= set(every)
