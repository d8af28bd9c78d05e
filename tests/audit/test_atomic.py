"""``audited``: an object's write and its audit entry, both or neither — and the repair
that resolves what a crash between the two left behind, on every backend
(memory, an embedded file, a MongoDB-wire server when ``MONGO_URL`` is set).

A crash is reproduced exactly as it leaves the database: the ``audited`` block is
entered (its pending entry written), the write is done or not, and the block is
never left — what a process killed at that point leaves behind. The kill -9 of a
real server is in ``tests/faults/test_crash_writes.py``.
"""
import os
import types
import uuid

import pytest
from bson import ObjectId

from core.audit import AuditEntry, audited, count_pending, history, repair_pending
from core.audit.atomic import PENDING_COLLECTION, REPAIRED_NOTE
from core.db import connect
from core.models import Model, StaleObjectError, fields
from support import bound

NO_WIRE_SERVER = "MONGO_URL not set: no MongoDB-wire server"
ABANDONED = []


class Crate(Model):
    name = fields.StringField(max_length=50, required=True)
    size = fields.IntegerField(default=0)

    class Meta:
        app_label = "testatomic"


def url_with_database(url, name):
    from urllib.parse import urlsplit, urlunsplit
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@pytest.fixture(params=["memory", "embedded", pytest.param("wire", marks=pytest.mark.wire)])
async def db(request, tmp_path):
    if request.param == "memory":
        database = connect("memory:")
    elif request.param == "embedded":
        database = connect(f"embedded:{tmp_path / 'store.sqlite3'}")
    else:
        mongo_url = os.environ.get("MONGO_URL")
        if not mongo_url:
            pytest.skip(NO_WIRE_SERVER)
        database = connect(url_with_database(mongo_url, f"bastion_test_{uuid.uuid4().hex[:12]}"))
    try:
        async with bound(database):
            await AuditEntry.ensure_indexes()
            yield database
    finally:
        try:
            if request.param == "wire":
                await database.drop()
        finally:
            await database.close()


def handler(db, username="alice"):
    user = types.SimpleNamespace(id=ObjectId(), username=username)
    return types.SimpleNamespace(current_user=user, db=db, model_admin=None,
                                 request=types.SimpleNamespace(remote_ip="192.0.2.7"))


async def entries(db):
    return await db["audit_log"].find({}).sort([("at", 1), ("_id", 1)]).to_list(None)


async def pending(db):
    return await db[PENDING_COLLECTION].find({}).to_list(None)


async def crash_inside(db, action, obj, write=None, **kw):
    """Enter ``audited``, run ``write`` (or nothing), and never leave: a process killed
    between the write and its entry."""
    manager = audited(handler(db), action, obj=obj, **kw)
    await manager.__aenter__()
    if write is not None:
        await write()
    ABANDONED.append(manager)      # never exited (nor collected) during the test
    return manager


# -- normal exits --------------------------------------------------------------------------
async def test_create_records_one_entry_with_changes_set_after_the_write(db):
    crate = Crate(name="first")
    async with audited(handler(db), "create", obj=crate) as entry:
        assert crate.id is not None            # chosen before the write
        assert len(await pending(db)) == 1     # the outbox holds it while the block runs
        assert await entries(db) == []         # and readers do not see it
        await crate.save()
        entry.changes = {"name": {"before": None, "after": "first"}}
    assert await pending(db) == []
    [doc] = await entries(db)
    assert doc["_id"] == entry.id and doc["action"] == "create"
    assert doc["object_id"] == str(crate.id) and doc["model_key"] == "testatomic.crate"
    assert doc["actor"] == "alice" and doc["ip"] == "192.0.2.7"
    assert doc["changes"] == {"name": {"before": None, "after": "first"}}
    assert entry.entry is not None and entry.entry.id == entry.id


async def test_a_block_that_raises_records_nothing_and_propagates(db):
    crate = Crate(name="x" * 51)             # too long: save raises ValidationError
    with pytest.raises(Exception) as caught:
        async with audited(handler(db), "create", obj=crate):
            await crate.save()
    assert "name" in str(caught.value)
    assert crate.id is None                  # the id chosen for the insert is given back
    assert await entries(db) == [] and await pending(db) == []


