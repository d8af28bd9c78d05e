"""Faults and leaks the attack run found in the generic admin, each kept closed.

* seeing is reading: writing or deleting without ``read`` shows no object data;
  references to objects the user may not read show as "(hidden)" and are not offered;
* a dangling reference stays as it is unless the user changes it;
* a bulk action racing an edit skips the stale object (each object's change and its
  audit entry together), never a half-done 500;
* an out-of-range ``_version`` is a 400, never a 500.
"""
import re

import pytest

from core.audit import AuditEntry

LIST = "/admin/notes/note/"
MARK = "SECRET-NOTE-7f3a"
CATEGORY_MARK = "SECRET-CATEGORY-91c2"


@pytest.fixture
async def note(site):
    Category = site.model("notes.category")
    Note = site.model("notes.note")
    category = await Category.create(name=CATEGORY_MARK, db=site.db)
    return await Note.create(title=MARK, body=f"body {MARK}", category=category,
                             owner="writer", db=site.db)


def note_form(note, **overrides):
    form = {"title": note.title, "body": note.body or "", "kind": note.kind,
            "rank": "", "tags": "", "due": "", "_version": str(note.version),
            "category": str(note.category) if note.category else ""}
    form.update(overrides)
    return form


# -- seeing is reading ---------------------------------------------------------------------------
async def test_write_without_read_cannot_open_or_post_the_change_form(site, note):
    blind = await site.user_browser("blind", {"notes.note": ["write"]})
    for response in [await blind.get(f"{LIST}{note.id}/change/"),
                     await blind.post(f"{LIST}{note.id}/change/",
                                      note_form(note, title="Overwritten"))]:
        assert response.code == 403
        assert MARK not in response.text and CATEGORY_MARK not in response.text
    stored = await site.model("notes.note").get(note.id, db=site.db)
    assert stored.title == MARK and stored.version == note.version


async def test_write_without_read_may_add_and_is_not_shown_what_it_added(site):
    blind = await site.user_browser("blind", {"notes.note": ["write"]})
    response = await blind.post(LIST + "add/", {"title": "Added blind", "kind": "memo"})
    assert response.code == 303 and response.location == LIST + "add/"
    page = await blind.get(LIST + "add/")
    assert "The note was added." in page.text and "Added blind" not in page.text
    assert await site.model("notes.note").count({"title": "Added blind"}, db=site.db) == 1


async def test_delete_without_read_names_nothing(site, note):
    Note = site.model("notes.note")
    deleter = await site.user_browser("deleter", {"notes.note": ["delete"]})
    confirm = await deleter.get(f"{LIST}{note.id}/delete/")
    assert confirm.code == 403                           # the object rule: not the owner
    assert MARK not in confirm.text and "You may not delete this note." in confirm.text
    await site.db["notes_note"].update_many({}, {"$set": {"owner": "deleter"}})
    confirm = await deleter.get(f"{LIST}{note.id}/delete/")
    assert confirm.code == 200 and "(hidden)" in confirm.text and MARK not in confirm.text
    done = await deleter.post(f"{LIST}{note.id}/delete/", {})
    assert done.code == 303 and done.location == "/admin/"
    index = await deleter.get("/admin/")
    assert "The note was deleted." in index.text and MARK not in index.text
    assert await Note.get(note.id, db=site.db) is None


async def test_bulk_needs_read_and_its_messages_name_no_unreadable_object(site, note):
    deleter = await site.user_browser("deleter", {"notes.note": ["delete"]})
    form = [("action", "delete_selected"), ("_selected_action", str(note.id))]
    response = await deleter.post(LIST, form)
    assert response.code == 403 and MARK not in response.text
    assert await site.model("notes.note").get(note.id, db=site.db) is not None


async def test_references_to_unreadable_objects_are_hidden_and_not_offered(site, note):
    Category = site.model("notes.category")
    other = await Category.create(name="SECRET-OTHER-CATEGORY", db=site.db)
    writer = await site.user_browser("writer", {"notes.note": ["read", "write"]})
    for path in [LIST, f"{LIST}{note.id}/", f"{LIST}{note.id}/change/"]:
        page = await writer.get(path)
        assert page.code == 200, path
        assert CATEGORY_MARK not in page.text and "SECRET-OTHER" not in page.text, path
        assert "(hidden)" in page.text, path
    form_page = await writer.get(f"{LIST}{note.id}/change/")
    options = re.findall(r'<option[^>]*value="([0-9a-f]{24})"[^>]*>([^<]*)</option>',
                         form_page.text)
    assert options == [(str(note.category), "(hidden)")]
    # keeping the hidden value is allowed; pointing at another unreadable object is not
    kept = await writer.post(f"{LIST}{note.id}/change/", note_form(note, title="Kept"))
    assert kept.code == 303
    fresh = await site.model("notes.note").get(note.id, db=site.db)
    assert fresh.category == note.category and fresh.title == "Kept"
    moved = await writer.post(f"{LIST}{note.id}/change/",
                              note_form(fresh, category=str(other.id)))
    assert moved.code == 200 and "that object does not exist" in moved.text
    assert (await site.model("notes.note").get(note.id, db=site.db)).category == note.category


