"""The admin in a real browser: Chromium (Playwright) against a real server and database.

Each test logs in through the login form and clicks through the pages the way a person
does: forms are filled and submitted with the page's own XSRF token, links and buttons are
clicked, and what the page shows is checked, then what the database holds.
"""
import os
import re
from pathlib import Path

import pytest

from browser_kit import READER, WRITER, log_in

pytestmark = pytest.mark.asyncio(loop_scope="module")

ARTICLES = "/admin/blog/article/"


async def titles(page):
    """The titles of the list page's rows, top to bottom."""
    return await page.evaluate("""() => {
        const table = document.querySelector("table.result-list");
        if (!table) return [];
        const column = [...table.tHead.rows[0].cells].findIndex(
            th => th.classList.contains("column-title"));
        return [...table.tBodies[0].rows].map(row => row.cells[column].innerText.trim());
    }""")


async def flashes(page):
    return " | ".join(await page.locator("ul.messages li").all_inner_texts())


async def test_login_shows_the_error_then_lets_the_user_in(page, site):
    await site.create_user("ann", WRITER)
    await page.goto(site.url("/admin/"))
    assert page.url.startswith(site.url("/admin/login/"))       # not logged in: the login page

    await page.fill("#id_username", "ann")
    await page.fill("#id_password", "not-her-password")
    await page.click("button:has-text('Log in')")
    error = page.locator("#login_error")
    await error.wait_for()
    assert "Please enter a correct username and password" in await error.inner_text()
    assert await page.input_value("#id_username") == "ann"     # kept for the next try
    assert await page.input_value("#id_password") == ""        # never echoed back

    await page.fill("#id_password", "plum-harbour-velvet")
    async with page.expect_navigation():
        await page.click("button:has-text('Log in')")
    assert page.url == site.url("/admin/")
    assert await page.locator(".user-nav .username").inner_text() == "ann"
    assert await page.locator("#login_error").count() == 0
    assert await page.locator("nav.admin-nav a", has_text="Articles").count() == 1


async def test_the_list_searches_and_sorts_by_a_clicked_column(page, site):
    Article = site.model("blog.article")
    for title in ["Pear tart", "apple pie", "Banana bread", "Apple crumble", "Cherry jam"]:
        await Article.create(title=title, db=site.db)
    await site.create_user("ann", WRITER)
    await log_in(page, site, "ann")

    await page.goto(site.url(ARTICLES))
    assert sorted(await titles(page)) == sorted(
        ["Pear tart", "apple pie", "Banana bread", "Apple crumble", "Cherry jam"])

    await page.fill("#searchbar", "APPLE")
    async with page.expect_navigation():
        await page.press("#searchbar", "Enter")
    assert "q=APPLE" in page.url
    assert sorted(await titles(page)) == ["Apple crumble", "apple pie"]
    assert "2" in await page.locator("#result-count .count").inner_text()

    await page.click("a:has-text('Clear search and filters')")
    await page.wait_for_url(re.compile(r".*/admin/blog/article/(\?)?$"))
    header = page.locator("th.column-title")
    async with page.expect_navigation():
        await header.locator("a").click()
    assert "o=title" in page.url
    assert await header.get_attribute("aria-sort") == "ascending"
    ascending = await titles(page)
    assert ascending == ["Apple crumble", "Banana bread", "Cherry jam", "Pear tart",
                         "apple pie"]                           # plain string order

    async with page.expect_navigation():
        await page.locator("th.column-title a").click()          # again: the other way
    assert "o=-title" in page.url
    assert await page.locator("th.column-title").get_attribute("aria-sort") == "descending"
    assert await titles(page) == list(reversed(ascending))


