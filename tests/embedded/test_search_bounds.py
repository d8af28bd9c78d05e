"""Searches on the embedded store run in bounded time and never hold the GIL for long.

A literal search (what the admin's search box sends: ``re.escape(word)`` with ``i``)
is answered by SQLite's C functions, whatever the letters; a real regular expression
still goes through Python, one bounded call per string, and every statement with a
``$regex`` runs within ``Store.regex_time_budget`` or stops with ``QueryTimeout``.
"""
import re
import sys

import pytest
from pymongo.errors import ExecutionTimeout

from core.db import QueryTimeout, WriteError, connect
from core.db.embedded import sql
from core.db.embedded.codec import TAG
from support.bounds import STALL_LIMIT, least_loop_stall


@pytest.fixture
async def db(tmp_path):
    database = connect(f"embedded:{tmp_path}/bounds.sqlite3")
    yield database
    await database.close()


@pytest.fixture
async def counted(db, monkeypatch):
    """A connection to the same file whose regex callback counts its calls and their size."""
    calls = []
    original = sql.regex_function

    def counting(pattern, options, value):
        calls.append(len(value) if isinstance(value, str) else 0)
        return original(pattern, options, value)
    monkeypatch.setattr(sql, "regex_function", counting)
    fresh = connect(f"embedded:{db.path}")          # registers the counting function
    fresh.calls = calls
    yield fresh
    await fresh.close()


def search(word, *fields):
    return {"$or": [{name: {"$regex": re.escape(word), "$options": "i"}} for name in fields]}


# -- literal searches stay in SQLite -------------------------------------------------------
async def test_a_non_ascii_search_over_huge_legacy_text_calls_no_python(counted):
    coll = counted["articles"]
    big = "Crème brûlée à la carte; " * 200_000               # ~5 MiB, no model limit here
    await coll.insert_many([{"title": "Legacy", "body": big},
                            {"title": "Naïve café", "body": "short"},
                            {"title": "plain", "body": "ASCII only"}])
    for word in ("NAÏVE", "café", "brûlée", "zebra", "ÆRØ"):
        found = await coll.find(search(word, "title", "body")).to_list(None)
        expected = {"NAÏVE": ["Naïve café"], "café": ["Naïve café"],
                    "brûlée": ["Legacy"]}.get(word, [])
        assert sorted(d["title"] for d in found) == expected, word
        assert await coll.count_documents(search(word, "title", "body")) == len(expected)
    assert counted.calls == []                    # on the old code: one call per string


async def test_a_search_over_huge_text_does_not_stall_the_event_loop(db):
    coll = db["articles"]
    # Python's re tries every position of "aaaa…" for "aaaaaaaaé": ~0.3 s holding the GIL
    await coll.insert_many([{"body": "a" * 3_000_000}] +
                           [{"body": f"note {i}"} for i in range(500)])
    flt = search("aaaaaaaaé", "body")
    found, stall = await least_loop_stall(lambda: coll.find(flt).to_list(None))
    assert found == []
    assert stall < STALL_LIMIT, f"the event loop stalled for {stall * 1000:.0f} ms"


SEARCH_TEXTS = ["STRASSE", "Straße", "STRAẞE", "Ωmega", "ωmega", "Ωmega", "\u212aelvin", "kelvin",
                "İstanbul", "ıstanbul", "istanbul", "ſtop", "Stop", "Åsa", "åsa", "Åsa",
                "θeta", "ϑeta", "ϴeta", "Σίσυφος", "σίσυφοσ", "ςίσυφος", "µ-law", "μ-law",
                "caf\u00e9", "CAFÉ", "cafe\u0301", "a*b?c[d]", "50% off_", TAG + "zebra",
                TAG + "Σ", "ǅemal", "ǆemal", "Ǆemal", "plain ascii", "line\nbreak"]
SEARCH_WORDS = ["straße", "STRASSE", "ẞ", "ω", "kelvin", "K", "istanbul", "İ", "ı", "s", "ſ",
                "å", "Å", "θ", "ϑ", "σίσυφος", "ς", "µ", "Μ", "café", "e\u0301", "a*b?c[d]",
                "*", "?", "[", "]", "% off_", TAG + "z", TAG + "σ", "ǅ", "ǆemal", "k\nb",
                "e\nb", "plain ascii"]


@pytest.mark.parametrize("options", ["i", ""])
async def test_literal_searches_answer_exactly_as_python_re_for_any_letter(counted, options):
    coll = counted["texts"]
    await coll.insert_many([{"s": text, "pad": "x"} for text in SEARCH_TEXTS])
    flags = re.IGNORECASE if options else 0
    for word in SEARCH_WORDS:
        flt = {"s": {"$regex": re.escape(word), "$options": options}}
        found = await coll.find(flt).to_list(None)
        expected = [t for t in SEARCH_TEXTS if re.search(re.escape(word), t, flags)]
        assert sorted(d["s"] for d in found) == sorted(expected), repr(word)
    assert counted.calls == []


