"""What list pages keep between requests: reference labels and counts.

A session's pages reuse the labels of the objects its rows reference while the auth cache
serves it the same permissions and nobody writes to the referenced model in this
process (``ModelRequestHandler.read_memo``): a rename, a deletion or a changed grant
shows on the very next page, and two users never see each other's labels. A list's
count is reused for the same filter (``core.admin.pagination.count_rows``) until a
write in this process or ``COUNT_KEPT_SECONDS``.
"""
import asyncio
import re

import pytest

from support.pages import row, text_of

LIST = "/admin/notes/note/"
HIDDEN = "(hidden)"


def category_cell(page, note):
    """The category column's cell of ``note``'s row (markup)."""
    cells = re.findall(r"<td>(.*?)</td>", row(page.text, note.id), re.S)
    assert page.code == 200 and len(cells) == 5, (page.code, page.text[:300])
    return cells[1]


@pytest.fixture
async def world(site):
    Category, Note = site.model("notes.category"), site.model("notes.note")
    work = await Category.create(name="Work", db=site.db)
    note = await Note.create(title="a note", category=work, db=site.db)
    return Category, work, note


@pytest.fixture
def category_reads(site, monkeypatch):
    """How many reads reach the categories' collection (a list, appended to)."""
    collection = site.model("notes.category").get_collection(site.db)
    calls = []
    find = type(collection).find

    def counted(self, *args, **kwargs):
        if self is collection:
            calls.append(args)
        return find(self, *args, **kwargs)
    monkeypatch.setattr(type(collection), "find", counted)
    return calls


async def test_a_second_page_reads_no_label_again(site, world, category_reads):
    _, work, note = world
    reader = await site.user_browser("reader", {"notes.note": ["read"],
                                                "notes.category": ["read"]})
    blind = await site.user_browser("blind", {"notes.note": ["read"]})
    for browser, shown in ((reader, "Work"), (blind, HIDDEN)):
        category_reads.clear()
        for _ in range(2):          # the login's page, then the first the auth cache serves
            assert text_of(category_cell(await browser.get(LIST), note)) == shown
        assert category_reads, "the first pages read the label"
        category_reads.clear()
        page = await browser.get(LIST)
        assert text_of(category_cell(page, note)) == shown
        assert category_reads == [], "the next page reads it again"
        sidebar = re.search(r"<h3>By category</h3>(.*?)</ul>", page.text, re.S).group(1)
        assert ("Work" in sidebar) == (shown == "Work"), sidebar


async def test_a_renamed_or_deleted_category_shows_on_the_next_page(site, world):
    _, work, note = world
    reader = await site.user_browser("reader", {"notes.note": ["read"],
                                                "notes.category": ["read"]})
    blind = await site.user_browser("blind", {"notes.note": ["read"]})
    for _ in range(2):              # the login's page, then one the auth cache serves
        cell = category_cell(await reader.get(LIST), note)
        assert text_of(cell) == "Work" and f'href="/admin/notes/category/{work.id}/"' in cell
    for _ in range(2):
        assert text_of(category_cell(await blind.get(LIST), note)) == HIDDEN
    work.name = "Home"
    await work.save(db=site.db)
    page = await reader.get(LIST)
    assert text_of(category_cell(page, note)) == "Home"
    assert "Home" in page.text.split("<h3>By category</h3>")[1].split("</ul>")[0]
    await work.delete(db=site.db)
    for browser in (reader, blind):
        cell = category_cell(await browser.get(LIST), note)
        assert text_of(cell) == f"{work.id} (missing)" and "<a" not in cell, cell


async def test_a_revoked_grant_hides_the_label_on_the_next_page(site, world):
    _, work, note = world
    reader = await site.user_browser("reader", {"notes.note": ["read"],
                                                "notes.category": ["read"]})
    for _ in range(2):
        assert text_of(category_cell(await reader.get(LIST), note)) == "Work"
    User = site.model("accounts.user")
    user = await User.find_one({"username": "reader"}, db=site.db)
    user.permissions = {"notes.note": ["read"]}
    await user.save(db=site.db)
    cell = category_cell(await reader.get(LIST), note)
    assert text_of(cell) == HIDDEN and "<a" not in cell, cell


async def test_users_never_see_each_other_s_labels(site, world):
    """Alternating pages of three users who see the same category three ways: its name,
    "(hidden)", and (its name hidden from them: ``-read:name``) "Category <id>"."""
    _, work, note = world
    reader = await site.user_browser("reader", {"notes.note": ["read"],
                                                "notes.category": ["read"]})
    blind = await site.user_browser("blind", {"notes.note": ["read"]})
    nameless = await site.user_browser("nameless", {"notes.note": ["read"],
                                                    "notes.category": ["read", "-read:name"]})
    expected = [(reader, "Work"), (blind, HIDDEN), (nameless, f"Category {work.id}")]
    for n in [0, 1, 2, 1, 0, 2, 0, 1, 2]:
        browser, shown = expected[n]
        assert text_of(category_cell(await browser.get(LIST), note)) == shown


