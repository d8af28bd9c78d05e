"""An object's write and its audit entry, together: ``audited`` and ``repair_pending``.

    from core.audit import audited

    async with audited(handler, "update", obj=article, model_admin=admin) as entry:
        await admin.save_model(handler, article, form, True)
        entry.changes = diff(before, snapshot(article))

On normal exit the entry is recorded; if the block raises, nothing is recorded and
the exception propagates.

How it survives a crash (an outbox; the same on every backend)
--------------------------------------------------------------
1. Before the block, a *pending* entry goes to the ``audit_pending`` collection:
   the entry as it would be recorded, plus what the write will leave behind —
   ``create``: the object exists (its id is chosen here, before the insert);
   ``update`` (any action on a stored object): the object's ``version`` is at least
   one more than now; ``delete``: the object is gone. If that insert fails, the
   block does not run: no write without its entry.
2. The block writes.
3. The entry is inserted into ``audit_log`` under the pending entry's id, and the
   pending entry is removed. If the process dies between 2 and 3, or 3 fails,
   the pending entry stays behind.

``repair_pending(db)`` resolves what stays behind: for each pending entry it looks
at the object; if the write happened the entry is recorded (noting that it was
completed by the repair), otherwise it is dropped. It runs at start-up (with the
audit log's indexes, ``AuditEntry.ensure_indexes``), in ``manage.py repair_audit``,
and ``manage.py check`` says how many pending entries there are. Readers never see
pending entries: they live outside ``audit_log``, which stays append-only.

What it needs from the block: writes through ``Model.save`` (which raises the
version) and ``Model.delete``. A block that writes nothing and exits normally
still records its entry (as the old ``record_request`` after the write did).
"""
import asyncio
import contextlib
import datetime
import logging
import os
import sys

from bson import ObjectId

from core.models import UniqueError, get_database

from .api import build_entry, _request_ip
from .models import AuditEntry

__all__ = ["PENDING_COLLECTION", "AuditedWrite", "RepairReport", "audited", "count_pending",
           "repair_pending"]

log = logging.getLogger("core.audit")

#: where pending entries wait for their write (not an ``audit_log`` entry until committed)
PENDING_COLLECTION = "audit_pending"
#: the key of a pending document that says what the write will leave behind
OUTBOX_KEY = "outbox"
#: appended to the detail of an entry that ``repair_pending`` recorded
REPAIRED_NOTE = "recorded by the audit repair after an interrupted request"


class AuditedWrite:
    """The entry an ``audited`` block will record; the block may set ``changes``
    (and ``detail``) after its write. ``entry`` is the saved ``AuditEntry`` afterwards
    (``None`` if recording failed: the pending entry then waits for the repair)."""

    def __init__(self, action, obj, changes, detail):
        self.action = action
        self.obj = obj
        self.changes = changes
        self.detail = detail
        self.id = None               # the entry's id, chosen before the write
        self.entry = None


def expectation(action, obj):
    """``{"collection", "kind", "version"}``: what ``obj``'s stored document looks like
    once an ``action`` write on it happened."""
    collection = obj._meta.collection
    if action == "delete":
        return {"collection": collection, "kind": "delete", "version": None}
    if not obj._persisted:
        return {"collection": collection, "kind": "create", "version": 1}
    return {"collection": collection, "kind": "update", "version": (obj.version or 0) + 1}


def _pending_document(entry, expect):
    entry.clean()
    doc = entry.to_bson()
    doc["version"] = 1
    doc[OUTBOX_KEY] = dict(expect, pid=os.getpid())
    return doc


@contextlib.asynccontextmanager
async def audited(handler, action, *, obj, model_admin=None, changes=None, **extra):
    """Run the block's write(s) on ``obj`` and record one audit entry, both or neither.

    ``handler`` and ``model_admin`` as for ``record_request`` (``model_admin`` ``None``:
    ``handler.model_admin``; the entry's model key is the object's own, so a user saved
    from the roles' admin is recorded as ``accounts.user``); a command passes
    ``None`` for ``handler`` and gives ``actor`` (and ``db``) instead. ``extra`` goes to
    ``record`` (``detail``, ``bulk_action``, ``actor``, ``ip``, ``db``...). Yields an
    ``AuditedWrite`` whose ``changes`` the block may set after writing. If the block
    raises, no entry is recorded and the exception propagates. Raises ``ValueError``
    (before the block runs) for an action that is not a lower-case identifier.
    """
    admin = model_admin if model_admin is not None else getattr(handler, "model_admin", None)
    kw = dict(extra)
    if admin is not None and getattr(admin, "key", None) and getattr(obj, "_meta", None) is None:
        kw.setdefault("model_key", admin.key)   # a model object names its own model
    kw.setdefault("actor", getattr(handler, "current_user", None))
    kw.setdefault("ip", _request_ip(handler))
    db = get_database(kw.pop("db", None) or getattr(handler, "db", None))
    write = AuditedWrite(action, obj, changes, kw.pop("detail", None))
    assigned = obj.id is None
    if assigned:
        obj.id = ObjectId()          # known before the insert, so the repair can find it
    try:
        expect = expectation(action, obj)
        pending = build_entry(action=action, obj=obj, changes=changes, detail=write.detail,
                              **kw)
        pending.id = write.id = ObjectId()
        await db[PENDING_COLLECTION].insert_one(_pending_document(pending, expect))
    except BaseException:
        if assigned:
            obj.id = None
        raise
    try:
        yield write
    except (asyncio.CancelledError, GeneratorExit):
        # interrupted, not refused: the write may have gone through. The entry stays
        # pending; the repair decides by what the object shows.
        if isinstance(sys.exc_info()[1], asyncio.CancelledError):
            _resolve_later(db, write.id)
        raise
    except BaseException:
        if assigned and not obj._persisted:
            obj.id = None
        await _forget(db, write.id)
        raise
    write.entry = await _commit(db, write, kw)


