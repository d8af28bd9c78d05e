"""Columns (async methods, ``format_html``, ``empty_value_display``, per-column classes),
read-only automatic fields, the demo article's page, recent actions on the index, and the
small-screen toggles."""
import re

import pytest

from admin_kit import make_settings
from markupsafe import Markup
from tornado.template import Template

from core.admin import format_html
from core.admin.views.display import Cell
from desk_kit import POSTS, add_posts
from support import BLOG_APPS
from support.pages import text_of


#: admin/cell.html before cells wrote their own markup (Cell.html), the reference for it
TEMPLATE_CELL = (
    """{% if cell.kind == "bool" %}<span class="bool bool-{{ 'yes' if cell.value else 'no' }}" """
    """aria-hidden="true">{{ "✓" if cell.value else "✗" }}</span><span class="visually-hidden">"""
    """{{ cell.text }}</span>{% elif cell.kind == "link" and cell.url %}<a href="{{ cell.url }}">"""
    """{{ cell.text }}</a>{% elif cell.kind == "html" %}{% raw cell.text %}{% elif cell.kind == """
    """"input" %}<input type="text" class="list-input" name="{{ cell.url }}" value="""
    """"{{ cell.text }}"{% if cell.value %} maxlength="{{ cell.value }}"{% end %} aria-label="""
    """"{{ cell.url.split('-', 1)[1] }}">{% elif cell.kind == "checkbox" %}<input type="""
    """"checkbox" class="list-input" name="{{ cell.url }}" value="1"{% if cell.value %} """
    """checked{% end %} aria-label="{{ cell.url.split('-', 1)[1] }}">{% elif cell.kind == """
    """"select" %}<select class="list-input" name="{{ cell.url }}" aria-label="""
    """"{{ cell.url.split('-', 1)[1] }}">{% for value, label, chosen in cell.value %}<option """
    """value="{{ value }}"{% if chosen %} selected{% end %}>{{ label }}</option>{% end %}"""
    """</select>{% else %}{{ cell.text }}{% end %}""")

TRICKY = "<b>Tom & \"Jerry\"</b> l'été"


@pytest.mark.parametrize("cell", [
    Cell("text", TRICKY), Cell("text", 42), Cell("text", None), Cell("link", TRICKY, url=None),
    Cell("link", TRICKY, url="/admin/x/?a=1&b='2'"), Cell("bool", "Yes", True),
    Cell("bool", "Non <no>", False), Cell("html", Markup("<em>ok</em>")),
    Cell("input", TRICKY, 200, url="65f0-title"), Cell("input", "", None, url="65f0-note"),
    Cell("checkbox", "Yes", True, url="65f0-done"), Cell("checkbox", "No", False, url="65f0-x"),
    Cell("select", "B", [("a", TRICKY, False), (2, "B", True)], url="65f0-kind"),
    Cell("unknown", TRICKY)], ids=lambda cell: cell.kind)
def test_a_cell_writes_the_markup_the_cell_template_wrote(cell):
    """One escape per value in Python (the list's rows) gives what the template gave."""
    assert cell.html() == Template(TEMPLATE_CELL).generate(cell=cell).decode()


def test_format_html_escapes_its_arguments_only():
    html = format_html('<a href="{}">{}</a>', "/x?a=1&b=2", "<b>bold</b>")
    assert str(html) == '<a href="/x?a=1&amp;b=2">&lt;b&gt;bold&lt;/b&gt;</a>'


async def test_async_columns_links_and_empty_values(desk, monkeypatch):
    from desk_demo.admin import PostAdmin

    async def shout(self, obj):
        return obj.title.upper()
    shout.short_description = "Loud title"

    def link(self, obj):
        return format_html('<a class="ext" href="/go/{}">{}</a>', obj.sku, obj.title)

    monkeypatch.setattr(PostAdmin, "shout", shout, raising=False)
    monkeypatch.setattr(PostAdmin, "link", link, raising=False)
    monkeypatch.setattr(PostAdmin, "list_display", ["title", "shout", "link", "score"])
    monkeypatch.setattr(PostAdmin, "list_editable", [])
    monkeypatch.setattr(PostAdmin, "empty_value_display", "(none)")
    await add_posts(desk, [{"title": "<i>hi</i>", "sku": "a&b"}])
    root = await desk.user_browser("root", is_superuser=True)
    page = await root.get(POSTS)
    assert page.code == 200
    assert "&lt;I&gt;HI&lt;/I&gt;" in page.text                     # awaited, escaped
    assert '<a class="ext" href="/go/a&amp;b">&lt;i&gt;hi&lt;/i&gt;</a>' in page.text
    assert "Loud title" in page.text
    assert "(none)" in page.text                                     # the empty score
    assert '<col class="column-shout">' in page.text and 'class="column-score"' in page.text