def test_what_requests_share_goes_with_the_grants_they_were_served_under():
    """``CachedAuth.shared_with``: the entry's dict for a plain fork of its built object;
    none for a request that added an object rule of its own, nor for one built before
    the entry rebuilt its object (a grant expired), and the rebuilt one starts empty."""
    import datetime

    from core.auth.cache import CachedAuth
    from core.permissions import Permissions
    user = {"is_active": True, "permissions": {"demo.widget": ["read"]}}
    entry = CachedAuth(1, dict(user), Permissions(user, {}, None))
    mine, ruled = entry.permissions_for(user, None), entry.permissions_for(user, None)
    ruled.add_object_rule("demo.widget", lambda who, action, obj: False)
    assert entry.shared_with(mine) is entry.shared and entry.shared_with(ruled) is None
    entry.shared["labels"] = "kept"
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)
    ends = (past + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%MZ")
    expiring = {"is_active": True, "permissions": {"demo.widget": ["read", f"write@{ends}"]}}
    stale = CachedAuth(1, dict(expiring), Permissions(expiring, {}, None, now=past))
    old = stale.permissions.fork(expiring)
    stale.shared["labels"] = "kept"
    fresh = stale.permissions_for(expiring, None)
    assert stale.shared == {} and stale.shared_with(fresh) is stale.shared
    assert stale.shared_with(old) is None


async def test_labels_follow_the_page_s_language(site, world):
    """A session that changes language (``Accept-Language``) gets each label in the new
    one, not the one kept from its last page."""
    _, work, note = world
    blind = await site.user_browser("blind", {"notes.note": ["read"]})
    for language, shown in [("en", HIDDEN), ("en", HIDDEN), ("fr", "(masqué)"),
                            ("en", HIDDEN)]:
        page = await blind.get(LIST, headers={"Accept-Language": language})
        assert text_of(category_cell(page, note)) == shown, language


async def test_every_write_counts_once_it_is_done(site):
    """``Collection.writes``: one more per write method call, a refused one included."""
    collection = site.model("notes.category").get_collection(site.db)
    start = collection.writes
    await collection.insert_one({"name": "a"})
    await collection.insert_many([{"name": "b"}, {"name": "c"}])
    await collection.update_one({"name": "a"}, {"$set": {"name": "A"}})
    await collection.update_many({}, {"$set": {"x": 1}})
    await collection.replace_one({"name": "b"}, {"name": "B"})
    await collection.find_one_and_update({"name": "c"}, {"$set": {"name": "C"}})
    await collection.delete_one({"name": "A"})
    await collection.delete_many({})
    assert collection.writes == start + 8
    with pytest.raises(Exception):
        await collection.update_one({"$bad": 1}, {"$set": {"name": "D"}})
    assert collection.writes == start + 9
    await collection.find({}).to_list(None)
    assert collection.writes == start + 9


@pytest.fixture
def note_counts(site, monkeypatch):
    """How many counts reach the notes' collection (filtered and estimated)."""
    collection = site.model("notes.note").get_collection(site.db)
    calls = []
    for name in ("count_documents", "estimated_document_count"):
        method = getattr(type(collection), name)

        def counted(self, *args, _method=method, _name=name, **kwargs):
            if self is collection:
                calls.append(_name)
            return _method(self, *args, **kwargs)
        monkeypatch.setattr(type(collection), name, counted)
    return calls


def shown_count(page):
    return re.search(r'<span class="count">([^<]*)</span>', page.text).group(1)


async def test_a_list_s_count_is_kept_until_a_write(site, note_counts):
    """The next page of the same list reuses its count (filtered or estimated); a
    write to the collection in this process shows in the very next count."""
    Note = site.model("notes.note")
    for n in range(3):
        await Note.create(title=f"note {n}", done=n == 0, db=site.db)
    root = await site.user_browser("root", is_superuser=True)
    for query, first, after in (("", "3", "4"), ("?done=0", "3", "4")):
        note_counts.clear()
        assert shown_count(await root.get(LIST + query)) == first
        assert len(note_counts) == 1
        assert shown_count(await root.get(LIST + query)) == first
        assert len(note_counts) == 1, "the second page counts again"
        await Note.create(title="one more", db=site.db)
        assert shown_count(await root.get(LIST + query)) == after
        assert len(note_counts) == 2
    note_counts.clear()
    assert shown_count(await root.get(LIST + "?done=1")) == "1"      # another filter
    assert len(note_counts) == 1


async def test_lists_opened_at_once_count_once(site, note_counts):
    """Requests that need the same count while it is being read share that one read
    (ten lists opened at once count once); another filter, or the estimate, is a read of
    its own."""
    from core.admin import pagination
    Note = site.model("notes.note")
    for n in range(3):
        await Note.create(title=f"note {n}", done=n == 0, db=site.db)
    note_counts.clear()
    answers = await asyncio.gather(
        *[pagination.count_rows(Note, site.db, {"done": False}) for _ in range(10)],
        pagination.count_rows(Note, site.db, {"done": True}),
        pagination.count_rows(Note, site.db, {}), pagination.count_rows(Note, site.db, {}))
    assert [count for count, _text, _estimated in answers] == [2] * 10 + [1, 3, 3]
    assert sorted(note_counts) == ["count_documents"] * 2 + ["estimated_document_count"]
    assert not pagination._counts_in_flight.get(Note.get_collection(site.db))


async def test_a_shared_count_s_error_reaches_every_request(site, monkeypatch):
    """A count read in flight that fails fails every request awaiting it; the next
    request reads again."""
    from core.admin import pagination
    Note = site.model("notes.note")
    await Note.create(title="a note", db=site.db)
    collection = Note.get_collection(site.db)
    count_documents, reads = type(collection).count_documents, []

    async def failing_once(self, *args, **kwargs):
        reads.append(1)
        if len(reads) == 1:
            raise RuntimeError("the store went away")
        return await count_documents(self, *args, **kwargs)
    monkeypatch.setattr(type(collection), "count_documents", failing_once)
    answers = await asyncio.gather(
        *[pagination.count_rows(Note, site.db, {"done": False}) for _ in range(3)],
        return_exceptions=True)
    assert [type(answer) for answer in answers] == [RuntimeError] * 3 and len(reads) == 1
    assert (await pagination.count_rows(Note, site.db, {"done": False}))[0] == 1
    assert len(reads) == 2


async def test_a_shared_count_is_kept_as_of_its_read_s_start(site, monkeypatch):
    """A request that joins a count being read keeps it with the time that read started,
    not its own later time: a count is never kept past ``COUNT_KEPT_SECONDS`` from its
    read."""
    import types

    from core.admin import pagination
    Note = site.model("notes.note")
    await Note.create(title="a note", db=site.db)
    collection = Note.get_collection(site.db)
    count_documents, started, release = type(collection).count_documents, \
        asyncio.Event(), asyncio.Event()

    async def held_back(self, *args, **kwargs):
        started.set()
        await release.wait()
        return await count_documents(self, *args, **kwargs)
    monkeypatch.setattr(type(collection), "count_documents", held_back)
    clock = [100.0]
    monkeypatch.setattr(pagination, "time", types.SimpleNamespace(monotonic=lambda: clock[0]))
    first = asyncio.ensure_future(pagination.count_rows(Note, site.db, {"done": False}))
    await started.wait()
    clock[0] = 101.5                            # a request that comes while it is read
    late = asyncio.ensure_future(pagination.count_rows(Note, site.db, {"done": False}))
    release.set()
    assert [answer[0] for answer in await asyncio.gather(first, late)] == [1, 1]
    [(writes, kept_at, count)] = pagination._kept_counts[collection].values()
    assert (kept_at, count) == (100.0, 1)


async def test_a_count_is_read_again_after_its_seconds(site, note_counts, monkeypatch):
    from core.admin import pagination
    monkeypatch.setattr(pagination, "COUNT_KEPT_SECONDS", 0.0)
    await site.model("notes.note").create(title="a note", db=site.db)
    root = await site.user_browser("root", is_superuser=True)
    for _ in range(2):
        assert shown_count(await root.get(LIST + "?done=0")) == "1"
    assert len(note_counts) == 2


def test_two_filters_never_share_a_kept_count():
    """A count is kept under the filter's exact BSON: two long compiled patterns that
    ``repr`` cuts to the same text get two keys; a value BSON cannot hold is not kept."""
    import re as regex

    from core.admin.pagination import _count_key
    long_a = {"title": regex.compile("a" * 250 + "x")}
    long_b = {"title": regex.compile("a" * 250 + "y")}
    assert repr(long_a) == repr(long_b)
    assert _count_key(long_a) != _count_key(long_b)
    assert _count_key({"title": {"$in": ["a", "b"]}}) == _count_key({"title": {"$in": ["a", "b"]}})
    assert _count_key({}) == b""
    assert _count_key({"x": object()}) is None


def test_two_sites_never_share_their_readable_admins(site, monkeypatch):
    """The models a user may read are kept in the auth-cache entry's memo per admin site:
    a second site with other admins, served the same memo, lists its own."""
    from core.admin.options import ModelAdmin
    from core.admin.sites import AdminSite
    monkeypatch.setattr(ModelAdmin, "may", lambda admin, *args, **kwargs: True)
    memo = {}

    class Handler:
        def shared_memo(self):
            return memo
    first = site.app.admin_site
    second = AdminSite(site.app.registry)
    second.admins = {"notes.note": second.admins["notes.note"]}
    assert len([admin for _app, admins in first.readable(Handler()) for admin in admins]) > 1
    assert [[admin.key for admin in admins] for _app, admins in second.readable(Handler())] \
        == [["notes.note"]]


def test_an_application_starts_with_its_own_empty_static_url_memo(tmp_path):
    """The static-URL memo is made with the application (``BastionApplication``), not
    on a handler's first call: each application has its own, empty until a page."""
    from core.app import make_app
    from support import make_settings
    first, second = (make_app(make_settings(tmp_path, ["core.audit", "apps.accounts"]))
                     for _ in range(2))
    assert first.static_urls == second.static_urls == {}
    assert first.static_urls is not second.static_urls