async def _forget(db, entry_id):
    try:
        await db[PENDING_COLLECTION].delete_one({"_id": entry_id})
    except Exception:            # the repair drops it: the object shows no such write
        log.exception("could not remove pending audit entry %s", entry_id)


async def _commit(db, write, kw):
    """Record the entry of a finished write; on failure leave it pending for the repair."""
    try:
        entry = build_entry(action=write.action, obj=write.obj, changes=write.changes,
                            detail=write.detail, **kw)
        entry.id = write.id
        try:
            await entry.save(db=db)
        except UniqueError:      # the repair recorded it already (its id is taken)
            entry = await AuditEntry.get(write.id, db=db)
    except Exception:
        log.exception("could not record %s of %s in the audit log; it stays pending for "
                      "the repair", write.action, getattr(write.obj, "id", None))
        return None
    await _forget(db, write.id)
    return entry


#: how long after a cancelled block its pending entry is resolved (the write it started
#: may still be finishing on a database thread or server)
RESOLVE_DELAY = 5.0
_resolving = set()


def _resolve_later(db, entry_id):
    """Resolve one interrupted block's pending entry in a while (best effort: if the process
    ends first, the start-up repair does it)."""
    async def resolve():
        await asyncio.sleep(RESOLVE_DELAY)
        try:
            await repair_pending(db, ids=[entry_id])
        except Exception:
            log.exception("could not resolve pending audit entry %s", entry_id)

    try:
        task = asyncio.get_running_loop().create_task(resolve())
    except RuntimeError:
        return
    _resolving.add(task)
    task.add_done_callback(_resolving.discard)


# -- the repair ------------------------------------------------------------------------------
class RepairReport:
    """What ``repair_pending`` did: ``committed`` and ``dropped`` entry ids."""

    def __init__(self):
        self.committed = []
        self.dropped = []

    def __repr__(self):
        return f"<RepairReport committed={len(self.committed)} dropped={len(self.dropped)}>"

    def summary(self):
        return (f"{len(self.committed)} pending audit entr"
                f"{'y' if len(self.committed) == 1 else 'ies'} recorded (the write happened), "
                f"{len(self.dropped)} dropped (it did not)")


def _pending_filter(before, ids=None):
    flt = {} if before is None else {"at": {"$lt": before}}
    if ids is not None:
        flt["_id"] = {"$in": list(ids)}
    return flt


async def count_pending(db=None, *, before=None):
    """How many pending entries wait (created before ``before``, if given)."""
    db = get_database(db)
    return await db[PENDING_COLLECTION].count_documents(_pending_filter(before))


async def write_happened(db, doc):
    """Did the write a pending document describes happen? (See the module docstring.)"""
    expect = doc.get(OUTBOX_KEY) or {}
    object_id = doc.get("object_id")
    collection = expect.get("collection")
    if not isinstance(collection, str) or not object_id:
        return False
    oid = ObjectId(object_id) if ObjectId.is_valid(object_id) else object_id
    current = await db[collection].find_one({"_id": oid}, {"_id": 1, "version": 1})
    kind = expect.get("kind")
    if kind == "delete":
        return current is None
    if current is None:
        if kind != "create":
            return False
        # created, then deleted since: its id was new, so any later entry about it says so
        later = await AuditEntry.get_collection(db).find_one(
            {"model_key": doc.get("model_key"), "object_id": object_id,
             "_id": {"$ne": doc["_id"]}, "at": {"$gte": doc.get("at")}}, {"_id": 1})
        return later is not None
    version = current.get("version") or 0
    return version >= (expect.get("version") or 1)


async def repair_pending(db=None, *, before=None, ids=None):
    """Resolve pending entries (those created before ``before``, a UTC datetime; all when
    ``None``; only those of ``ids`` if given): record those whose write happened, drop
    the others. Returns a
    ``RepairReport``. Safe to run again and alongside writers, provided ``before`` is
    earlier than any request still in flight (start-up passes the time it started)."""
    db = get_database(db)
    report = RepairReport()
    outbox = db[PENDING_COLLECTION]
    log_collection = AuditEntry.get_collection(db)
    docs = await outbox.find(_pending_filter(before, ids), sort=[("at", 1), ("_id", 1)]) \
        .to_list(None)
    produced = set()      # (collection, object, version): one write makes each version
    for doc in docs:
        expect = doc.get(OUTBOX_KEY) or {}
        made = (expect.get("collection"), doc.get("object_id"), expect.get("version"))
        if expect.get("kind") == "update" and made in produced:
            # two requests raced on one version and both were interrupted: one wrote it
            report.dropped.append(doc["_id"])
        elif await write_happened(db, doc):
            if expect.get("kind") == "update":
                produced.add(made)
            entry = {key: value for key, value in doc.items() if key != OUTBOX_KEY}
            entry["version"] = 1
            entry["detail"] = "; ".join(part for part in (entry.get("detail"), REPAIRED_NOTE)
                                        if part)
            if not await log_collection.find_one({"_id": doc["_id"]}, {"_id": 1}):
                try:
                    await log_collection.insert_one(entry)
                except Exception:
                    if not await log_collection.find_one({"_id": doc["_id"]}, {"_id": 1}):
                        raise
            report.committed.append(doc["_id"])
        else:
            report.dropped.append(doc["_id"])
        await outbox.delete_one({"_id": doc["_id"]})
    if docs:
        log.warning("audit repair: %s", report.summary())
    return report


def started_at():
    """Now, in UTC: what start-up passes as ``before``."""
    return datetime.datetime.now(datetime.timezone.utc)