async def test_read_only_automatic_fields_show_on_forms(site, monkeypatch):
    from admin_demo.admin import NoteAdmin
    monkeypatch.setattr(NoteAdmin, "readonly_fields", ["owner", "created"])
    root = await site.user_browser("root", is_superuser=True)
    note = await site.model("notes.note").create(title="n", db=site.db)
    page = await root.get(f"/admin/notes/note/{note.id}/change/")
    labels = re.findall(r'<span class="label">([^<]*)</span>', page.text)
    assert "Created" in labels and "Owner" in labels
    assert 'name="created"' not in page.text                          # never an input


async def test_the_demo_articles_page_shows_its_author_and_times(server, tmp_path):
    from core.management.firstrun import first_run
    blog = await server(make_settings(tmp_path, INSTALLED_APPS=BLOG_APPS, FIRST_RUN_DEMO=True,
                                      DATABASE_URL=f"embedded:{tmp_path}/demo.sqlite3"))
    run = await first_run(blog.app.config, blog.app.registry, blog.db, "http://x/admin/")
    assert run is not None and run.state["superuser_id"]
    root = await blog.user_browser("root", is_superuser=True)
    article = await blog.model("blog.article").find_one({}, db=blog.db)
    page = await root.get(f"/admin/blog/article/{article.id}/change/")
    rows = dict(re.findall(r'<span class="label">([^<]*)</span><div class="readonly-value">'
                           r'(.*?)</div>', page.text, re.S))
    assert text_of(rows["Author"]) == "admin" and "(missing)" not in page.text
    assert "UTC" in rows["Created"] and "UTC" in rows["Updated"]


async def test_recent_actions_show_the_users_own_entries_as_they_may_see_them(desk):
    [oid] = await add_posts(desk, [{"title": "SECRET-TITLE"}])
    editor = await desk.user_browser("ed", {"desk.post": ["read", "write"]})
    other = await desk.user_browser("other", {"desk.post": ["read", "write"]})
    change = {"title": "edited", "kind": "news", "_version": "1", "_save": "1"}
    await editor.post(f"{POSTS}{oid}/change/", change)
    await other.post(f"{POSTS}add/", {"title": "not mine", "kind": "news",
                                      "_save": "1"})
    page = await editor.get("/admin/")
    section = re.search(r'<section class="recent-actions".*?</section>', page.text, re.S)
    assert section is not None
    assert f'<a href="{POSTS}{oid}/">edited</a>' in section.group(0)
    assert "not mine" not in section.group(0)
    # once the grant is gone, the entry no longer names the object
    User = desk.model("accounts.user")
    user = await User.get_by_username("ed", db=desk.db)
    user.permissions = {"desk.writer": ["read"]}
    await user.save(db=desk.db)
    page = await editor.get("/admin/")
    assert "edited" not in page.text and "(hidden)" in page.text


@pytest.mark.parametrize("path", ["/admin/", POSTS])
async def test_small_screen_toggles_are_css_only(desk, path):
    root = await desk.user_browser("root", is_superuser=True)
    page = await root.get(path)
    if "nav-toggle" in page.text:
        assert '<label for="nav-toggle" class="nav-toggle-button">Menu</label>' in page.text
    if path == POSTS:
        assert '<input type="checkbox" id="filters-toggle"' in page.text
        assert '<label for="filters-toggle"' in page.text
        assert '<div class="table-scroll">' in page.text or "No posts" in page.text
    assert "<script>" not in page.text and " onclick=" not in page.text


