"""The embedded store's search index (core.db.embedded.search): it is what answers a
search, its folding agrees with Python's ``re``, and it stays right across
processes, failed writes and array fields."""
import json
import re
import sys
import unicodedata

import pytest

from core.db import DuplicateKeyError, connect
from core.db.embedded import search
from core.db.embedded.sql import fold_class
from core.db.embedded.store import Store


def title_has(word, options="i"):
    return {"title": {"$regex": re.escape(word), "$options": options}}


def plan(store, coll, flt):
    """SQLite's plan for the store's query of ``flt`` (the detail column of each step)."""
    def work(conn):
        where, params = store._compile(conn, coll, flt, store._arrays(conn, coll))
        return [row[3] for row in conn.execute(
            f'EXPLAIN QUERY PLAN SELECT rowid FROM "c:{coll}" WHERE {where}', params)]
    return store._read(work)


def indexed_rowids(store, coll, text):
    """Rowids the FTS table itself holds for ``text`` (folded like the triggers fold)."""
    query = search.match_text(text)
    return store._read(lambda conn: sorted(r[0] for r in conn.execute(
        f'SELECT rowid FROM "s:{coll}" WHERE "s:{coll}" MATCH ?', (query,))))


@pytest.fixture
def store(tmp_path):
    opened = Store(str(tmp_path / "store.sqlite3"), "test")
    yield opened
    opened.close()


def test_every_character_folds_like_pythons_re():
    """Members of one ``re.IGNORECASE`` class fold to one character, so the index (folded
    text) never misses a document ``re`` would match."""
    step = 1 if "--all-code-points" in sys.argv else 7
    for code in list(range(0, 0x3000)) + list(range(0x3000, 0x110000, step)):
        if 0xD800 <= code < 0xE000:
            continue
        char = chr(code)
        folded = search.fold("\u00e9" + char)[1]       # the non-ASCII path
        assert all(search.fold("\u00e9" + member)[1] == folded for member in fold_class(char))
        if char.isascii():
            assert search.fold(char) == folded          # the ASCII fast path agrees


def test_a_literal_search_is_answered_from_the_index(store):
    store.insert("a", [{"_id": i, "title": f"row {i}", "n": i} for i in range(50)], True)
    store.create_search_index("a", ["title"])
    steps = " ".join(plan(store, "a", title_has("row 1")))
    assert 'VIRTUAL TABLE INDEX' in steps and "s:a" in steps
    for short_or_real in (title_has("ro"), {"title": {"$regex": "r.w", "$options": "i"}}):
        assert "s:a" not in " ".join(plan(store, "a", short_or_real))
    assert len(store.find("a", title_has("ROW 1"), (None, [], True), [], 0, 0)) == 11


def test_another_connection_writes_through_the_same_index(tmp_path):
    """Two stores on one file (two processes, as far as SQLite knows): what one writes,
    the other finds through the index, and deletes leave nothing behind."""
    path = str(tmp_path / "shared.sqlite3")
    first, second = Store(path, "test"), Store(path, "test")
    try:
        first.create_search_index("a", ["title"])
        second.insert("a", [{"_id": 1, "title": "Written by the second"}], True)
        assert indexed_rowids(first, "a", "second") == [1]
        assert [d["_id"] for d in first.find("a", title_has("SECOND"), (None, [], True),
                                             [], 0, 0)] == [1]
        second.update("a", {"_id": 1}, {"$set": {"title": "renamed"}})
        assert indexed_rowids(first, "a", "second") == []
        first.delete("a", {}, True)
        assert indexed_rowids(second, "a", "renamed") == []
    finally:
        first.close()
        second.close()


def test_a_failed_write_leaves_the_index_as_it_was(store):
    store.create_search_index("a", ["title"])
    store.insert("a", [{"_id": 1, "title": "kept"}], True)
    inserted, errors = store.insert("a", [{"_id": 2, "title": "dup first"},
                                          {"_id": 1, "title": "dup again"}], True)
    assert inserted == 1 and isinstance(errors[0][1], DuplicateKeyError)
    assert indexed_rowids(store, "a", "dup") == [2]
    store.create_index("a", [("title", 1)], True, "title_1", None)
    with pytest.raises(DuplicateKeyError):
        store.update("a", {"_id": {"$in": [1, 2]}}, {"$set": {"title": "rolled back"}},
                     many=True)
    assert indexed_rowids(store, "a", "rolled back") == []
    assert indexed_rowids(store, "a", "kept") == [1]


