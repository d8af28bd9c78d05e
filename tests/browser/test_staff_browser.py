"""Staff's everyday tools in a real browser (Chromium through Playwright): the reference
autocomplete under the ACL, editing titles in the list, collapsed fieldsets and tabs, and
the list page on a 390 px phone and a 1280 px desktop.

The site serves the ``desk_demo`` test app (``desk.writer``, ``desk.post``: autocomplete on
``writer``, a filter sidebar of every kind; a user named ``red-…`` sees red writers only).
"""
import datetime
from pathlib import Path

import pytest
import pytest_asyncio

from browser_kit import log_in
from desk_kit import POSTS, add_posts, add_writer
from support import Site, make_settings, serving

pytestmark = pytest.mark.asyncio(loop_scope="module")

DESK_APPS = ["core.audit", "apps.accounts", "admin_demo", "desk_demo"]
EDITOR = {"desk.post": ["read", "write"], "desk.writer": ["read"]}


@pytest_asyncio.fixture(loop_scope="module")
async def site(tmp_path):
    """The desk app served on a free port (replaces the blog site of conftest.py)."""
    async with serving(Site) as servers:
        yield await servers.serve(make_settings(tmp_path, DESK_APPS))


@pytest.fixture
def titles_editable(monkeypatch):
    from desk_demo.admin import PostAdmin
    monkeypatch.setattr(PostAdmin, "list_display_links", ["published"])
    monkeypatch.setattr(PostAdmin, "list_editable", ["title"])


@pytest.fixture
def grouped_form(monkeypatch):
    from desk_demo.admin import PostAdmin
    monkeypatch.setattr(PostAdmin, "fieldsets", [
        ("Text", {"fields": ["title", "sku"]}),
        ("Details", {"fields": ["body"], "classes": ["collapse"]}),
        ("Kind", {"fields": ["kind"], "classes": ["tab"]}),
        ("Score", {"fields": ["score", "live"], "classes": ["tab"]}),
    ])


async def flashes(page):
    return " | ".join(await page.locator("ul.messages li").all_inner_texts())


# -- autocomplete ---------------------------------------------------------------------------

async def test_three_letters_find_the_writer_and_the_pick_is_saved(page, site):
    ruby = await add_writer(site, "Ruby Red", "ruby", team="red")
    await add_writer(site, "Rubin Blue", "rubin", team="blue")      # not in red's scope
    await add_writer(site, "Rob Red", "rob", team="red")
    await site.create_user("red-editor", EDITOR)
    await log_in(page, site, "red-editor")

    await page.goto(site.url(f"{POSTS}add/"))
    assert await page.locator("#id_writer").get_attribute("type") == "hidden"  # enhanced
    await page.fill("#id_title", "Picked by typing")
    await page.locator("#id_writer_search").press_sequentially("Rub", delay=30)
    options = page.locator("#id_writer_results [role=option]")
    await options.first.wait_for()
    assert await options.all_inner_texts() == ["Ruby Red"]          # never Rubin Blue
    await options.first.click()
    assert await page.locator("#id_writer_label").inner_text() == "Ruby Red"
    assert await page.input_value("#id_writer") == str(ruby.id)
    async with page.expect_navigation():
        await page.click("button[name=_save]")
    post = await site.model("desk.post").find_one({"title": "Picked by typing"}, db=site.db)
    assert post is not None and post.writer == ruby.id


async def test_without_read_on_writers_the_picker_shows_no_labels(page, site):
    ruby = await add_writer(site, "Ruby Red", "ruby", team="red")
    [post_id] = await add_posts(site, [{"title": "Has a writer", "writer": ruby.id}])
    await site.create_user("blind", {"desk.post": ["read", "write"]})
    await log_in(page, site, "blind")

    await page.goto(site.url(f"{POSTS}{post_id}/change/"))
    assert "Ruby" not in await page.content()
    assert await page.locator("#id_writer_label").inner_text() == "(hidden)"
    assert await page.locator("#id_writer_search").count() == 0     # no picker to type in
    asked = await page.evaluate("""() => fetch("/admin/desk/writer/autocomplete/?q=Rub",
        {headers: {"Accept": "application/json"}}).then(async r => [r.status, await r.text()])""")
    assert asked[0] == 403 and "Ruby" not in asked[1]               # nor behind the page


# -- list editing ---------------------------------------------------------------------------

