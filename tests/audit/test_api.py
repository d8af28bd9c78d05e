"""core.audit's API on a real in-memory database: record, diff, redaction, history,
append-only entries, and the read-only admin options."""
import datetime
import inspect
import types

import pytest
from bson import ObjectId

import core.audit
from audit_kit import contains
from core.audit import (REDACTED, AuditEntry, ReadOnlyEntryError, diff, history,
                        latest_change, record, record_request, snapshot)
from core.audit.admin import AuditEntryAdmin
from core.models import Model, fields

SECRET = "hunter2-correct-horse"


class Gizmo(Model):
    name = fields.StringField(max_length=50)
    password = fields.StringField(max_length=200)
    tags = fields.ListField()

    class Meta:
        app_label = "testaudit"


def user(username="alice"):
    return types.SimpleNamespace(id=ObjectId(), username=username)


async def raw_documents(db):
    return await db["audit_log"].find({}).to_list(None)


# -- diff -------------------------------------------------------------------------------------

def test_diff_keeps_only_changed_fields_and_ignores_identity():
    before = {"id": "1", "version": 1, "name": "a", "count": 1, "tags": ["x"], "gone": 5}
    after = {"id": "1", "version": 2, "name": "b", "count": 1, "tags": ["x"], "new": None,
             "added": True}
    assert diff(before, after) == {
        "name": {"before": "a", "after": "b"},
        "gone": {"before": 5, "after": None},
        "added": {"before": None, "after": True},
    }


def test_diff_tells_int_from_bool_and_none_from_missing():
    assert diff({"flag": 1}, {"flag": True}) == {"flag": {"before": 1, "after": True}}
    assert diff({"x": None}, {}) == {}
    assert diff(None, None) == {}


def test_diff_masks_secret_fields_and_nested_secrets():
    changes = diff({"password": "old-one", "api_token": None, "config": {"db_secret": "s1"}},
                   {"password": SECRET, "api_token": "tok-123",
                    "config": {"db_secret": "s2", "host": "h"}})
    assert changes == {
        "password": {"before": REDACTED, "after": REDACTED},
        "api_token": {"before": None, "after": REDACTED},
        "config": {"before": {"db_secret": REDACTED},
                   "after": {"db_secret": REDACTED, "host": "h"}},
    }
    assert not contains(changes, SECRET) and not contains(changes, "tok-123")


def test_diff_secret_fields_and_hidden_are_configurable():
    assert diff({"pin": "1"}, {"pin": "2"}, secret_fields=("pin",)) == {
        "pin": {"before": REDACTED, "after": REDACTED}}
    assert diff({"code": "1"}, {"code": "2"}, hidden={"code"}) == {
        "code": {"before": REDACTED, "after": REDACTED}}
    assert diff({"password": "1"}, {"password": "2"}, secret_fields=()) == {
        "password": {"before": "1", "after": "2"}}


def test_snapshot_masks_secrets_yet_diff_sees_whether_they_changed():
    gizmo = Gizmo(name="g", password=SECRET, tags=["a"])
    snap = snapshot(gizmo)
    assert (snap["name"], snap["tags"]) == ("g", ["a"])
    assert str(snap["password"]) == repr(snap["password"]) == REDACTED
    assert SECRET not in repr(snap) and snapshot(gizmo, fields=["name"]) == {"name": "g"}
    gizmo.name = "h"
    assert diff(snap, snapshot(gizmo)) == {"name": {"before": "g", "after": "h"}}
    gizmo.password = SECRET + "!"
    assert diff(snap, snapshot(gizmo))["password"] == {"before": REDACTED, "after": REDACTED}
    gizmo.password = None
    assert diff(snap, snapshot(gizmo))["password"] == {"before": REDACTED, "after": None}
    assert diff({}, snapshot(Gizmo(password=SECRET)))["password"] == {"before": None,
                                                                      "after": REDACTED}