ALL_CHARACTERS = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)
# letters with more than two case forms, and a sample of ordinary ones
FOLD_SAMPLE = "aiksyzIKSAåÅæßẞθϑϴσςΣωΩµμΜιͅιϐβǅǆǄǈǉǋǌĳĲſﬅﬆѲѳᲀвᲈꙋ1 -]*"


@pytest.mark.parametrize("char", list(FOLD_SAMPLE))
def test_fold_class_is_every_character_re_accepts(char):
    expected = set(re.findall(re.escape(char), ALL_CHARACTERS, re.IGNORECASE))
    assert set(sql.fold_class(char)) == expected


def test_the_odd_lower_case_table_is_complete_for_this_python():
    """Characters that lower-case to a letter without being its upper or title case."""
    found = {}
    for code in range(sys.maxunicode + 1):
        low = sql._simple_lower(code)
        if low != code and chr(low).upper() != chr(code) and chr(low).title() != chr(code):
            found.setdefault(low, []).append(code)
    assert {k: tuple(v) for k, v in found.items()} == sql.ODD_LOWERS


def test_glob_patterns_spell_the_first_letter_out_and_escape_glob_specials():
    assert sql.glob_patterns("ab", True) == ["*A[Bb]*", "*a[Bb]*"]
    assert sql.glob_patterns("*?[]", True) == ["*[*][?][[]]*"]
    assert sql.glob_patterns("Ab", False) == ["*Ab*"]
    assert sql.folds_needed("café") and not sql.folds_needed("kelvin")
    assert not sql.folds_needed("\u212a")            # the Kelvin sign also matches ASCII k


# -- real regular expressions: bounded calls, a time budget --------------------------------
async def seed(coll, count):
    await coll.insert_many([{"n": i, "title": f"title {i}"} for i in range(count)])


async def test_a_regex_past_its_time_budget_stops_with_query_timeout(db):
    coll = db["articles"]
    await seed(coll, 20_000)
    db.store.regex_time_budget = 0.001
    flt = {"title": {"$regex": r"title \d*5$"}}
    for run in (lambda: coll.find(flt).to_list(None), lambda: coll.count_documents(flt),
                lambda: coll.delete_many(flt)):
        with pytest.raises(QueryTimeout) as caught:
            await run()
        assert isinstance(caught.value, ExecutionTimeout) and caught.value.code == 50
        assert "time budget" in str(caught.value) and "full error" not in str(caught.value)
        assert caught.value.message == str(caught.value)
    # nothing was deleted, and the same connections answer the next query
    db.store.regex_time_budget = 10
    assert await coll.count_documents(flt) == 2000
    assert await coll.count_documents({}) == 20_000


async def test_a_literal_search_has_the_same_budget(db):
    coll = db["articles"]
    await seed(coll, 20_000)
    db.store.regex_time_budget = 0.0
    with pytest.raises(QueryTimeout):
        await coll.count_documents(search("títle", "title"))
    db.store.regex_time_budget = None                  # no budget at all
    assert await coll.count_documents(search("títle", "title")) == 0
    assert await coll.count_documents({"n": {"$gte": 0}}) == 20_000


async def test_queries_without_regex_have_no_budget(db):
    coll = db["articles"]
    await seed(coll, 5_000)
    db.store.regex_time_budget = 0.0
    assert await coll.count_documents({"title": {"$gte": "title"}}) == 5_000


async def test_a_regex_over_a_string_past_the_limit_is_refused_not_run(db, monkeypatch):
    coll = db["articles"]
    await coll.insert_many([{"body": "x" * 5000}, {"body": "short"}])
    monkeypatch.setattr(sql, "REGEX_SUBJECT_LIMIT", 1000)
    with pytest.raises(QueryTimeout) as caught:
        await coll.find({"body": {"$regex": "^x+y"}}).to_list(None)
    assert "5000 characters is too long" in str(caught.value)
    # a literal search of the same value runs in SQLite, whatever its length
    assert await coll.count_documents({"body": {"$regex": "xxx"}}) == 1


# -- numbers past int64 ---------------------------------------------------------------------
async def test_an_inc_past_int64_is_a_write_error_and_changes_nothing(db):
    coll = db["counters"]
    await coll.insert_one({"_id": 1, "n": 2 ** 63 - 1, "f": 1e308})
    with pytest.raises(WriteError) as caught:
        await coll.update_one({"_id": 1}, {"$inc": {"n": 1}})
    assert caught.value.code == 2
    with pytest.raises(WriteError):
        await coll.update_one({"_id": 1}, {"$inc": {"f": 1e308}})
    assert await coll.find_one({"_id": 1}) == {"_id": 1, "n": 2 ** 63 - 1, "f": 1e308}


async def test_skip_and_limit_past_int64_do_not_overflow_sqlite(db):
    coll = db["things"]
    await coll.insert_many([{"n": i} for i in range(3)])
    assert len(await coll.find({}, limit=2 ** 70).to_list(None)) == 3
    assert await coll.find({}, skip=2 ** 70).to_list(None) == []
    assert await coll.count_documents({}, limit=2 ** 70) == 3