def test_a_field_that_held_an_array_is_searched_by_the_scan(store):
    store.create_search_index("a", ["title"])
    store.insert("a", [{"_id": 1, "title": ["first tag", "Second tag"]},
                       {"_id": 2, "title": "second"}], True)
    assert "s:a" not in " ".join(plan(store, "a", title_has("second")))
    assert [d["_id"] for d in store.find("a", title_has("second"), (None, [], True),
                                         [("_id", 1)], 0, 0)] == [1, 2]


async def test_the_declaration_survives_a_restart(tmp_path):
    url = f"embedded:{tmp_path}/db.sqlite3"
    db = connect(url)
    await db["a"].create_search_index(["title"])
    await db["a"].insert_one({"title": "Persisted"})
    await db.close()
    db = connect(url)
    try:
        assert db.store.search_fields("a") == ["title"]
        await db["a"].insert_one({"title": "after restart"})
        assert indexed_rowids(db.store, "a", "restart") == [2]
        assert await db["a"].count_documents(title_has("PERSIST")) == 1
    finally:
        await db.close()


def test_common_and_rare_words_find_the_same_rows_either_way(store, monkeypatch):
    """A delete reads the index's candidates only when they are few (else it scans); a
    page query reads by the plan ``search.choose_plan`` picks; a capped count is always
    driven by the index. All answer as the scan does."""
    docs = [{"_id": i, "title": f"{'common' if i % 3 else 'rare'} word {i}", "n": i}
            for i in range(60)]
    store.insert("a", docs, True)
    store.insert("plain", [dict(d) for d in docs], True)
    store.create_search_index("a", ["title"])
    everything = (None, [], True)
    for few in (search.FEW_CANDIDATES, 5):
        monkeypatch.setattr(search, "FEW_CANDIDATES", few)
        for word in ("common", "rare", "word 1", "absent"):
            for flt in (title_has(word), {"$and": [title_has(word), {"n": {"$gte": 30}}]}):
                want = store.find("plain", flt, everything, [("n", -1)], 0, 7)
                assert store.find("a", flt, everything, [("n", -1)], 0, 7) == want
                for cap in (0, 1, 10):
                    assert store.count("a", flt, 0, cap) == store.count("plain", flt, 0, cap)
        steps = " ".join(plan(store, "a", title_has("common")))
        assert ("s:a" in steps) == (few > 40)


def page_statement(store, coll, flt, sort, limit):
    """The documents of a page query and the SELECT that read them."""
    statements = []
    conn = store.connection()
    conn.set_trace_callback(statements.append)
    try:
        found = store.find(coll, flt, (None, [], True), sort, 0, limit)
    finally:
        conn.set_trace_callback(None)
    reads = [s for s in statements if s.startswith("SELECT") and f'"c:{coll}"' in s
             and "ORDER BY" in s]
    return [doc["_id"] for doc in found], reads[-1]


def test_a_page_reads_by_the_cheapest_plan(store):
    """A rare word's page sorts its few candidates; a middling word's walks the order's
    index and looks each entry up in the candidates before reading the row; a common
    word's walks the order alone. Each page is the one the scan gives."""
    docs = [{"_id": i, "n": i, "title": "common " + ("middling " if i % 40 == 0 else "") +
             ("rare" if i % 800 == 0 else "")} for i in range(4000)]
    store.insert("a", docs, True)
    store.insert("plain", [dict(d) for d in docs], True)
    for coll in ("a", "plain"):
        store.create_index(coll, [("n", -1)], False, "n_-1", None)
    store.create_search_index("a", ["title"])
    sort = [("n", -1)]
    for word, marker in (("rare", "CROSS JOIN"), ("middling", '+"c:a".rowid IN'),
                         ("common", None)):
        found, statement = page_statement(store, "a", title_has(word), sort, 11)
        assert found == page_statement(store, "plain", title_has(word), sort, 11)[0]
        if marker is None:
            assert '"s:a"' not in statement, word
        else:
            assert marker in statement, word