# -- record -----------------------------------------------------------------------------------

async def test_record_stores_every_column(db):
    alice = user()
    entry = await record(action="update", actor=alice, model_key="Blog.Article",
                         object_id=ObjectId("0123456789abcdef01234567"), object_label="Hello",
                         changes={"title": {"before": "a", "after": "b"}}, ip="10.0.0.7",
                         detail="from a test")
    [doc] = await raw_documents(db)
    assert doc["_id"] == entry.id
    assert doc["action"] == "update"
    assert doc["actor_id"] == alice.id and doc["actor"] == "alice"
    assert doc["model_key"] == "blog.article"
    assert doc["object_id"] == "0123456789abcdef01234567"
    assert doc["object_label"] == "Hello"
    assert doc["changes"] == {"title": {"before": "a", "after": "b"}}
    assert (doc["ip"], doc["detail"]) == ("10.0.0.7", "from a test")
    assert isinstance(doc["at"], datetime.datetime)
    now = datetime.datetime.now(datetime.timezone.utc)
    at = doc["at"] if doc["at"].tzinfo else doc["at"].replace(tzinfo=datetime.timezone.utc)
    assert abs((now - at).total_seconds()) < 10


async def test_record_takes_key_id_and_label_from_the_object(db):
    gizmo = Gizmo(name="sprocket", password=SECRET)
    await gizmo.save(db=db)
    entry = await record(action="create", obj=gizmo, actor="manage.py",
                         changes=diff({}, snapshot(gizmo)))
    assert (entry.model_key, entry.object_id, entry.object_label) == (
        "testaudit.gizmo", str(gizmo.id), str(gizmo))
    assert (entry.actor_id, entry.actor) == (None, "manage.py")
    assert entry.changes["password"] == {"before": None, "after": REDACTED}


async def test_a_password_never_reaches_the_stored_documents(db):
    gizmo = Gizmo(name="g", password="$2b$04$abcdefghijklmnopqrstuv" + "x" * 31)
    await gizmo.save(db=db)
    await record(action="update", obj=gizmo,
                 changes={"password": {"before": "old-" + SECRET, "after": SECRET},
                          "new_password1": {"before": None, "after": SECRET},
                          "profile": {"before": {"token": SECRET, "x": 1}, "after": None}})
    changes = diff({"password": "a"}, {"password": SECRET})
    await record(action="update", obj=gizmo, changes=changes)
    docs = await raw_documents(db)
    assert len(docs) == 2
    assert not any(contains(doc, SECRET) for doc in docs)
    assert not any(contains(doc, gizmo.password) for doc in docs)
    assert docs[0]["changes"]["profile"]["before"] == {"token": REDACTED, "x": 1}


async def test_record_refuses_a_bad_action_and_stores_nothing(db):
    for action in ("", "Log In", "drop;table", None, "x" * 60):
        with pytest.raises(ValueError):
            await record(action=action)
    assert await raw_documents(db) == []


async def test_record_keeps_dotted_keys_inside_values(db):
    entry = await record(action="permission_change", model_key="accounts.user",
                         object_id="u1", changes={"permissions": {
                             "before": {"blog.article": ["read"]},
                             "after": {"blog.article": ["read", "write"], "$odd": []}}})
    [stored] = await history("accounts.user", "u1")
    assert stored.id == entry.id
    assert stored.changes == {"permissions": {
        "before": {"blog.article": ["read"]},
        "after": {"blog.article": ["read", "write"], "$odd": []}}}


async def test_record_request_takes_actor_ip_and_db_from_the_handler(db):
    alice = user()
    handler = types.SimpleNamespace(current_user=alice, db=db,
                                    request=types.SimpleNamespace(remote_ip="192.0.2.9"))
    entry = await record_request(handler, "logout")
    assert (entry.actor_id, entry.actor, entry.ip, entry.action) == (
        alice.id, "alice", "192.0.2.9", "logout")
    anonymous = types.SimpleNamespace(current_user=None, db=db,
                                      request=types.SimpleNamespace(remote_ip="::1"))
    entry = await record_request(anonymous, "login_failed", actor="mallory")
    assert (entry.actor_id, entry.actor, entry.ip) == (None, "mallory", "::1")
    assert len(await raw_documents(db)) == 2