@pytest.mark.parametrize("language", ["en", "fr", "de"])
@pytest.mark.parametrize("zone_name", ["UTC", "Europe/Paris", "America/New_York"])
def test_a_moment_formatter_writes_what_format_datetime_writes(language, zone_name):
    """``moment_formatter``: the list's column formatter, made once per page, gives the
    very text of ``format_datetime`` (aware or naive, either side of a DST change)."""
    import contextvars
    import datetime
    import types

    from core import i18n, timezones
    from core.admin.views.display import format_datetime, moment_formatter
    zone = timezones.get_zone(zone_name)
    moments = [datetime.datetime(2024, month, 3, 14, 30, tzinfo=datetime.timezone.utc)
               for month in (1, 7)] + [datetime.datetime(2024, 3, 31, 0, 59)]

    def both():
        i18n.activate(types.SimpleNamespace(code=language))
        formatted = moment_formatter(zone)
        return [formatted(m) for m in moments], [format_datetime(m, zone) for m in moments]
    mine, theirs = contextvars.copy_context().run(both)
    assert mine == theirs
    assert theirs[0].startswith("2024-01-03 ") == (language == "en"), theirs


async def test_static_urls_are_tornado_s_and_a_debug_site_sees_a_changed_file(server, tmp_path):
    """``AdminHandler.static_url`` keeps each file's versioned URL (Tornado's, the same on
    every page) unless ``DEBUG``: then a file changed meanwhile gets its new version."""
    import shutil

    static = tmp_path / "static"
    shutil.copytree(make_settings(tmp_path).STATIC_DIR, static)
    for debug in (False, True):
        (static / "bastion.css").write_text(f"/* {debug} */")
        site = await server(settings=make_settings(tmp_path, DEBUG=debug, STATIC_DIR=static))
        browser = await site.user_browser(f"root{debug}", is_superuser=True)
        first = re.search(r'href="([^"]*bastion\.css[^"]*)"', (await browser.get(
            "/admin/notes/note/")).text).group(1)
        handler_class = site.app.settings["static_handler_class"]
        assert first == handler_class.make_static_url(site.app.settings, "bastion.css")
        (static / "bastion.css").write_text("/* two */")
        again = re.search(r'href="([^"]*bastion\.css[^"]*)"', (await browser.get(
            "/admin/notes/note/")).text).group(1)
        assert (again != first) == debug, (first, again)


async def test_a_static_url_is_worked_out_once_per_application_and_file(site, monkeypatch):
    """Without ``DEBUG`` a page's static URLs come from the application's own memo after the
    first page: Tornado's ``make_static_url`` (a path join and normalisation per call) is
    asked once per file, and the URL is Tornado's."""
    browser = await site.user_browser("root-static", is_superuser=True)
    handler_class = site.app.settings["static_handler_class"]
    asked = []
    real = handler_class.make_static_url.__func__
    monkeypatch.setattr(handler_class, "make_static_url", classmethod(
        lambda cls, settings, path, **kwargs: asked.append(path) or real(cls, settings, path,
                                                                         **kwargs)))
    site.app.static_urls.clear()
    first = (await browser.get("/admin/notes/note/")).text
    again = (await browser.get("/admin/notes/note/")).text
    assert sorted(asked) == sorted(set(asked)) and "bastion.css" in asked
    url = re.search(r'href="([^"]*bastion\.css[^"]*)"', again).group(1)
    assert url == real(handler_class, site.app.settings, "bastion.css") and url in first