def test_the_plans_costs():
    """``choose_plan``: few candidates are sorted; a middling number probed from the
    order's walk; many scanned; a set too big for ``WALK_SET`` keeps the newest only."""
    none = search.NO_ROWID
    million = dict(rows=10**6, first_rowid=1, last_rowid=10**6, ordered=True)
    assert search.choose_plan(200, 5, wanted=51, **million) == (search.SORTED, none)
    # the newest 1000 candidates in the newest 200,000 rows: ~5,000 in all
    assert search.choose_plan(search.SAMPLE, 800_001, wanted=51, **million) == \
        (search.PROBE, none)
    # 1,000 in the newest 2,000 rows: a word in half the rows
    assert search.choose_plan(search.SAMPLE, 998_001, wanted=51, **million)[0] == search.SCAN
    # every match wanted: a scan of the whole order, or the candidates sorted
    assert search.choose_plan(200, 5, wanted=None, **million)[0] == search.SORTED
    # 50,000 candidates in a collection of 100 million: the newest WALK_SET of them only
    huge = dict(rows=10**8, first_rowid=1, last_rowid=10**8, ordered=True)
    plan, set_from = search.choose_plan(search.SAMPLE, 10**8 - 2_000_000, wanted=51, **huge)
    assert plan == search.PROBE
    assert set_from == 10**8 - search.WALK_SET * 2_000_001 // search.SAMPLE
    # unsorted: candidates stream until the page is full
    assert search.choose_plan(search.SAMPLE, 800_001, rows=10**6, first_rowid=1,
                              last_rowid=10**6, wanted=10, ordered=False)[0] == search.SORTED


async def test_the_admins_search_fields_are_the_declaration(tmp_path):
    """``ModelAdmin.search_fields`` is declared once; start-up indexes those fields."""
    from core.app import make_app, shutdown, startup
    from support import make_settings
    settings = make_settings(tmp_path, ["apps.accounts", "apps.blog"],
                             DATABASE_URL=f"embedded:{tmp_path}/app.sqlite3")
    app = make_app(settings)
    created = await startup(app)
    try:
        assert app.db.store.search_fields("blog_article") == ["title", "body"]
        assert app.db.store.search_fields("blog_category") == ["name"]
        assert "search:blog_article" in created["blog.article"]
    finally:
        await shutdown(app)


def test_trigrams_found_apart_or_in_another_field_are_only_candidates(store):
    """The index records which documents hold a trigram, not where (``detail=none``):
    a document holding every trigram of the word, but not the word, is dropped by the
    exact condition."""
    store.create_search_index("a", ["title", "body"])
    store.insert("a", [{"_id": 1, "title": "narwhal", "body": ""},
                       {"_id": 2, "title": "nar", "body": "rwhale, arwen, whale"},
                       {"_id": 3, "title": "rwhal narw", "body": ""}], True)
    assert indexed_rowids(store, "a", "narwhal") == [1, 2, 3]
    word = {"$or": [title_has("NARWHAL"), {"body": {"$regex": "narwhal", "$options": "i"}}]}
    assert [d["_id"] for d in store.find("a", word, (None, [], True), [], 0, 0)] == [1]
    assert store.count("a", word, 0, 10) == 1


def test_an_index_in_an_older_layout_is_rebuilt(store):
    """A file indexed in another layout (an older Bastion: ``detail=full``, column
    filters) is not used; declaring the fields again rebuilds the index."""
    store.insert("a", [{"_id": 1, "title": "Old layout"}], True)
    store.create_search_index("a", ["title"])

    older = json.dumps({"fields": ["title"], "unicode": unicodedata.unidata_version})

    def age(conn):
        conn.execute("UPDATE bastion_search SET fields=? WHERE coll='a'", (older,))
    store._write(age)
    assert store.search_fields("a") == []
    assert "s:a" not in " ".join(plan(store, "a", title_has("layout")))
    assert store.create_search_index("a", ["title"]) is True
    assert store.search_fields("a") == ["title"]
    assert indexed_rowids(store, "a", "layout") == [1]