async def test_long_texts_are_cut_not_refused(db):
    entry = await record(action="update", actor="x" * 500, object_label="y" * 1000,
                         detail="z" * 10000)
    assert len(entry.actor) == 150 and entry.actor.endswith("…")
    assert len(entry.object_label) == 300
    assert len(entry.detail) == 4000


# -- reading back -----------------------------------------------------------------------------

async def test_history_is_newest_first_and_limited(db):
    for n in range(5):
        await record(action="update", model_key="vault.box", object_id="b1", detail=str(n))
    await record(action="update", model_key="vault.box", object_id="b2", detail="other")
    entries = await history("vault.box", "b1")
    assert [e.detail for e in entries] == ["4", "3", "2", "1", "0"]
    assert [e.detail for e in await history("vault.box", "b1", limit=2)] == ["4", "3"]
    assert (await latest_change("vault.box", "b1")).detail == "4"
    assert await latest_change("vault.box", "nope") is None


async def test_the_indexes_are_declared_and_created(db):
    info = await db["audit_log"].index_information()
    for name in ("model_key_1_object_id_1_at_-1", "at_-1", "actor_id_1_at_-1",
                 "action_1_at_-1"):
        assert name in info
    assert AuditEntry._meta.key == "audit.entry"
    assert AuditEntry._meta.collection == "audit_log"


# -- append-only ------------------------------------------------------------------------------

async def test_entries_cannot_be_changed_or_deleted(db):
    entry = await record(action="login", actor="alice")
    before = await raw_documents(db)
    entry.actor = "mallory"
    with pytest.raises(ReadOnlyEntryError):
        await entry.save()
    with pytest.raises(ReadOnlyEntryError):
        await entry.delete()
    loaded = await AuditEntry.get(entry.id)
    with pytest.raises(ReadOnlyEntryError):
        await loaded.save()
    assert await raw_documents(db) == before


def test_the_api_offers_no_way_to_edit_or_delete_entries():
    public = [name for name, value in vars(core.audit).items()
              if not name.startswith("_") and inspect.isfunction(value)]
    assert "record" in public and "history" in public
    assert not [name for name in public
                if any(word in name for word in ("update", "delete", "remove", "edit",
                                                 "change_entry", "purge", "clear"))]


class Perms:
    def __init__(self, superuser=False, grants=()):
        self.superuser, self.grants = superuser, set(grants)

    def has(self, key, action, obj=None, object_rule=None):
        return self.superuser or (key, action) in self.grants


def fake_handler(**kw):
    return types.SimpleNamespace(permissions=Perms(**kw), current_user=user())


def test_the_admin_is_read_only_even_for_a_superuser():
    admin = AuditEntryAdmin(AuditEntry)
    root = fake_handler(superuser=True)
    entry = AuditEntry(action="login")
    assert admin.may(root, "read") and admin.may(root, "read", entry)
    for action in ("write", "delete", "publish"):
        assert not admin.has_permission(root, action)
        assert not admin.may(root, action)
        assert not admin.may(root, action, entry)
    assert admin.get_actions(root) == {} and tuple(admin.actions) == ()
    reader = fake_handler(grants={("audit.entry", "read")})
    assert admin.may(reader, "read")
    assert not admin.may(fake_handler(grants={("audit.entry", "write")}), "read")
    assert list(admin.list_display) == ["at", "actor", "action", "model_key", "object_label"]
    assert list(admin.list_filter) == ["action", "model_key"]
    assert list(admin.search_fields) == ["actor", "object_label"]
    assert admin.get_ordering(root) == ["-at"]