async def test_a_stale_update_records_nothing(db):
    crate = await Crate.create(name="a")
    other = await Crate.get(crate.id)
    other.size = 2
    await other.save()
    crate.size = 3
    with pytest.raises(StaleObjectError):
        async with audited(handler(db), "update", obj=crate):
            await crate.save()
    assert await entries(db) == [] and await pending(db) == []
    assert (await Crate.get(crate.id)).size == 2


async def test_a_bad_action_is_refused_before_the_write(db):
    crate = Crate(name="a")
    ran = []
    with pytest.raises(ValueError):
        async with audited(handler(db), "Not An Action", obj=crate):
            ran.append(True)
    assert ran == [] and crate.id is None and await pending(db) == []


# -- crashes and the repair ----------------------------------------------------------------
async def test_crash_after_a_create_is_recorded_by_the_repair(db):
    crate = Crate(name="made")
    await crash_inside(db, "create", crate, crate.save,
                       changes={"name": {"before": None, "after": "made"}})
    assert await entries(db) == [] and await count_pending(db) == 1
    report = await repair_pending(db)
    assert len(report.committed) == 1 and report.dropped == []
    [doc] = await entries(db)
    assert doc["object_id"] == str(crate.id) and doc["action"] == "create"
    assert doc["changes"] == {"name": {"before": None, "after": "made"}}
    assert REPAIRED_NOTE in doc["detail"]
    assert await count_pending(db) == 0
    assert len(await history("testatomic.crate", crate.id)) == 1


async def test_crash_before_a_create_is_dropped_by_the_repair(db):
    crate = Crate(name="never")
    await crash_inside(db, "create", crate)           # killed before the insert
    report = await repair_pending(db)
    assert report.committed == [] and len(report.dropped) == 1
    assert await entries(db) == [] and await count_pending(db) == 0


async def test_crash_around_an_update_follows_the_version(db):
    crate = await Crate.create(name="v1")
    done = await Crate.get(crate.id)
    done.size = 5
    await crash_inside(db, "update", done, done.save)           # v1 → v2, then killed
    not_done = await Crate.get(crate.id)
    not_done.size = 9
    await crash_inside(db, "update", not_done)                  # expects v3, killed first
    report = await repair_pending(db)
    assert len(report.committed) == 1 and len(report.dropped) == 1
    [doc] = await entries(db)
    assert doc["action"] == "update" and doc["object_id"] == str(crate.id)
    assert (await Crate.get(crate.id)).version == 2


async def test_two_interrupted_updates_racing_on_one_version_record_one(db):
    crate = await Crate.create(name="v1")
    first, second = await Crate.get(crate.id), await Crate.get(crate.id)
    first.size, second.size = 1, 2
    await crash_inside(db, "update", first, first.save)          # wrote v2
    await crash_inside(db, "update", second)                     # would have been stale
    report = await repair_pending(db)
    assert len(report.committed) == 1 and len(report.dropped) == 1
    assert [d["action"] for d in await entries(db)] == ["update"]


async def test_crash_around_a_delete_follows_whether_the_object_is_gone(db):
    gone = await Crate.create(name="gone")
    kept = await Crate.create(name="kept")
    await crash_inside(db, "delete", gone, gone.delete)
    await crash_inside(db, "delete", kept)
    await repair_pending(db)
    docs = await entries(db)
    assert [(d["action"], d["object_id"]) for d in docs] == [("delete", str(gone.id))]
    assert await Crate.get(kept.id) is not None


async def test_a_create_later_deleted_is_still_recorded(db):
    crate = Crate(name="brief")
    await crash_inside(db, "create", crate, crate.save)
    async with audited(handler(db), "delete", obj=crate):
        await crate.delete()
    await repair_pending(db)
    assert sorted(d["action"] for d in await entries(db)) == ["create", "delete"]