async def test_rows_written_by_column_are_the_rows_list_row_writes(site, monkeypatch):
    """``ListHandler.rows_by_column`` (a list without editable columns) writes the very
    rows ``list_row`` writes: links, references (readable, hidden, missing), booleans,
    choices, numbers, moments, empty values and text that needs escaping."""
    import datetime

    from bson import ObjectId

    from core.admin.views.list import ListHandler
    Category, Note = site.model("notes.category"), site.model("notes.note")
    work = await Category.create(name="Work & <play>", db=site.db)
    when = datetime.datetime(2024, 7, 3, 14, 30, tzinfo=datetime.timezone.utc)
    await Note.create(title='<b>"bold"</b> & more', category=work, done=True, rank=7,
                      created=when, db=site.db)
    await Note.create(title="plain", category=ObjectId(), kind="todo", db=site.db)
    await Note.create(title="none", db=site.db)
    root = await site.user_browser("root", is_superuser=True)
    blind = await site.user_browser("blind", {"notes.note": ["read"]})
    original = ListHandler.list_row
    for browser in (root, blind):
        by_column = await browser.get("/admin/notes/note/")

        async def by_row(self, *args):
            return await original(self, *args)
        monkeypatch.setattr(ListHandler, "list_row", by_row)
        by_row_page = await browser.get("/admin/notes/note/")
        monkeypatch.setattr(ListHandler, "list_row", original)
        rows = [re.findall(r'<tr data-id=.*?</tr>', page.text, re.S)
                for page in (by_column, by_row_page)]
        assert len(rows[0]) == 3 and rows[0] == rows[1]
        assert any("&lt;b&gt;&quot;bold&quot;&lt;/b&gt; &amp; more" in row for row in rows[0])


async def test_a_list_row_honours_a_refined_object_url_and_label(site, monkeypatch):
    """An admin refining ``object_url`` or ``shown_object_label`` gets its own link and
    check-box label on every row (the rows' shortcuts are for the defaults only)."""
    admin = site.app.admin_site.get("notes.note")
    note = await site.model("notes.note").create(title="plain", db=site.db)
    monkeypatch.setattr(type(admin), "object_url",
                        lambda self, obj, suffix="": f"/elsewhere/{obj.id}/{suffix}",
                        raising=False)
    monkeypatch.setattr(type(admin), "shown_object_label",
                        lambda self, handler, obj: f"Note number {obj.id}", raising=False)
    root = await site.user_browser("root", is_superuser=True)
    row = re.search(rf'<tr data-id="{note.id}">.*?</tr>', (await root.get(
        "/admin/notes/note/")).text, re.S).group(0)
    assert f'<a href="/elsewhere/{note.id}/">plain</a>' in row, row
    assert f'aria-label="Select Note number {note.id}"' in row, row


async def test_a_row_escapes_an_id_that_is_not_an_object_id(site):
    """Another program may store a string ``_id``: the row's data-id, check box and link
    carry it escaped, never as markup (both ways of writing rows)."""
    collection = site.model("notes.note").get_collection(site.db)
    await collection.insert_one({"_id": '"><i>x</i>', "title": "odd", "version": 1})
    root = await site.user_browser("root", is_superuser=True)
    page = (await root.get("/admin/notes/note/")).text
    assert "<i>x</i>" not in page
    assert 'data-id="&quot;&gt;&lt;i&gt;x&lt;/i&gt;"' in page
    assert 'value="&quot;&gt;&lt;i&gt;x&lt;/i&gt;"' in page
    assert 'href="/admin/notes/note/&quot;&gt;&lt;i&gt;x&lt;/i&gt;/"' in page


def test_a_page_s_texts_escaped_at_once_are_each_text_escaped():
    """``escape_each`` (a list column's texts escaped with one call) gives what escaping
    each text gives, also for a text holding the character it joins them with, markup
    and lazy texts."""
    from core.admin.views.display import Markup, _escape
    from core.admin.views.list import escape_each
    from core.i18n import gettext_lazy
    plain = ['<b>"bold"</b> & \'quoted\'', "", "plain", "é ✓ &amp;"]
    for texts in (plain, plain + ["nul\0inside"], plain + [Markup("<i>x</i>")],
                  plain + [gettext_lazy("Yes")], [], ["\0"]):
        assert escape_each(texts) == [_escape(text) for text in texts], texts


def test_a_text_column_writes_format_value_s_text():
    """A list's text column writes ``format_value``'s text for every kind of field and
    value: choices show their label, a refined ``display`` its text, a moment its zone's
    text (the shortcut for plain strings only skips the checks)."""
    import datetime

    from core import timezones
    from core.admin.views.display import format_value, moment_formatter
    from core.admin.views.list import _text_writer
    from core.models import fields

    class Shouting(fields.StringField):
        def display(self, value):
            return str(value).upper()

    zone = timezones.get_zone("Europe/Paris")
    when = datetime.datetime(2024, 7, 3, 14, 30, tzinfo=datetime.timezone.utc)
    values = ["", "memo", "<b>", None, 7, 0, False, ["a", "b"], [], when]
    for field in (fields.StringField(), fields.ChoiceField(choices=[("memo", "Memo")]),
                  Shouting(), fields.ListField(), fields.IntegerField(),
                  fields.DateTimeField()):
        moment = moment_formatter(zone) if isinstance(field, fields.DateTimeField) else None
        writer = _text_writer(field, zone, "—", moment)
        for value in values:
            if isinstance(field, fields.ListField) and not isinstance(value, list):
                continue                                # not a value a list field holds
            assert writer.text(value) == format_value(field, value, zone, "—"), (field, value)


