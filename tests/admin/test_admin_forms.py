"""Add and change pages: generated forms, errors in place, redirects, read-only fields,
optimistic concurrency, audit entries."""
import datetime
import re

import pytest
import wtforms

from core.admin.forms import model_form
from support.pages import error_for

LIST = "/admin/notes/note/"
WRITE = {"notes.note": ["read", "write"], "notes.category": ["read", "write"]}


@pytest.fixture
async def writer(site):
    return await site.user_browser("writer", WRITE)


@pytest.fixture
async def work(site):
    return await site.model("notes.category").create(name="Work", db=site.db)


@pytest.fixture
def audit_log(site):
    """What the admin recorded, read back from the real audit log, oldest first:
    ``await audit_log()`` → ``[AuditEntry]``."""
    from core.audit import AuditEntry

    async def entries():
        return await AuditEntry.find(sort=["at", "id"], db=site.db).to_list(None)
    return entries


def note_form(**overrides):
    form = {"title": "Buy milk", "body": "Two litres", "kind": "todo", "done": "y",
            "rank": "5", "tags": "home, shopping", "due": "2024-05-01T12:30", "category": ""}
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


async def test_model_form_maps_each_field_kind(site):
    Note = site.model("notes.note")
    form_class = model_form(Note, ["title", "body", "kind", "done", "rank", "category", "owner",
                                   "tags", "due"], readonly=["owner"])
    form = form_class()
    assert isinstance(form.title, wtforms.StringField) and form.title.flags.required
    assert any(isinstance(v, wtforms.validators.Length) and v.max == 120
               for v in form.title.validators)
    assert isinstance(form.body, wtforms.TextAreaField)
    assert isinstance(form.kind, wtforms.SelectField)
    assert [c[0] for c in form.kind.iter_choices()] == ["", "memo", "todo"]   # not required
    assert isinstance(form.done, wtforms.BooleanField)
    assert isinstance(form.rank, wtforms.IntegerField)
    assert any(isinstance(v, wtforms.validators.NumberRange) and v.max == 1000
               for v in form.rank.validators)
    assert isinstance(form.category, wtforms.SelectField)
    assert isinstance(form.due, wtforms.DateTimeLocalField)
    assert "owner" not in form._fields and form_class.readonly == ["owner"]
    assert "created" not in form._fields                  # auto_now_add: not editable
    User = site.model("accounts.user")
    user_form = model_form(User)()
    assert "password" not in user_form._fields and "password" not in model_form(User).readonly


async def test_create_saves_every_field_and_redirects_with_a_flash(site, writer, work, audit_log):
    add = await writer.get(LIST + "add/")
    assert add.code == 200
    assert f'<option value="{work.id}">Work</option>' in add.text    # reference choices
    assert 'name="owner"' not in add.text                             # read-only
    response = await writer.post(LIST + "add/", note_form(category=str(work.id)))
    assert response.code == 303 and response.location == LIST
    Note = site.model("notes.note")
    note = await Note.find_one({"title": "Buy milk"}, db=site.db)
    assert (note.body, note.kind, note.done, note.rank, note.tags) == (
        "Two litres", "todo", True, 5, ["home", "shopping"])
    assert note.category == work.id
    assert note.due == datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.timezone.utc)
    assert note.owner == "writer"                                     # save_model hook
    listing = await writer.get(LIST)
    assert "was added" in listing.text and "Buy milk" in listing.text
    last = (await audit_log())[-1]
    assert last.action == "create" and last.model_key == "notes.note"
    assert last.changes["title"] == {"before": None, "after": "Buy milk"}


async def test_save_and_continue_and_save_and_add_another(site, writer):
    response = await writer.post(LIST + "add/", note_form(title="Continue", _continue="1"))
    note = await site.model("notes.note").find_one({"title": "Continue"}, db=site.db)
    assert response.code == 303 and response.location == f"{LIST}{note.id}/change/"
    response = await writer.post(LIST + "add/", note_form(title="Another", _addanother="1"))
    assert response.code == 303 and response.location == LIST + "add/"
    response = await writer.post(f"{LIST}{note.id}/change/",
                                 note_form(title="Continued", _version="1", _continue="1"))
    assert response.code == 303 and response.location == f"{LIST}{note.id}/change/"
    page = await writer.get(response.location)
    assert "was changed" in page.text and 'name="_version" value="2"' in page.text


