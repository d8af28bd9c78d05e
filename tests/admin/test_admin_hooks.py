"""``before_save``/``after_save`` and ``before_delete``/``after_delete`` run on every channel:
the add/change form, the delete page, the bulk delete and the JSON API."""
import json

import pytest

from core.models import ValidationError
from core.permissions import PermissionDenied

LIST = "/admin/notes/note/"
API = "/api/notes/note/"


@pytest.fixture
def calls(site, monkeypatch):
    """Hooks on the served NoteAdmin that record their calls; titles starting with
    "refuse" are refused by ``before_save``, "keep" by ``before_delete``."""
    admin_class = type(site.app.admin_site.get("notes.note"))
    seen = []

    async def before_save(self, handler, obj, change):
        seen.append(("before_save", obj.title, change))
        if obj.title.startswith("refuse"):
            raise ValidationError("Refused by before_save.", field="title")

    async def after_save(self, handler, obj, change):
        stored = await type(obj).get(obj.id, db=handler.db)
        seen.append(("after_save", stored.title, change))            # committed already

    async def before_delete(self, handler, obj):
        seen.append(("before_delete", obj.title))
        if obj.title.startswith("keep"):
            raise PermissionDenied("This note is kept.")

    async def after_delete(self, handler, obj):
        seen.append(("after_delete", obj.title,
                     await type(obj).get(obj.id, db=handler.db) is None))
    for name, hook in [("before_save", before_save), ("after_save", after_save),
                       ("before_delete", before_delete), ("after_delete", after_delete)]:
        monkeypatch.setattr(admin_class, name, hook)
    return seen


FULL = {"notes.note": ["read", "write", "delete"]}


async def test_the_form_runs_the_save_hooks_and_before_save_can_refuse(site, calls):
    browser = await site.user_browser("owner", FULL)
    ok = await browser.post(LIST + "add/", {"title": "Kept", "kind": "memo"})
    assert ok.code == 303
    refused = await browser.post(LIST + "add/", {"title": "refuse me", "kind": "memo"})
    assert refused.code == 200 and "Refused by before_save." in refused.text
    Note = site.model("notes.note")
    assert [n.title for n in await Note.find(db=site.db).to_list(None)] == ["Kept"]
    assert calls == [("before_save", "Kept", False), ("after_save", "Kept", False),
                     ("before_save", "refuse me", False)]


async def test_the_api_runs_the_same_hooks(site, calls):
    client = await site.user_browser("owner", FULL)
    headers = {"Content-Type": "application/json", "X-XSRFToken": await client.xsrf()}
    created = await client.fetch(API, method="POST", body=json.dumps({"title": "Via API"}),
                                 headers=headers)
    assert created.code == 201, created.text
    note_id = json.loads(created.text)["id"]
    assert (await client.fetch(f"{API}{note_id}", method="DELETE", headers=headers)).code == 204
    assert calls == [("before_save", "Via API", False), ("after_save", "Via API", False),
                     ("before_delete", "Via API"), ("after_delete", "Via API", True)]


async def test_delete_page_and_bulk_delete_run_the_delete_hooks(site, calls):
    Note = site.model("notes.note")
    gone = await Note.create(title="gone", owner="owner", db=site.db)
    keep = await Note.create(title="keep me", owner="owner", db=site.db)
    bulk = await Note.create(title="bulk", owner="owner", db=site.db)
    browser = await site.user_browser("owner", FULL)
    assert (await browser.post(f"{LIST}{gone.id}/delete/", {})).code == 303
    refused = await browser.post(f"{LIST}{keep.id}/delete/", {})
    assert refused.code == 403 and "This note is kept." in refused.text
    form = [("action", "delete_selected"), ("_selected_action", str(bulk.id)),
            ("_selected_action", str(keep.id)), ("post", "yes")]
    assert (await browser.post(LIST, form)).code == 303
    assert sorted(n.title for n in await Note.find(db=site.db).to_list(None)) == ["keep me"]
    assert ("after_delete", "gone", True) in calls and ("after_delete", "bulk", True) in calls
    assert not any(c[0] == "after_delete" and c[1] == "keep me" for c in calls)


async def test_a_save_racing_another_is_a_409_conflict_and_writes_nothing(site, monkeypatch):
    Note = site.model("notes.note")
    note = await Note.create(title="Before", owner="owner", db=site.db)
    admin_class = type(site.app.admin_site.get("notes.note"))

    async def someone_saves_first(self, handler, obj, change):
        other = await Note.get(obj.id, db=handler.db)
        other.title = "Their edit"
        await other.save(db=handler.db)
    monkeypatch.setattr(admin_class, "before_save", someone_saves_first)
    browser = await site.user_browser("owner", FULL)
    response = await browser.post(f"{LIST}{note.id}/change/", {
        "title": "My edit", "kind": "memo", "_version": str(note.version)})
    assert response.code == 409 and "My edit" in response.text        # the input is kept
    stored = await Note.get(note.id, db=site.db)
    assert stored.title == "Their edit" and stored.version == note.version + 1
