"""The list page: search, filters, sorting, keyset pages, counts, reference columns."""
import datetime
import html
import re

import pytest
from bson import ObjectId

from support.pages import link, row_ids

LIST = "/admin/notes/note/"


@pytest.fixture
async def root(site):
    return await site.user_browser("root", is_superuser=True)


async def seed(site, count, **values):
    """Insert ``count`` notes in one ``insert_many``; ``values`` may hold callables of i."""
    Note = site.model("notes.note")
    base = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    docs = []
    for i in range(count):
        data = {"title": f"Note {i:04d}", "created": base, "owner": "root"}
        data.update({k: (v(i) if callable(v) else v) for k, v in values.items()})
        note = Note(id=ObjectId(), **data)
        note.clean()
        doc = note.to_bson()
        doc["version"] = 1
        docs.append(doc)
    await Note.get_collection(site.db).insert_many(docs)
    return [doc["_id"] for doc in docs]


def titles(text):
    return re.findall(r'<td><a href="/admin/notes/note/[0-9a-f]{24}/">([^<]*)</a>', text)


async def test_search_matches_user_text_literally_and_case_insensitively(site, root):
    Note = site.model("notes.note")
    for title in ["a.b (c)*", "axb (c)*", "a.b c", "A.B (C)* shouting"]:
        await Note.create(title=title, db=site.db)
    page = await root.get(LIST + "?q=" + "a.b%20(c)*")
    assert page.code == 200
    assert sorted(titles(page.text)) == ["A.B (C)* shouting", "a.b (c)*"]
    assert '<span class="count">2</span>' in page.text
    assert 'value="a.b (c)*"' in page.text                        # kept in the search box
    for nasty in ["(", "[", "*", "\\", "a{1000}", "$where", "?"]:
        response = await root.get(LIST + "?q=" + nasty.replace("\\", "%5C").replace("?", "%3F"))
        assert response.code == 200, nasty


async def test_every_search_word_must_match_some_field(site, root):
    Note = site.model("notes.note")
    await Note.create(title="alpha", body="beta gamma", db=site.db)
    await Note.create(title="alpha only", db=site.db)
    await Note.create(title="beta only", db=site.db)
    page = await root.get(LIST + "?q=ALPHA+beta")
    assert titles(page.text) == ["alpha"]


async def test_filters_narrow_the_list_and_coerce_values(site, root):
    Note = site.model("notes.note")
    Category = site.model("notes.category")
    work = await Category.create(name="Work", db=site.db)
    await Note.create(title="done work", done=True, category=work, kind="todo", db=site.db)
    await Note.create(title="open work", done=False, category=work, db=site.db)
    await Note.create(title="open home", done=False, db=site.db)
    assert titles((await root.get(LIST + "?done=1")).text) == ["done work"]
    assert sorted(titles((await root.get(LIST + "?done=0")).text)) == ["open home", "open work"]
    assert titles((await root.get(LIST + "?kind=todo")).text) == ["done work"]
    both = await root.get(LIST + f"?category={work.id}&done=0")
    assert titles(both.text) == ["open work"]
    assert 'aria-current="true">Work</a>' in both.text             # the sidebar shows it
    assert 'aria-current="true">No</a>' in both.text


@pytest.mark.parametrize("query", ["done=maybe", "category=not-an-id", "kind=nope",
                                   "category=zzzzzzzzzzzzzzzzzzzzzzzz"])
async def test_an_invalid_filter_value_is_400_not_500(site, root, query):
    response = await root.get(f"{LIST}?{query}")
    assert response.code == 400
    assert "Invalid filter" in response.text


async def test_arguments_no_filter_reads_are_a_400_and_operators_never_reach_a_query(
        site, root):
    Note = site.model("notes.note")
    await Note.create(title="one", rank=1, owner="x", db=site.db)
    await Note.create(title="two", rank=2, owner="y", db=site.db)
    for query, name in [("rank=1", "rank"), ("owner=x", "owner"), ("done[$ne]=1", "done[$ne]"),
                        ("title[$regex]=.*", "title[$regex]"), ("%24where=1", "$where")]:
        page = await root.get(f"{LIST}?{query}")
        assert page.code == 400, query
        assert f"Unknown query argument {name!r}" in html.unescape(page.text), query
        assert titles(page.text) == [], query
    page = await root.get(f"{LIST}?done=")                     # an empty filter is "All"
    assert sorted(titles(page.text)) == ["one", "two"]