async def test_errors_are_shown_next_to_the_fields_and_nothing_is_saved(site, writer):
    response = await writer.post(LIST + "add/", note_form(
        title="", rank="5000", category="0123456789abcdef01234567", due="yesterday"))
    assert response.code == 200
    assert "required" in error_for(response.text, "title")
    assert "1000" in error_for(response.text, "rank")
    assert "does not exist" in error_for(response.text, "category")
    assert error_for(response.text, "due")
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*name="title"', response.text) or \
        re.search(r'aria-invalid="true"[^>]*id="id_title"', response.text)
    assert 'value="Two litres"' in response.text or "Two litres" in response.text  # input kept
    assert await site.model("notes.note").count(db=site.db) == 0
    bad_number = await writer.post(LIST + "add/", note_form(rank="abc"))
    assert bad_number.code == 200 and error_for(bad_number.text, "rank")
    injected = await writer.post(LIST + "add/", note_form(kind="memo') || 1"))
    assert injected.code == 200 and error_for(injected.text, "kind")
    assert await site.model("notes.note").count(db=site.db) == 0


async def test_a_taken_unique_value_is_a_field_error(site, writer, work):
    response = await writer.post("/admin/notes/category/add/", {"name": "Work"})
    assert response.code == 200
    assert "already exists" in error_for(response.text, "name")
    assert await site.model("notes.category").count(db=site.db) == 1


async def test_read_only_fields_are_text_and_never_written(site, writer):
    note = await site.model("notes.note").create(title="Mine", owner="alice", db=site.db)
    page = await writer.get(f"{LIST}{note.id}/change/")
    assert page.code == 200 and 'name="owner"' not in page.text and "alice" in page.text
    response = await writer.post(f"{LIST}{note.id}/change/",
                                 note_form(title="Mine!", owner="mallory", _version="1",
                                           version="99", id="0123456789abcdef01234567"))
    assert response.code == 303
    stored = await site.model("notes.note").get(note.id, db=site.db)
    assert (stored.title, stored.owner, stored.version) == ("Mine!", "alice", 2)


async def test_a_stale_version_is_not_saved_and_says_who_changed_it(site, writer, audit_log):
    Note = site.model("notes.note")
    note = await Note.create(title="Shared", db=site.db)
    page = await writer.get(f"{LIST}{note.id}/change/")
    assert 'name="_version" value="1"' in page.text
    # someone else saves meanwhile (and their tool records who and when)
    theirs = await Note.get(note.id, db=site.db)
    theirs.title = "Their edit"
    await theirs.save(db=site.db)
    when = datetime.datetime(2024, 6, 1, 9, 30, tzinfo=datetime.timezone.utc)
    await Note.get_collection(site.db).update_one(
        {"_id": note.id}, {"$set": {"updated_by": "bob", "updated_at": when}})
    response = await writer.post(f"{LIST}{note.id}/change/",
                                 note_form(title="My edit", _version="1"))
    assert response.code == 409
    assert "not saved" in response.text
    assert '<strong class="conflict-who">bob</strong>' in response.text
    assert "2024-06-01 09:30 UTC" in response.text
    assert 'value="My edit"' in response.text                        # the input is kept
    assert 'name="_version" value="2"' in response.text              # saving again overwrites
    assert (await Note.get(note.id, db=site.db)).title == "Their edit"
    assert [e for e in await audit_log() if e.action == "update"] == []
    again = await writer.post(f"{LIST}{note.id}/change/", note_form(title="My edit",
                                                                    _version="2"))
    assert again.code == 303
    assert (await Note.get(note.id, db=site.db)).title == "My edit"
    last = (await audit_log())[-1]
    assert last.action == "update"
    assert last.changes["title"] == {"before": "Their edit", "after": "My edit"}