async def test_repair_twice_and_after_a_normal_commit_records_once(db):
    crate = Crate(name="once")
    await crash_inside(db, "create", crate, crate.save)
    first = await repair_pending(db)
    second = await repair_pending(db)
    assert len(first.committed) == 1 and second.committed == second.dropped == []
    assert len(await entries(db)) == 1


async def test_repair_before_leaves_newer_pending_entries_alone(db):
    import datetime
    crate = Crate(name="in flight")
    await crash_inside(db, "create", crate, crate.save)
    cutoff = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    report = await repair_pending(db, before=cutoff)
    assert report.committed == report.dropped == []
    assert await count_pending(db) == 1


async def test_start_up_repair_runs_with_the_indexes(db, tmp_path):
    from core.app import ensure_all_indexes
    from core.registry import Registry
    from support import make_settings
    crate = Crate(name="restart")
    await crash_inside(db, "create", crate, crate.save)
    registry = Registry(installed_apps=[]).load()          # even without the audit app
    await ensure_all_indexes(registry, db, make_settings(tmp_path, []))   # start-up's step
    assert await count_pending(db) == 0
    assert [d["object_id"] for d in await entries(db)] == [str(crate.id)]


async def test_a_cancelled_block_leaves_its_entry_to_be_resolved(db, monkeypatch):
    import asyncio
    import core.audit.atomic as atomic
    monkeypatch.setattr(atomic, "RESOLVE_DELAY", 0.05)
    crate = Crate(name="cancelled")
    saved = asyncio.Event()

    async def request():
        async with audited(handler(db), "create", obj=crate):
            await crate.save()
            saved.set()
            await asyncio.sleep(30)          # the client went away: the task is cancelled

    task = asyncio.ensure_future(request())
    await saved.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await count_pending(db) == 1        # not forgotten: the write did happen
    for _ in range(200):
        if not await count_pending(db):
            break
        await asyncio.sleep(0.02)
    assert [d["object_id"] for d in await entries(db)] == [str(crate.id)]


# -- the commands --------------------------------------------------------------------------
async def test_check_counts_and_repair_audit_resolves_pending_entries(cli):
    import datetime
    database = connect(cli.db_url)
    try:
        async with bound(database):
            await AuditEntry.ensure_indexes()
            made = Crate(name="made")
            await crash_inside(database, "create", made, made.save)
            await crash_inside(database, "create", Crate(name="never"))
            # the first as if written an hour ago
            await database[PENDING_COLLECTION].update_many(
                {"object_id": str(made.id)}, {"$set": {"at": datetime.datetime.now(
                    datetime.timezone.utc) - datetime.timedelta(hours=1)}})
    finally:
        await database.close()
    assert "audit: 2 pending entries" in cli("check").stdout
    young = cli.ok("repair_audit")                  # default --min-age 60: the old one only
    assert "1 pending audit entry recorded" in young.stdout, young.stdout
    assert "1 younger pending entry left alone" in young.stdout
    rest = cli.ok("repair_audit", "--min-age", "0")
    assert "0 pending audit entries recorded" in rest.stdout and "1 dropped" in rest.stdout
    assert "pending" not in cli("check").stdout
    assert [e["object_id"] for e in await cli.entries()] == [str(made.id)]
    bad = cli("repair_audit", "--min-age", "-1")
    assert bad.returncode == 2 and "--min-age" in bad.stderr


async def test_a_command_without_a_handler_passes_actor_and_db(db):
    crate = Crate(name="cli")
    async with audited(None, "create", obj=crate, actor="manage.py", db=db,
                       detail="manage.py something"):
        await crate.save(db=db)
    [doc] = await entries(db)
    assert (doc["actor"], doc["detail"], doc["ip"]) == ("manage.py", "manage.py something", None)


async def test_the_entry_names_the_objects_own_model_whatever_admin_writes_it(db):
    crate = Crate(name="from elsewhere")
    other_admin = types.SimpleNamespace(key="vault.box")
    async with audited(handler(db), "create", obj=crate, model_admin=other_admin):
        await crate.save()
    [doc] = await entries(db)
    assert doc["model_key"] == "testatomic.crate"