async def test_sorting_follows_the_whitelist(site, root):
    Note = site.model("notes.note")
    for title, rank in [("b", 2), ("c", 1), ("a", 3)]:
        await Note.create(title=title, rank=rank, db=site.db)
    assert titles((await root.get(LIST + "?o=title")).text) == ["a", "b", "c"]
    assert titles((await root.get(LIST + "?o=-title")).text) == ["c", "b", "a"]
    page = await root.get(LIST + "?o=rank")
    assert titles(page.text) == ["c", "b", "a"]
    assert re.search(r'<th scope="col" class="column-rank" aria-sort="ascending">', page.text)
    assert 'href="/admin/notes/note/?o=-rank"' in page.text       # the header flips it
    for bad in ["body", "owner", "--title", "nope", "_id", "version"]:
        response = await root.get(f"{LIST}?o={bad}")
        assert response.code == 400, bad
        assert "Cannot sort" in response.text


async def test_per_page_is_limited_to_the_choices(site, root):
    await seed(site, 30)
    assert len(row_ids((await root.get(LIST + "?per_page=25")).text)) == 25
    for bad in ["7", "100000", "x", "-1"]:
        assert (await root.get(f"{LIST}?per_page={bad}")).code == 400, bad


async def walk(browser, url, rel="next"):
    """Follow ``rel`` links from ``url``; returns the pages' id lists."""
    pages = []
    while url:
        page = await browser.get(url)
        assert page.code == 200, (url, page.text[:300])
        pages.append(row_ids(page.text))
        url = link(page.text, rel)
        assert len(pages) < 50
    return pages


@pytest.mark.parametrize("order", ["", "o=rank&", "o=-rank&", "o=title&"])
async def test_keyset_pages_have_no_gaps_or_duplicates_with_equal_sort_keys(site, root, order):
    # ranks repeat (equal sort keys), some are missing (null sorts first), created is equal
    ids = await seed(site, 61, rank=lambda i: None if i % 10 == 0 else i % 3,
                     title=lambda i: f"T{i % 4}")
    pages = await walk(root, f"{LIST}?{order}per_page=25")
    assert [len(p) for p in pages] == [25, 25, 11]
    seen = [oid for page in pages for oid in page]
    assert len(seen) == len(set(seen)) == 61
    assert set(seen) == {str(oid) for oid in ids}
    # the page order matches one full sorted query
    single = row_ids((await root.get(f"{LIST}?{order}per_page=100")).text)
    assert seen == single
    # and "previous" walks back through the same pages
    last = await root.get(link((await root.get(link(
        (await root.get(f"{LIST}?{order}per_page=25")).text, "next"))).text, "next"))
    back = await walk(root, link(last.text, "prev"), rel="prev")
    assert back == [pages[1], pages[0]]
    assert link((await root.get(link(last.text, "prev"))).text, "next")


async def test_the_first_page_has_no_previous_and_the_last_no_next(site, root):
    await seed(site, 30)
    first = await root.get(LIST + "?per_page=25")
    assert link(first.text, "next") and not link(first.text, "prev")
    last = await root.get(link(first.text, "next"))
    assert link(last.text, "prev") and not link(last.text, "next")
    assert link(last.text, "first") == "/admin/notes/note/?per_page=25"