# -- dangling references -------------------------------------------------------------------------
async def test_a_dangling_reference_stays_unless_the_user_changes_it(site, note):
    Category = site.model("notes.category")
    Note = site.model("notes.note")
    spare = await Category.create(name="Spare", db=site.db)
    await site.db["notes_category"].delete_one({"_id": note.category})
    editor = await site.user_browser("editor", {"notes.note": ["read", "write"],
                                                "notes.category": ["read"]})
    page = await editor.get(f"{LIST}{note.id}/change/")
    selected = re.search(r'<option selected value="([0-9a-f]{24})">([^<]*)</option>',
                         page.text)
    assert selected is not None and selected.group(1) == str(note.category)
    assert "(missing)" in selected.group(2)
    assert "no longer exists" in page.text
    response = await editor.post(f"{LIST}{note.id}/change/", note_form(note, title="Renamed"))
    assert response.code == 303
    stored = await Note.get(note.id, db=site.db)
    assert stored.title == "Renamed" and stored.category == note.category   # not re-pointed
    response = await editor.post(f"{LIST}{note.id}/change/",
                                 note_form(stored, category=str(spare.id)))
    assert response.code == 303
    assert (await Note.get(note.id, db=site.db)).category == spare.id


# -- bulk actions racing edits -------------------------------------------------------------------
async def test_a_bulk_action_racing_an_edit_skips_the_stale_object(site, monkeypatch):
    Note = site.model("notes.note")
    notes = [await Note.create(title=f"race {i}", owner="writer", db=site.db) for i in range(3)]
    admin = site.app.admin_site.get("notes.note")
    real_save = type(admin).save_model

    async def save_after_a_concurrent_edit(self, handler, obj, form, change):
        if obj.title == "race 1":                 # someone saves it first
            other = await Note.get(obj.id, db=site.db)
            other.title = "race 1 (their edit)"
            await other.save(db=site.db)
        await real_save(self, handler, obj, form, change)
    monkeypatch.setattr(type(admin), "save_model", save_after_a_concurrent_edit)
    writer = await site.user_browser("writer", {"notes.note": ["read", "write"]})
    form = [("action", "mark_done")] + [("_selected_action", str(n.id)) for n in notes]
    response = await writer.post(LIST, form)
    assert response.code == 303
    page = await writer.get(LIST)
    assert "done for 2 notes" in page.text
    assert "Skipped 1 changed or deleted by someone else meanwhile: race 1" in page.text
    stored = {n.id: n for n in await Note.find(db=site.db).to_list(None)}
    assert [stored[n.id].done for n in notes] == [True, False, True]
    assert stored[notes[1].id].title == "race 1 (their edit)"
    entries = await AuditEntry.find({"model_key": "notes.note", "action": "bulk_action"},
                                    db=site.db).to_list(None)
    assert sorted(e.object_id for e in entries) == sorted(str(notes[i].id) for i in (0, 2))


# -- out-of-range numbers ------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["99999999999999999999", "-1", "1e3", "١"])
async def test_an_out_of_range_version_is_a_400(site, note, version):
    editor = await site.user_browser("editor", {"notes.note": ["read", "write"]})
    response = await editor.post(f"{LIST}{note.id}/change/",
                                 note_form(note, title="Changed", _version=version))
    assert response.code == 400
    stored = await site.model("notes.note").get(note.id, db=site.db)
    assert stored.title == MARK and stored.version == note.version


# -- one redaction policy ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["password", "private_key", "credential", "api_token",
                                  "client_secret"])
def test_the_admin_diff_masks_every_secret_the_audit_log_does(name):
    from core.admin.handlers import AdminHandler
    from core.audit import REDACTED
    changes = AdminHandler.diff({name: "old-value", "title": "a"},
                                {name: "new-value", "title": "b"})
    assert changes[name] == {"before": REDACTED, "after": REDACTED}
    assert changes["title"] == {"before": "a", "after": "b"}


# -- pages the apps add ----------------------------------------------------------------------------
async def test_the_history_page_and_its_link_exist_only_with_the_audit_app(server, tmp_path):
    from admin_kit import make_settings
    bare = await server(make_settings(tmp_path, INSTALLED_APPS=["apps.accounts", "admin_demo"]))
    note = await bare.model("notes.note").create(title="n", db=bare.db)
    root = await bare.user_browser("root", is_superuser=True)
    detail = await root.get(f"{LIST}{note.id}/")
    assert detail.code == 200 and f"{LIST}{note.id}/history/" not in detail.text
    assert (await root.get(f"{LIST}{note.id}/history/")).code == 404
    assert "history" not in bare.app.admin_site.object_pages


async def test_a_dangling_reference_is_flagged_in_the_users_language(site, note):
    """The warning is found by the reference's missing label, not by its English text."""
    await site.db["notes_category"].delete_one({"_id": note.category})
    editor = await site.user_browser("redakteur", {"notes.note": ["read", "write"],
                                                   "notes.category": ["read"]},
                                     language="de")
    page = await editor.get(f"{LIST}{note.id}/change/")
    selected = re.search(r'<option selected value="([0-9a-f]{24})">([^<]*)</option>',
                         page.text)
    assert selected is not None and selected.group(2) == f"{note.category} (fehlt)"
    assert "existiert nicht mehr" in page.text