async def test_a_deleted_object_while_editing_is_404(site, writer):
    Note = site.model("notes.note")
    note = await Note.create(title="Gone soon", db=site.db)
    await note.delete(db=site.db)
    response = await writer.post(f"{LIST}{note.id}/change/", note_form(_version="1"))
    assert response.code == 404


@pytest.mark.parametrize("version", [None, "", "abc", "1.5"])
async def test_a_missing_or_bad_version_is_400(site, writer, version):
    note = await site.model("notes.note").create(title="V", db=site.db)
    response = await writer.post(f"{LIST}{note.id}/change/", note_form(_version=version))
    assert response.code == 400
    assert (await site.model("notes.note").get(note.id, db=site.db)).title == "V"


async def test_hidden_fields_never_show_and_secrets_are_redacted_in_audit(site, audit_log):
    root = await site.user_browser("root", is_superuser=True)
    Plain = site.model("notes.plain")
    plain = await Plain.create(name="p", api_token="tok-123", key_hash="HASH-VALUE", db=site.db)
    for suffix in ["", "change/", "delete/"]:
        page = await root.get(f"/admin/notes/plain/{plain.id}/{suffix}")
        assert page.code == 200
        assert "HASH-VALUE" not in page.text and 'name="key_hash"' not in page.text
    listing = await root.get("/admin/notes/plain/")
    assert "HASH-VALUE" not in listing.text and "Key hash" not in listing.text
    response = await root.post(f"/admin/notes/plain/{plain.id}/change/", {
        "name": "p2", "score": "1.5", "api_token": "tok-456", "key_hash": "FORGED",
        "_version": "1"})
    assert response.code == 303
    stored = await Plain.get(plain.id, db=site.db)
    assert (stored.name, stored.score, stored.key_hash) == ("p2", 1.5, "HASH-VALUE")
    changes = (await audit_log())[-1].changes
    assert "key_hash" not in changes
    from core.audit import REDACTED
    assert changes["api_token"] == {"before": REDACTED, "after": REDACTED}
    assert "tok-456" not in repr(changes)
    assert changes["name"] == {"before": "p", "after": "p2"}


async def test_user_pages_never_show_the_password_hash(site):
    root = await site.user_browser("root", is_superuser=True)
    alice = await site.create_user("alice", {"notes.note": ["read"]})
    for suffix in ["", "change/"]:
        page = await root.get(f"/admin/accounts/user/{alice.id}/{suffix}")
        assert page.code == 200
        assert "$2b$" not in page.text and 'name="password"' not in page.text


async def test_a_conflict_names_the_latest_audit_entry_when_the_document_does_not(
        site, writer):
    from core.audit import record
    Note = site.model("notes.note")
    note = await Note.create(title="Shared", db=site.db)
    theirs = await Note.get(note.id, db=site.db)
    theirs.title = "Carol's"
    await theirs.save(db=site.db)
    entry = await record(action="update", actor="carol", obj=theirs, db=site.db)
    response = await writer.post(f"{LIST}{note.id}/change/", note_form(title="Mine",
                                                                       _version="1"))
    assert response.code == 409
    assert '<strong class="conflict-who">carol</strong>' in response.text
    assert entry.at.strftime("%Y-%m-%d %H:%M UTC") in response.text
    assert (await Note.get(note.id, db=site.db)).title == "Carol's"


async def test_writes_reach_the_real_audit_log_and_the_history_page(site, writer):
    from core.audit import history
    response = await writer.post(LIST + "add/", note_form(title="Audited"))
    assert response.code == 303
    note = await site.model("notes.note").find_one({"title": "Audited"}, db=site.db)
    await writer.post(f"{LIST}{note.id}/change/", note_form(title="Audited twice",
                                                            _version="1"))
    entries = await history("notes.note", str(note.id), db=site.db)
    assert [e.action for e in entries] == ["update", "create"]
    assert entries[0].actor == "writer"
    assert entries[0].changes["title"] == {"before": "Audited", "after": "Audited twice"}
    detail = await writer.get(f"{LIST}{note.id}/")
    assert f'href="{LIST}{note.id}/history/"' in detail.text
    page = await writer.get(f"{LIST}{note.id}/history/")
    assert page.code == 200 and "Audited twice" in page.text
