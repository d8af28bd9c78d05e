"""``AuditFeed`` on the real in-memory store: the overlap window catches late commits,
each entry is delivered once, and only object writes become events."""
import datetime

from bson import ObjectId

from core.db import connect
from core.live.feed import AuditFeed

UTC = datetime.timezone.utc


def entry(action="create", at=None, model_key="notes.note", **extra):
    doc = {"_id": ObjectId(), "action": action, "model_key": model_key,
           "object_id": str(ObjectId()), "object_label": "x", "actor": "alice",
           "at": at or datetime.datetime.now(UTC), "changes": {}}
    doc.update(extra)
    return doc


async def test_late_entries_within_the_overlap_are_delivered_once():
    db = connect("memory:")
    log = db["audit_log"]
    delivered = []
    feed = AuditFeed(db, delivered.extend, lambda: True, overlap=3.0)
    old = entry(at=datetime.datetime.now(UTC) - datetime.timedelta(seconds=1))
    await log.insert_one(old)
    await feed.prime()                                  # what was there counts as seen
    assert await feed.poll() == []

    now = datetime.datetime.now(UTC)
    first = entry(at=now)
    await log.insert_one(first)
    assert [e.entry_id for e in await feed.poll()] == [first["_id"]]
    # another process commits an entry stamped *before* the newest one seen...
    late = entry(action="update", at=now - datetime.timedelta(seconds=2),
                 changes={"title": {"before": "a", "after": "b"}})
    # ...and one of its ObjectIds sorts before ours: neither _id nor at order can be trusted
    late["_id"] = ObjectId.from_datetime(now - datetime.timedelta(days=1))
    await log.insert_one(late)
    got = await feed.poll()
    assert [(e.kind, e.fields) for e in got] == [("updated", ["title"])]
    assert await feed.poll() == []                      # once only
    assert [e.entry_id for e in delivered] == [first["_id"], late["_id"]]

    # later than the overlap: documented as missed (keep clocks in sync)
    await log.insert_one(entry(at=now - datetime.timedelta(seconds=10)))
    assert await feed.poll() == []
    await db.close()


async def test_only_object_writes_become_events():
    db = connect("memory:")
    log = db["audit_log"]
    feed = AuditFeed(db, lambda events: None, lambda: True)
    await feed.prime()
    await log.insert_many([entry("login", model_key=None, object_id=None),
                           entry("permission_change", model_key="accounts.user"),
                           entry("bulk_action"), entry("delete")])
    kinds = [e.kind for e in await feed.poll()]
    assert kinds == ["updated", "deleted"]
    await db.close()