async def test_three_titles_fixed_in_the_list_in_one_post_and_a_stale_row_kept(
        page, site, titles_editable):
    ids = await add_posts(site, [{"title": f"Tpyo {i}"} for i in range(3)])
    await site.create_user("ed", EDITOR)
    await log_in(page, site, "ed")
    await page.goto(site.url(POSTS))
    for i, oid in enumerate(ids):
        await page.fill(f"input[name='{oid}-title']", f"Typo {i}")

    Post = site.model("desk.post")
    meanwhile = await Post.get(ids[2], db=site.db)                  # someone else saves it
    meanwhile.title = "Changed meanwhile"
    await meanwhile.save(db=site.db)

    posts = []
    page.on("request", lambda request: posts.append(request) if request.method == "POST"
            else None)
    async with page.expect_navigation():
        await page.click("button[name=_save_list]")
    assert len(posts) == 1                                          # one POST for the list
    messages = await flashes(page)
    assert "Saved 2 posts." in messages
    assert "Not saved: 1 changed or deleted by someone else meanwhile" in messages
    stored = {post.id: post.title for post in await Post.find({}, db=site.db).to_list(None)}
    assert [stored[oid] for oid in ids] == ["Typo 0", "Typo 1", "Changed meanwhile"]


# -- fieldsets: collapse and tabs -----------------------------------------------------------

async def test_a_collapsed_fieldset_opens_and_closes(page, site, grouped_form):
    await site.create_user("ed", EDITOR)
    await log_in(page, site, "ed")
    await page.goto(site.url(f"{POSTS}add/"))
    body = page.locator("#id_body")
    summary = page.locator("details.fieldset > summary", has_text="Details")
    assert await body.is_hidden()                                   # collapsed at first
    await summary.click()
    assert await body.is_visible()
    await summary.click()
    assert await body.is_hidden()


async def test_tabs_switch_and_a_tab_with_an_error_is_marked_and_shown(page, site, grouped_form):
    await site.create_user("ed", EDITOR)
    await log_in(page, site, "ed")
    await page.goto(site.url(f"{POSTS}add/"))
    tabs = page.locator(".tab-bar [role=tab]")
    assert await tabs.all_inner_texts() == ["Kind", "Score"]
    assert await page.locator("#id_kind").is_visible()
    assert await page.locator("#id_score").is_hidden()
    await tabs.nth(1).click()
    assert await page.locator("#id_score").is_visible()
    assert await page.locator("#id_kind").is_hidden()
    assert await tabs.nth(1).get_attribute("aria-selected") == "true"

    await page.fill("#id_title", "Too high")
    await page.fill("#id_score", "5000")                            # max 1000
    await tabs.nth(0).click()                                       # the error tab hidden
    async with page.expect_navigation():
        await page.click("button[name=_save]")
    score_tab = page.locator(".tab-bar [role=tab].has-errors")
    assert await score_tab.count() == 1
    assert "Score" in await score_tab.inner_text()
    assert await page.locator("#id_score").is_visible()             # shown with its error
    assert await site.model("desk.post").count({}, db=site.db) == 0


async def test_a_french_editor_hears_the_reference_picker_in_french(page, site):
    """The search box's accessible name is the script's own text, translated."""
    from core import i18n
    await site.create_user("edouard", EDITOR, language="fr")
    await log_in(page, site, "edouard")
    await page.goto(site.url(f"{POSTS}add/"))
    assert await page.locator("#id_writer_search").get_attribute("aria-label") == \
        i18n.locale_for("fr").translate("Search") != "Search"


async def test_a_french_editor_reads_a_tabs_error_mark_in_french(page, site, grouped_form):
    """The mark is the script's own text (translated there only)."""
    from core import i18n
    await site.create_user("edouard", EDITOR, language="fr")
    await log_in(page, site, "edouard")
    await page.goto(site.url(f"{POSTS}add/"))
    await page.fill("#id_title", "Trop haut")
    await page.locator(".tab-bar [role=tab]").nth(1).click()
    await page.fill("#id_score", "5000")                            # max 1000
    async with page.expect_navigation():
        await page.click("button[name=_save]")
    mark = page.locator(".tab-bar [role=tab].has-errors .tab-error-mark")
    assert await mark.inner_text() == \
        f" ({i18n.locale_for('fr').translate('has errors')})" != " (has errors)"