def test_a_file_is_read_through_a_memory_map(store):
    """Every connection to a file maps it (a search reads its candidates' rows anywhere
    in the file; through the map each costs about half as much); ``:memory:`` has none."""
    from core.db.embedded import store as store_module
    assert store.connection().execute("PRAGMA mmap_size").fetchone()[0] > 0
    assert store_module.MMAP_BYTES > 0


def test_a_plan_is_kept_and_a_kept_plan_stays_exact(store, monkeypatch):
    """The plan of a search page is chosen once per ``PLAN_SECONDS`` (the next pages and
    the same search again skip the sample); rows written since are still found."""
    calls = []
    choose = search.choose_plan
    monkeypatch.setattr(search, "choose_plan", lambda *a: calls.append(a) or choose(*a))
    store.insert("a", [{"_id": i, "title": f"row {i}" + (" zebra" if i % 5 == 0 else "")}
                       for i in range(100)], True)
    store.create_search_index("a", ["title"])
    everything = (None, [], True)

    def page(size=3):
        return [d["_id"] for d in store.find("a", title_has("zebra"), everything,
                                             [("_id", -1)], 0, size)]
    assert page() == [95, 90, 85]
    store.insert("a", [{"_id": 200, "title": "a new zebra"}], True)
    store.delete("a", {"_id": 95}, False)
    assert page() == [200, 90, 85]
    assert len(calls) == 1
    monkeypatch.setattr(search, "PLAN_SECONDS", -1.0)     # expired at once: chosen again
    assert page(4) == page(4) == [200, 90, 85, 80]
    assert len(calls) == 3


def test_a_walk_that_meets_the_newest_rows_first_probes_the_sampled_candidates():
    """When the order's walk starts at the newest rows, the sampled (newest) candidates
    are the set; otherwise the set holds every candidate (up to ``WALK_SET``)."""
    million = dict(rows=10**6, first_rowid=1, last_rowid=10**6, wanted=51, ordered=True)
    assert search.choose_plan(search.SAMPLE, 800_001, newest_first=True, **million) == \
        (search.PROBE, 800_001)
    assert search.choose_plan(search.SAMPLE, 800_001, newest_first=False, **million) == \
        (search.PROBE, search.NO_ROWID)
    # all the candidates were sampled: the set is all of them either way
    assert search.choose_plan(600, 1, newest_first=True, **million)[1] == search.NO_ROWID


def test_the_sort_tells_whether_the_walk_meets_the_newest_rows_first(store, monkeypatch):
    seen = []
    choose = search.choose_plan
    monkeypatch.setattr(search, "choose_plan", lambda *a: seen.append(a[-1]) or choose(*a))
    store.insert("a", [{"_id": i, "n": 100 - i, "title": "row zebra"} for i in range(30)],
                 True)
    store.create_search_index("a", ["title"])
    everything = (None, [], True)
    for sort, newest_first in (([("_id", -1)], True), ([("_id", 1)], False),
                               ([("n", 1)], True), ([("n", -1)], False)):
        found = store.find("a", title_has("zebra"), everything, sort, 0, 5)
        assert [d["_id"] for d in found] == [d["_id"] for d in sorted(
            found, key=lambda d: d[sort[0][0]], reverse=sort[0][1] == -1)]
        assert seen[-1] is newest_first, sort


def test_a_capped_count_of_a_common_word_reads_the_table(store):
    """A capped count reads a rare word's candidates from the index, but a common word's
    rows from the table, which reach the cap sooner; both count as the scan does."""
    docs = [{"_id": i, "title": "common" + (" rare" if i % 500 == 0 else "")}
            for i in range(3000)]
    store.insert("a", docs, True)
    store.insert("plain", [dict(d) for d in docs], True)
    store.create_search_index("a", ["title"])
    conn = store.connection()
    for word, driven in (("rare", True), ("common", False)):
        statements = []
        conn.set_trace_callback(statements.append)
        try:
            counted = store.count("a", title_has(word), 0, 1001)
        finally:
            conn.set_trace_callback(None)
        assert counted == store.count("plain", title_has(word), 0, 1001)
        counting = [s for s in statements if s.startswith("SELECT count(*) FROM (SELECT 1")]
        assert ('"s:a"' in counting[-1]) is driven, word


