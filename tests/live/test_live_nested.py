"""A change to a nested part (``lines.1.quantity``) reaches live clients by its path."""
from bson import ObjectId

from core.audit import record
from core.db import connect
from core.live.feed import AuditFeed
from core.models import bind, unbind


async def test_nested_changes_are_named_by_their_paths_in_live_events():
    db = connect("memory:")
    bind(db)
    try:
        feed = AuditFeed(db, lambda events: None, lambda: True)
        await feed.prime()
        await record(action="update", actor="alice", model_key="shop.order",
                     object_id=str(ObjectId()), object_label="Order",
                     changes={"lines.1.quantity": {"before": 2, "after": 3},
                              "address.city": {"before": "Lyon", "after": "Paris"}},
                     db=db)
        events = await feed.poll()
        assert [event.fields for event in events] == [["address.city", "lines.1.quantity"]]
        assert events[0].message()["fields"] == ["address.city", "lines.1.quantity"]
    finally:
        unbind()
        await db.close()