async def test_a_tampered_or_foreign_cursor_is_400(site, root):
    await seed(site, 30)
    first = await root.get(LIST + "?per_page=25")
    next_url = link(first.text, "next")
    token = re.search(r"cursor=([^&]+)", next_url).group(1)
    payload, signature = token.split(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    for bad in [f"{flipped}.{signature}", f"{payload}.{signature[:-1]}x", "garbage",
                "a.b.c", "%00garbage", "%C3%A9.%C3%A9", "x" * 5000]:
        response = await root.get(f"{LIST}?per_page=25&cursor={bad}")
        assert response.code == 400, bad
        assert "cursor" in response.text
    # a valid cursor for another sort order is refused too
    response = await root.get(f"{LIST}?per_page=25&o=title&cursor={token}")
    assert response.code == 400 and "sort" in response.text


async def test_counts_are_estimated_unfiltered_and_capped_when_filtered(site, root):
    await seed(site, 1100, done=True, title=lambda i: "needle" if i < 5 else f"hay {i}")
    unfiltered = await root.get(LIST)
    assert '<span title="estimated">≈</span> <span class="count">1,100</span>' in unfiltered.text
    filtered = await root.get(LIST + "?done=1")
    assert '<span class="count">1,000+</span>' in filtered.text
    searched = await root.get(LIST + "?q=needle")
    assert '<span class="count">5</span>' in searched.text
    assert "≈" not in searched.text
    none = await root.get(LIST + "?done=0")
    assert '<span class="count">0</span>' in none.text and "No notes match." in none.text


async def test_count_documents_is_capped(site, root, monkeypatch):
    await seed(site, 1100, done=True)
    Note = site.model("notes.note")
    collection_class = type(Note.get_collection(site.db))
    calls = []
    real = collection_class.count_documents

    async def spy(self, *args, **kwargs):
        calls.append(kwargs.get("limit"))
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(collection_class, "count_documents", spy)
    await root.get(LIST + "?done=1")
    assert calls == [1001]


async def test_reference_columns_are_loaded_with_one_query(site, root, monkeypatch):
    Category = site.model("notes.category")
    categories = [await Category.create(name=f"Cat {i}", db=site.db) for i in range(5)]
    await seed(site, 40, category=lambda i: categories[i % 5].id)
    collection_class = type(Category.get_collection(site.db))
    finds = []
    real = collection_class.find

    def spy(self, filter=None, *args, **kwargs):
        finds.append((self.name, filter))
        return real(self, filter, *args, **kwargs)

    monkeypatch.setattr(collection_class, "find", spy)
    page = await root.get(LIST + "?per_page=25")
    assert page.code == 200
    category_finds = [flt for name, flt in finds if name == "notes_category"]
    in_queries = [flt for flt in category_finds if flt and "$in" in str(flt)]
    assert len(in_queries) == 1                        # the column: one $in for 25 rows
    assert len(category_finds) == 2                    # + the filter sidebar's options
    for category in categories:
        assert f'<a href="/admin/notes/category/{category.id}/">{category.name}</a>' in page.text


async def test_reference_labels_link_only_when_the_target_is_readable(site):
    Category = site.model("notes.category")
    Note = site.model("notes.note")
    work = await Category.create(name="Work", db=site.db)
    await Note.create(title="n", category=work, db=site.db)
    browser = await site.user_browser("reader", {"notes.note": ["read"]})
    page = await browser.get(LIST)
    # seeing is reading: no category read, no category label
    assert "<td>(hidden)" in page.text and "Work" not in page.text
    assert f'href="/admin/notes/category/{work.id}/"' not in page.text
    both = await site.user_browser("both", {"notes.note": ["read"], "notes.category": ["read"]})
    page = await both.get(LIST)
    assert f'<a href="/admin/notes/category/{work.id}/">Work</a>' in page.text


async def test_booleans_and_datetimes_are_formatted(site, root):
    Note = site.model("notes.note")
    await Note.create(title="t", done=True, db=site.db)
    page = await root.get(LIST)
    assert 'aria-hidden="true">✓</span><span class="visually-hidden">Yes</span>' in page.text
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", page.text)


async def test_user_data_is_escaped_on_every_page(site, root):
    Note = site.model("notes.note")
    note = await Note.create(title="<script>alert(1)</script>", body="<b>x</b>", db=site.db)
    for path in [LIST, f"{LIST}{note.id}/", f"{LIST}{note.id}/change/", f"{LIST}{note.id}/delete/",
                 LIST + "?q=%3Cscript%3E"]:
        page = await root.get(path)
        assert page.code == 200, path
        assert "<script>alert(1)</script>" not in page.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path


def test_list_urls_are_the_query_arguments_url_encoded():
    """``ChangeList.url_with`` (kept arguments encoded once per list) writes what
    ``urlencode(query_args(**changes))`` writes: order, replacements, removals, new
    arguments, and text that needs quoting."""
    from types import SimpleNamespace
    from urllib.parse import urlencode

    from core.admin.changelist import ChangeList
    changelist = ChangeList.__new__(ChangeList)
    changelist.model_admin = SimpleNamespace(url_prefix="/admin/notes/note/")
    changelist._kept_args = {"q": 'a b&c "d"', "o": "-title", "published": "true",
                             "é": "ü/+"}
    for changes in [{}, {"cursor": None}, {"cursor": "x=y/z"}, {"o": "title"},
                    {"q": None, "cursor": None}, {"per_page": 25, "o": None},
                    {"new": "1", "q": "other"},
                    {"q": None, "o": None, "published": None, "é": None}]:
        args = changelist.query_args(**changes)
        expected = "/admin/notes/note/" + (f"?{urlencode(args)}" if args else "")
        assert changelist.url_with(**changes) == expected, changes