def test_the_index_merges_its_segments_eight_at_a_time(store):
    """A new index lets ``search.AUTOMERGE`` segments of one size pile up before it merges
    them (FTS5's default, 4, rewrites a bulk load's entries once per extra level); a
    batch is one segment, and what many batches wrote is found as one batch's is."""
    store.create_search_index("a", ["title"])
    automerge = store._read(lambda conn: conn.execute(
        """SELECT v FROM "s:a_config" WHERE k='automerge'""").fetchone())
    assert automerge == (search.AUTOMERGE,) and search.AUTOMERGE == 8
    for batch in range(40):
        store.insert("a", [{"_id": batch * 10 + n, "title": f"Word{batch} and zebras {n}"}
                           for n in range(10)], True)
    assert indexed_rowids(store, "a", "zebras") == list(range(1, 401))
    assert [d["_id"] for d in store.find("a", title_has("word3 "), (None, [], True),
                                         [("_id", 1)], 0, 0)] == list(range(30, 40))


def test_a_word_over_several_fields_is_looked_up_once():
    """The admin's word over two fields is an ``$or`` of one literal twice: the FTS5 query
    names it once (FTS5 would read its trigrams' doclists once per copy), and a condition
    repeated in an ``$and`` once too; distinct branches stay an OR."""
    index = search.SearchIndex("a", ["title", "body"])
    word = {"$or": [{"title": {"$regex": "zebras", "$options": "i"}},
                    {"body": {"$regex": "zebras", "$options": "i"}}]}
    assert index.match_query(word, set()) == search.match_text("zebras")
    assert index.match_query({"$and": [word, title_has("zebras")]}, set()) == \
        search.match_text("zebras")
    either = {"$or": [title_has("zebras"), {"body": {"$regex": "narwhal", "$options": "i"}}]}
    assert index.match_query(either, set()) == \
        f"({search.match_text('zebras')} OR {search.match_text('narwhal')})"


def test_a_walk_past_the_newest_candidates_reads_the_rest_of_its_set(store, monkeypatch):
    """A walk that meets the newest rows first looks its entries up in the newest
    candidates (``NEAR_FACTOR`` times the rows wanted), then, once past them, in the rest
    of its set, then leaves older rows to the filter: the page is the scan's whichever
    part of the set its rows come from."""
    docs = [{"_id": i, "n": i, "keep": i % 120 == 0 or i < 300,
             "title": "common " + ("middling" if i % 40 == 0 else "")} for i in range(4000)]
    store.insert("a", docs, True)
    store.insert("plain", [dict(d) for d in docs], True)
    for coll in ("a", "plain"):
        store.create_index(coll, [("n", -1)], False, "n_-1", None)
    store.create_search_index("a", ["title"])
    sort, everything = [("n", -1)], (None, [], True)
    kept = {"$and": [title_has("middling"), {"keep": True}]}
    for near_factor, walk_set in ((4, search.WALK_SET), (1, search.WALK_SET), (1, 20)):
        monkeypatch.setattr(search, "NEAR_FACTOR", near_factor)
        monkeypatch.setattr(search, "WALK_SET", walk_set)
        for flt, limit in ((title_has("middling"), 11), (kept, 11), (kept, 40)):
            store._plans = search.Plans()
            found, statement = page_statement(store, "a", flt, sort, limit)
            want = [d["_id"] for d in store.find("plain", flt, everything, sort, 0, limit)]
            assert found == want, (near_factor, walk_set, flt, limit)
            # 100 candidates: the set is split when the newest it wants are fewer, unless
            # the set (WALK_SET 20: the newest ~80 rows) holds none older than those
            split = near_factor * limit < 100 and walk_set > 20
            assert statement.count('"s:a" MATCH') == (2 if split else 1), statement