def test_a_page_s_cells_at_once_are_each_value_s_cell():
    """Every column writer's ``cells`` (a page at once) is its ``html`` of each value: a
    reference column's labels, links, missing and empty targets (two rows sharing one);
    a boolean's truthy and falsy values; a moment column's aware, naive, other-zone and
    non-moment values; all escaped."""
    import datetime
    import zoneinfo

    from bson import ObjectId

    from core import timezones
    from core.admin.views.display import moment_formatter
    from core.admin.views.list import _bool_writer, _reference_writer, _text_writer
    from core.models import fields

    shown, missing = ObjectId(), ObjectId()
    references = {("category", shown): ("<Tech> & co", "/admin/blog/category/1/")}
    utc = datetime.timezone.utc
    moments = [datetime.datetime(2024, 7, 3, 14, 30, tzinfo=utc),
               datetime.datetime(2024, 7, 3, 14, 30),
               datetime.datetime(2024, 7, 3, 14, 30, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo")),
               datetime.datetime(999, 1, 2, 3, 4, tzinfo=utc), None, "", "<when>"]
    writers = [
        (_reference_writer("category", references, "—"),
         [shown, missing, None, ObjectId(str(shown)), shown]),
        (_bool_writer("Yes", "<No>"), [True, False, 1, 0, None, "x", ""]),
    ]
    for zone_name in ("UTC", "Europe/Paris"):
        zone = timezones.get_zone(zone_name)
        writers.append((_text_writer(fields.DateTimeField(), zone, "—",
                                     moment_formatter(zone)), moments))
    for writer, values in writers:
        # cells first: the page at once on an empty memo, then each value on its own
        assert writer.cells(values) == [writer.html(value) for value in values], values
    tech = writers[0][0].cells([shown])[0]
    assert "&lt;Tech&gt; &amp; co" in tech and "<Tech>" not in tech
    assert "&lt;No&gt;" in writers[1][0].cells([False])[0]


@pytest.mark.parametrize("seconds", [False, True])
@pytest.mark.parametrize("zone_name", ["UTC", "Etc/UTC"])
def test_english_moments_in_utc_are_format_datetime_s_text(zone_name, seconds):
    """English in UTC writes its common case (a UTC or naive moment of a four-digit year)
    at once: the same text as the general path for every kind of moment."""
    import datetime
    import zoneinfo

    from core import i18n

    zone = zoneinfo.ZoneInfo(zone_name)
    utc = datetime.timezone.utc
    formatted = i18n.datetime_formatter("en", zone, seconds)
    general = i18n.datetime_formatter("en", zoneinfo.ZoneInfo("Europe/London"), seconds)
    for moment in (datetime.datetime(2026, 3, 5, 13, 7, 9, 500, tzinfo=utc),
                   datetime.datetime(2026, 7, 5, 23, 59, 59),
                   datetime.datetime(1000, 1, 1, tzinfo=utc),
                   datetime.datetime(999, 12, 31, 23, 59, tzinfo=utc),
                   datetime.datetime(2026, 7, 5, 9, 30, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo")),
                   datetime.datetime(2026, 7, 5, 9, 30, tzinfo=zoneinfo.ZoneInfo("UTC"))):
        aware = moment.replace(tzinfo=moment.tzinfo or utc)
        expected = aware.astimezone(zone).strftime(
            "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
        name = "UTC" if aware.tzinfo is utc else aware.astimezone(zone).tzname()
        assert formatted(moment) == f"{expected} {name}", moment
    assert general(datetime.datetime(2026, 1, 5, 13, 7, tzinfo=utc)).endswith(" GMT")
