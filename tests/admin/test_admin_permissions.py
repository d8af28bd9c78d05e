"""Who may open which admin page: login, the model grant, the object rule, hidden buttons."""
import re

import pytest
from support.pages import inline_scripts

READ = {"notes.note": ["read"], "notes.category": ["read"]}
WRITE = {"notes.note": ["read", "write"], "notes.category": ["read"]}
DELETE = {"notes.note": ["read", "write", "delete"], "notes.category": ["read"]}


@pytest.fixture
async def note(site):
    Category = site.model("notes.category")
    Note = site.model("notes.note")
    category = await Category.create(name="Work", db=site.db)
    return await Note.create(title="First note", category=category, owner="deleter",
                             db=site.db)


def pages(note):
    base = "/admin/notes/note/"
    return {"list": base, "add": base + "add/", "detail": f"{base}{note.id}/",
            "change": f"{base}{note.id}/change/", "delete": f"{base}{note.id}/delete/"}


async def test_anonymous_users_are_sent_to_log_in_from_every_page(site, note):
    browser = site.browser()
    for path in ["/admin/", *pages(note).values()]:
        response = await browser.get(path)
        assert response.code == 302, path
        assert response.location.startswith("/admin/login/?next="), path


async def test_anonymous_post_is_redirected_and_changes_nothing(site, note):
    browser = site.browser()
    response = await browser.post(pages(note)["delete"], {})
    assert response.code == 303 and response.location.startswith("/admin/login/")
    assert await site.model("notes.note").get(note.id, db=site.db) is not None


async def test_user_without_read_gets_403_and_does_not_see_the_model(site, note):
    browser = await site.user_browser("nobody", {"notes.category": ["read"]})
    for path in pages(note).values():
        assert (await browser.get(path)).code == 403, path
    index = await browser.get("/admin/")
    assert 'data-model="notes.category"' in index.text
    assert 'data-model="notes.note"' not in index.text
    assert 'href="/admin/notes/note/"' not in index.text          # nor in the navigation


async def test_read_only_user_reads_but_cannot_add_change_or_delete(site, note):
    browser = await site.user_browser("reader", READ)
    urls = pages(note)
    listing = await browser.get(urls["list"])
    assert listing.code == 200 and "First note" in listing.text
    detail = await browser.get(urls["detail"])
    assert detail.code == 200 and "First note" in detail.text
    for name in ("add", "change", "delete"):
        response = await browser.get(urls[name])
        assert response.code == 403, name
        assert "permission" in response.text
    # no buttons for what they may not do
    assert urls["add"] not in listing.text
    assert "_selected_action" not in listing.text and 'name="action"' not in listing.text
    assert urls["change"] not in detail.text and urls["delete"] not in detail.text
    index = await browser.get("/admin/")
    assert urls["add"] not in index.text
    # and POSTs are refused before anything is written
    response = await browser.post(urls["change"], {"title": "Hijacked", "_version": "1"})
    assert response.code == 403
    response = await browser.post(urls["add"], {"title": "Sneaky"})
    assert response.code == 403
    response = await browser.post(urls["list"], [("action", "delete_selected"),
                                                 ("_selected_action", str(note.id)),
                                                 ("post", "yes")])
    assert response.code == 403
    Note = site.model("notes.note")
    assert (await Note.get(note.id, db=site.db)).title == "First note"
    assert await Note.count(db=site.db) == 1


async def test_write_user_adds_and_changes_but_cannot_delete(site, note):
    browser = await site.user_browser("writer", WRITE)
    urls = pages(note)
    listing = await browser.get(urls["list"])
    assert urls["add"] in listing.text
    assert 'value="mark_done"' in listing.text                 # a write action is offered
    assert 'value="delete_selected"' not in listing.text       # delete is not
    detail = await browser.get(urls["detail"])
    assert urls["change"] in detail.text and urls["delete"] not in detail.text
    assert (await browser.get(urls["add"])).code == 200
    assert (await browser.get(urls["change"])).code == 200
    assert (await browser.get(urls["delete"])).code == 403
    assert (await browser.post(urls["delete"], {})).code == 403
    assert await site.model("notes.note").get(note.id, db=site.db) is not None


