"""Bulk actions (confirmation, per-object rules, skipped objects) and the delete page."""
import re

import pytest

LIST = "/admin/notes/note/"
DELETE = {"notes.note": ["read", "write", "delete"], "notes.category": ["read", "delete"]}


@pytest.fixture
async def notes(site):
    Note = site.model("notes.note")
    mine = [await Note.create(title=f"mine {i}", owner="deleter", db=site.db) for i in range(3)]
    theirs = [await Note.create(title=f"theirs {i}", owner="other", db=site.db)
              for i in range(2)]
    return mine, theirs


def selection(objects, action, **extra):
    form = [("action", action)] + [("_selected_action", str(obj.id)) for obj in objects]
    return form + list(extra.items())


async def test_bulk_delete_confirms_then_skips_and_reports_protected_objects(site, notes):
    mine, theirs = notes
    Note = site.model("notes.note")
    browser = await site.user_browser("deleter", DELETE)
    confirm = await browser.post(LIST, selection(mine + theirs, "delete_selected"))
    assert confirm.code == 200
    allowed = re.search(r'<section class="bulk-allowed">(.*?)</section>', confirm.text, re.S)
    skipped = re.search(r'<section class="bulk-skipped">(.*?)</section>', confirm.text, re.S)
    assert all(f"mine {i}" in allowed.group(1) for i in range(3))
    assert all(f"theirs {i}" in skipped.group(1) for i in range(2))
    assert "theirs" not in allowed.group(1)
    assert await Note.count(db=site.db) == 5                       # nothing yet
    done = await browser.post(LIST, selection(mine + theirs, "delete_selected", post="yes"))
    assert done.code == 303 and done.location == LIST
    remaining = sorted(note.title for note in await Note.find(db=site.db).to_list(None))
    assert remaining == ["theirs 0", "theirs 1"]
    page = await browser.get(LIST)
    assert "done for 3 notes" in page.text
    assert "Skipped 2 you may not delete: theirs" in page.text


async def test_bulk_delete_with_nothing_allowed_changes_nothing(site, notes):
    _, theirs = notes
    browser = await site.user_browser("deleter", DELETE)
    confirm = await browser.post(LIST, selection(theirs, "delete_selected"))
    assert "nothing would change" in confirm.text and "Yes, I" not in confirm.text
    done = await browser.post(LIST, selection(theirs, "delete_selected", post="yes"))
    assert done.code == 303
    assert await site.model("notes.note").count(db=site.db) == 5


async def test_a_custom_action_runs_on_the_selection_and_flashes_its_message(site, notes):
    mine, theirs = notes
    browser = await site.user_browser("writer", {"notes.note": ["read", "write"]})
    response = await browser.post(LIST, selection(mine[:2], "mark_done"))
    assert response.code == 303                                    # no confirmation needed
    Note = site.model("notes.note")
    done = sorted(n.title for n in await Note.find({"done": True}, db=site.db).to_list(None))
    assert done == ["mine 0", "mine 1"]
    # each object is done on its own (with its audit entry): the page sums them up
    assert "Mark selected notes done: done for 2 notes." in (await browser.get(LIST)).text
    await browser.post(LIST, selection(mine[2:], "mark_done"))
    assert "Marked 1 done." in (await browser.get(LIST)).text      # one: the action's own


async def test_bulk_posts_are_checked(site, notes):
    mine, _ = notes
    browser = await site.user_browser("writer", {"notes.note": ["read", "write"]})
    assert (await browser.post(LIST, selection(mine, "delete_selected", post="yes"))).code == 403
    assert (await browser.post(LIST, selection(mine, "no_such_action"))).code == 400
    assert (await browser.post(LIST, selection(mine, ""))).code == 400
    bad = [("action", "mark_done"), ("_selected_action", "not-an-id")]
    assert (await browser.post(LIST, bad)).code == 400
    empty = await browser.post(LIST, [("action", "mark_done")])
    assert empty.code == 303
    assert "Select some items first" in (await browser.get(LIST)).text
    assert await site.model("notes.note").count({"done": True}, db=site.db) == 0


async def test_bulk_actions_are_audited_per_object(site, notes):
    from core.audit import AuditEntry
    mine, _ = notes
    browser = await site.user_browser("deleter", DELETE)
    await browser.post(LIST, selection(mine[:2], "delete_selected", post="yes"))
    await browser.post(LIST, selection(mine[2:], "mark_done"))
    entries = await AuditEntry.find({"model_key": "notes.note"}, sort=["at", "id"],
                                    db=site.db).to_list(None)
    assert sorted((e.action, e.detail, e.object_id) for e in entries) == sorted([
        ("delete", "bulk action delete_selected", str(mine[0].id)),
        ("delete", "bulk action delete_selected", str(mine[1].id)),
        ("bulk_action", "bulk action mark_done", str(mine[2].id))])
    assert entries[-1].changes == {"done": {"before": False, "after": True}}


async def test_delete_page_lists_what_refers_to_the_object(site):
    Category = site.model("notes.category")
    Note = site.model("notes.note")
    work = await Category.create(name="Work", db=site.db)
    for i in range(7):
        await Note.create(title=f"ref {i}", category=work, db=site.db)
    browser = await site.user_browser("deleter", DELETE)
    page = await browser.get(f"/admin/notes/category/{work.id}/delete/")
    assert page.code == 200
    assert "Work" in page.text and "Notes (category)</strong>: 7" in page.text
    assert len(re.findall(r'<li><a href="/admin/notes/note/[0-9a-f]{24}/">ref \d</a></li>',
                          page.text)) == 5
    blind = await site.user_browser("blind", {"notes.category": ["read", "delete"]})
    page = await blind.get(f"/admin/notes/category/{work.id}/delete/")
    # seeing is reading: no count, no label of a model the user may not read
    assert page.code == 200 and "Notes (category)" not in page.text
    assert "/admin/notes/note/" not in page.text and "ref 0" not in page.text
    response = await browser.post(f"/admin/notes/category/{work.id}/delete/", {})
    assert response.code == 303 and response.location == "/admin/notes/category/"
    assert await Category.get(work.id, db=site.db) is None


async def test_detail_links_references_and_shows_allowed_tools_only(site):
    Category = site.model("notes.category")
    Note = site.model("notes.note")
    work = await Category.create(name="Work", db=site.db)
    note = await Note.create(title="Linked", category=work, tags=["a", "b"], owner="x",
                             db=site.db)
    browser = await site.user_browser("reader", {"notes.note": ["read"],
                                                 "notes.category": ["read"]})
    page = await browser.get(f"{LIST}{note.id}/")
    assert f'<a href="/admin/notes/category/{work.id}/">Work</a>' in page.text
    assert "a, b" in page.text
    assert f"{LIST}{note.id}/change/" not in page.text
    assert f"{LIST}{note.id}/delete/" not in page.text