async def test_add_shows_the_field_error_then_saves_with_a_message(page, site):
    Category = site.model("blog.category")
    Article = site.model("blog.article")
    news = await Category.create(name="News", db=site.db)
    ann = await site.create_user("ann", WRITER)
    await log_in(page, site, "ann")
    await page.goto(site.url(ARTICLES))
    async with page.expect_navigation():
        await page.click("a.addlink")
    assert page.url == site.url(ARTICLES + "add/")

    await page.fill("#id_body", "Body kept across the error")
    async with page.expect_navigation():
        await page.click("button[name=_save]")
    errors = page.locator("#id_title_errors")
    assert await errors.inner_text() == "This field is required."
    # the error sits in the title's own field block, and the input points at it
    assert await page.locator(".field.has-errors #id_title").count() == 1
    assert await page.get_attribute("#id_title", "aria-invalid") == "true"
    assert await page.input_value("#id_body") == "Body kept across the error"
    assert await Article.count({}, db=site.db) == 0

    await page.fill("#id_title", "Hello, browser")
    await page.select_option("#id_category", str(news.id))
    async with page.expect_navigation():
        await page.click("button[name=_save]")
    assert page.url.startswith(site.url(ARTICLES))
    assert "“Hello, browser” was added" in await flashes(page)
    assert await titles(page) == ["Hello, browser"]
    article = await Article.find_one({"title": "Hello, browser"}, db=site.db)
    assert article.author == ann.id and article.category == news.id
    assert article.body == "Body kept across the error"


async def test_edit_changes_the_article(page, site):
    Article = site.model("blog.article")
    ann = await site.create_user("ann", WRITER)
    article = await Article.create(title="Old title", author=ann.id, db=site.db)
    await log_in(page, site, "ann")
    await page.goto(site.url(ARTICLES))
    async with page.expect_navigation():
        await page.click("table.result-list a:has-text('Old title')")
    assert page.url == site.url(f"{ARTICLES}{article.id}/")
    async with page.expect_navigation():
        await page.click(".object-tools a.changelink")
    assert await page.input_value("#id_title") == "Old title"

    await page.fill("#id_title", "New title")
    await page.check("#id_published")
    async with page.expect_navigation():
        await page.click("button[name=_save]")
    assert "“New title” was changed" in await flashes(page)
    assert await titles(page) == ["New title"]
    stored = await Article.get(article.id, db=site.db)
    assert (stored.title, stored.published, stored.version) == ("New title", True, 2)


async def test_delete_asks_on_its_own_page_first(page, site):
    Article = site.model("blog.article")
    ann = await site.create_user("ann", WRITER)
    doomed = await Article.create(title="Doomed", author=ann.id, db=site.db)
    await Article.create(title="Survivor", author=ann.id, db=site.db)
    await log_in(page, site, "ann")
    await page.goto(site.url(f"{ARTICLES}{doomed.id}/change/"))
    async with page.expect_navigation():
        await page.click(".submit-row a.deletelink")
    assert page.url == site.url(f"{ARTICLES}{doomed.id}/delete/")
    assert "Are you sure you want to delete the article “Doomed”?" in (
        await page.locator("main").inner_text())
    assert await Article.get(doomed.id, db=site.db) is not None    # asking deletes nothing

    async with page.expect_navigation():
        await page.click("button:has-text('Yes, delete it')")
    assert page.url == site.url(ARTICLES)
    assert "“Doomed” was deleted" in await flashes(page)
    assert await titles(page) == ["Survivor"]
    assert await Article.get(doomed.id, db=site.db) is None