async def test_delete_user_deletes_only_what_the_object_rule_allows(site, note):
    Note = site.model("notes.note")
    theirs = await Note.create(title="Someone else's", owner="other", db=site.db)
    browser = await site.user_browser("deleter", DELETE)
    urls = pages(note)
    detail = await browser.get(urls["detail"])
    assert urls["delete"] in detail.text                       # their own note
    other_detail = await browser.get(f"/admin/notes/note/{theirs.id}/")
    assert f"/admin/notes/note/{theirs.id}/delete/" not in other_detail.text
    assert (await browser.get(f"/admin/notes/note/{theirs.id}/delete/")).code == 403
    assert (await browser.post(f"/admin/notes/note/{theirs.id}/delete/", {})).code == 403
    assert await Note.get(theirs.id, db=site.db) is not None
    confirm = await browser.get(urls["delete"])
    assert confirm.code == 200 and "First note" in confirm.text
    response = await browser.post(urls["delete"], {})
    assert response.code == 303 and response.location == "/admin/notes/note/"
    assert await Note.get(note.id, db=site.db) is None
    listing = await browser.get("/admin/notes/note/")
    assert "was deleted" in listing.text and "First note" in listing.text   # the flash
    again = await browser.get("/admin/notes/note/")
    assert "was deleted" not in again.text                     # shown once


async def test_superuser_bypasses_the_object_rule(site, note):
    Note = site.model("notes.note")
    browser = await site.user_browser("root", is_superuser=True)
    response = await browser.post(pages(note)["delete"], {})
    assert response.code == 303
    assert await Note.get(note.id, db=site.db) is None


async def test_posts_need_the_xsrf_token(site, note):
    browser = await site.user_browser("deleter", DELETE)
    urls = pages(note)
    for path, form in [(urls["delete"], {}), (urls["change"], {"title": "x", "_version": "1"}),
                       (urls["add"], {"title": "x"}),
                       (urls["list"], {"action": "delete_selected", "post": "yes",
                                       "_selected_action": str(note.id)})]:
        response = await browser.post(path, form, xsrf=False)
        assert response.code == 403, path
        assert "xsrf" in response.text.lower()
    Note = site.model("notes.note")
    assert (await Note.get(note.id, db=site.db)).title == "First note"
    assert await Note.count(db=site.db) == 1


@pytest.mark.parametrize("suffix", ["", "change/", "delete/"])
async def test_malformed_and_unknown_ids_are_404(site, suffix):
    browser = await site.user_browser("root", is_superuser=True)
    for bad in ["not-an-id", "123", "zzzzzzzzzzzzzzzzzzzzzzzz", "0123456789abcdef01234567"]:
        response = await browser.get(f"/admin/notes/note/{bad}/{suffix}")
        assert response.code == 404, bad


async def test_unknown_app_or_model_is_404(site):
    browser = await site.user_browser("root", is_superuser=True)
    for path in ["/admin/nope/note/", "/admin/notes/nope/", "/admin/notes/nope/add/",
                 "/admin/notes/note/add/extra/"]:
        assert (await browser.get(path)).code == 404, path


async def test_index_lists_readable_models_grouped_with_add_links_when_allowed(site):
    browser = await site.user_browser("writer", WRITE)
    index = await browser.get("/admin/")
    assert index.code == 200
    assert 'data-model="notes.note"' in index.text and 'data-model="notes.category"' in index.text
    assert 'data-model="notes.plain"' not in index.text
    assert 'data-model="accounts.user"' not in index.text
    assert 'href="/admin/notes/note/add/"' in index.text
    assert 'href="/admin/notes/category/add/"' not in index.text       # read only there
    assert "<caption>Notes</caption>" in index.text


async def test_every_page_has_navigation_and_the_user_menu(site, note):
    browser = await site.user_browser("reader", READ)
    page = await browser.get(pages(note)["detail"])
    nav = re.search(r'<nav class="admin-nav".*?</nav>', page.text, re.S).group(0)
    assert 'href="/admin/notes/note/"' in nav and 'href="/admin/notes/category/"' in nav
    assert "/admin/accounts/user/" not in nav and "/admin/notes/plain/" not in nav
    assert 'action="/admin/logout/"' in page.text and 'href="/admin/password_change/"' in page.text
    assert inline_scripts(page.text) == []                                # no inline code
    assert page.headers["Cache-Control"] == "no-store"