# -- small and large screens ----------------------------------------------------------------

LAYOUT = """() => {
    const width = window.innerWidth;
    const outside = [...document.querySelectorAll("body *")].filter(el => {
        if (el.closest(".table-scroll") || el.closest(".visually-hidden")) return false;
        const box = el.getBoundingClientRect();
        return box.width > 0 && box.right > width + 1;
    }).map(el => el.tagName + "." + el.className + ":" + Math.round(
        el.getBoundingClientRect().right));
    const row = document.querySelector("table.result-list tbody tr");
    return {width: width, height: window.innerHeight,
            scrollWidth: document.scrollingElement.scrollWidth, outside: outside,
            firstRowTop: row ? row.getBoundingClientRect().top : null};
}"""


async def crowded_list(site):
    """Posts with long words in several writers' names, and a logged-in-ready superuser."""
    writers = [await add_writer(site, f"Writer-with-a-rather-long-name-{i}", f"w{i}")
               for i in range(4)]
    now = datetime.datetime.now(datetime.timezone.utc)
    await add_posts(site, [{"title": f"A fairly long post title number {i} about things",
                            "writer": writers[i % 4].id, "score": i, "kind": "news",
                            "tags": ["alpha", "beta"], "published": now}
                           for i in range(30)])
    await site.create_user("root", is_superuser=True)


async def test_the_list_fits_a_390px_phone_with_menu_and_filters_behind_buttons(page, site):
    await crowded_list(site)
    await page.set_viewport_size({"width": 390, "height": 844})
    await log_in(page, site, "root")
    await page.goto(site.url(POSTS))

    layout = await page.evaluate(LAYOUT)
    assert layout["scrollWidth"] <= layout["width"], layout      # no sideways page scroll
    assert layout["outside"] == [], " ".join(layout["outside"])     # nothing clipped either
    assert 0 < layout["firstRowTop"] < layout["height"], layout  # first row without scrolling
    scroller = page.locator(".table-scroll")
    assert await scroller.evaluate("el => el.scrollWidth > el.clientWidth "
                                   "? getComputedStyle(el).overflowX : 'fits'") in (
        "auto", "scroll", "fits")                                # wide tables scroll inside

    nav, filters = page.locator("nav.admin-nav"), page.locator("aside.filters-panel")
    assert await nav.is_hidden() and await filters.is_hidden()
    await page.click("label.nav-toggle-button")
    assert await nav.is_visible()
    await page.click("label.panel-toggle-button")
    assert await filters.is_visible()
    assert await page.locator("aside.filters-panel h3", has_text="By writer").is_visible()
    layout = await page.evaluate(LAYOUT)
    assert layout["scrollWidth"] <= layout["width"] and layout["outside"] == [], layout


async def test_the_same_list_at_1280px_shows_navigation_and_filters_open(page, site):
    await crowded_list(site)
    await page.set_viewport_size({"width": 1280, "height": 800})
    await log_in(page, site, "root")
    await page.goto(site.url(POSTS))
    assert await page.locator("nav.admin-nav").is_visible()
    assert await page.locator("aside.filters-panel").is_visible()
    assert await page.locator("label.nav-toggle-button").is_hidden()
    assert await page.locator("label.panel-toggle-button").is_hidden()
    layout = await page.evaluate(LAYOUT)
    assert layout["scrollWidth"] <= layout["width"] and layout["outside"] == [], layout
    assert 0 < layout["firstRowTop"] < layout["height"], layout


# -- export selected ------------------------------------------------------------------------

async def test_ticked_rows_export_as_csv_and_nothing_else(page, site):
    ids = await add_posts(site, [{"title": f"Row {i}"} for i in range(4)])
    await site.create_user("exporter", {"desk.post": ["read", "export"]})
    await log_in(page, site, "exporter")
    await page.goto(site.url(POSTS))
    for oid in (ids[0], ids[2]):
        await page.check(f"input.action-select[value='{oid}']")
    async with page.expect_download() as info:
        await page.click(".export-selected button[value=csv]")
    download = await info.value
    text = Path(await download.path()).read_text(encoding="utf-8")
    assert sorted(line.split(",")[1] for line in text.splitlines()[1:]) == ["Row 0", "Row 2"]
    entry = await site.model("audit.entry").find_one({"action": "export"}, db=site.db)
    assert entry.detail == "csv: 2 selected" and entry.actor == "exporter"