async def test_bulk_delete_skips_someone_elses_article(page, site):
    Article = site.model("blog.article")
    ann = await site.create_user("ann", WRITER)
    bob = await site.create_user("bob", WRITER)
    mine = [await Article.create(title=f"Ann's {n}", author=ann.id, db=site.db)
            for n in (1, 2, 3)]
    theirs = await Article.create(title="Bob's", author=bob.id, db=site.db)
    await log_in(page, site, "ann")
    await page.goto(site.url(ARTICLES))
    for article in (mine[0], mine[1], theirs):
        await page.check(f"tr[data-id='{article.id}'] input.action-select")
    assert await page.locator("tr.selected").count() == 3          # bastion.js marks rows
    await page.select_option("#action-select", "delete_selected")
    async with page.expect_navigation():
        await page.click("#changelist-form button:has-text('Go')")

    allowed = await page.locator(".bulk-allowed li").all_inner_texts()
    skipped = await page.locator(".bulk-skipped li").all_inner_texts()
    assert sorted(allowed) == ["Ann's 1", "Ann's 2"]
    assert skipped == ["Bob's"]
    assert "1 will be skipped" in await page.locator(".bulk-skipped h2").inner_text()
    assert await Article.count({}, db=site.db) == 4                 # nothing deleted yet

    async with page.expect_navigation():
        await page.click("button:has-text(\"Yes, I'm sure\")")
    assert page.url == site.url(ARTICLES)
    assert "Skipped 1 you may not delete: Bob's" in await flashes(page)
    assert sorted(await titles(page)) == ["Ann's 3", "Bob's"]
    assert await Article.get(mine[0].id, db=site.db) is None
    assert await Article.get(mine[1].id, db=site.db) is None
    assert await Article.get(mine[2].id, db=site.db) is not None
    assert await Article.get(theirs.id, db=site.db) is not None


async def test_a_reader_sees_no_write_controls_and_typed_urls_are_refused(page, site):
    Article = site.model("blog.article")
    article = await Article.create(title="Read me", db=site.db)
    await site.create_user("rita", READER)
    await log_in(page, site, "rita")
    await page.goto(site.url(ARTICLES))
    assert await titles(page) == ["Read me"]
    for control in ("a.addlink", "#action-select", "input.action-select", "#action-toggle"):
        assert await page.locator(control).count() == 0, control

    async with page.expect_navigation():
        await page.click("table.result-list a:has-text('Read me')")
    assert await page.locator("main").inner_text() != ""
    for control in ("a.changelink", "a.deletelink"):
        assert await page.locator(control).count() == 0, control

    for path in (f"{ARTICLES}add/", f"{ARTICLES}{article.id}/change/",
                 f"{ARTICLES}{article.id}/delete/"):
        response = await page.goto(site.url(path))
        assert response.status == 403, path
        assert await page.locator("#id_title").count() == 0, path
        assert await page.locator("button:has-text('Yes, delete it')").count() == 0, path
    assert (await Article.get(article.id, db=site.db)).title == "Read me"


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_screenshots_of_the_list_and_the_form(page, site, tmp_path, scheme):
    """Screenshots for a person to look at (``BASTION_SCREENSHOTS=DIR`` keeps them)."""
    Category = site.model("blog.category")
    Article = site.model("blog.article")
    ann = await site.create_user("ann", WRITER)
    cats = [await Category.create(name=name, db=site.db) for name in ("News", "Recipes")]
    for n in range(12):
        await Article.create(title=f"Article number {n} with a longer title than most",
                             category=cats[n % 2].id, author=ann.id, published=n % 3 == 0,
                             db=site.db)
    out = Path(os.environ.get("BASTION_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    await page.emulate_media(color_scheme=scheme)
    await log_in(page, site, "ann")

    await page.goto(site.url(ARTICLES))
    assert len(await titles(page)) == 12
    shots = [out / f"list-{scheme}.png"]
    await page.screenshot(path=shots[-1], full_page=True)
    await page.goto(site.url(ARTICLES + "add/"))
    await page.click("button[name=_save]")                     # with the field error
    await page.locator("#id_title_errors").wait_for()
    shots.append(out / f"form-{scheme}.png")
    await page.screenshot(path=shots[-1], full_page=True)

    # the page follows the colour scheme: dark text on light, or light text on dark
    background, text = await page.evaluate("""() => {
        const style = getComputedStyle(document.documentElement);
        return [style.backgroundColor, style.color];
    }""")
    back = sum(int(c) for c in re.findall(r"\d+", background)[:3])
    fore = sum(int(c) for c in re.findall(r"\d+", text)[:3])
    if scheme == "dark":
        assert back < 3 * 60 and fore > 3 * 180, (background, text)
    else:
        assert back > 3 * 200 and fore < 3 * 80, (background, text)
    for shot in shots:
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5000
