"""The event feed: one task per process tails the audit log and fans events out.

Every create, update and delete made through the admin or the API is appended
to the ``audit_log`` collection (``core.audit``), whichever process made it. So
the log is the one event source every backend and every process shares: each
process runs one ``AuditFeed`` that polls it and hands new entries to the live
sockets connected to *that* process. No socket ever queries the log itself.

How the tail works (``poll``):

* ``{"at": {"$gte": last_at - overlap}}``, sorted by ``at`` (then ``_id``), ids
  and times only. ``at`` is set when an entry is built, so an entry may become
  visible a little after a later one (two processes, a slow commit): the overlap
  (``LIVE_FEED_OVERLAP_SECONDS``, 3 s) reads the recent past again, and the ids
  already seen within it are skipped. ``_id`` alone cannot be the position:
  ObjectIds from different processes are not globally ordered.
* the new ids' full entries are read with one ``$in`` query, in ``at`` order,
  and turned into ``LiveEvent``s.
* every ``LIVE_FEED_INTERVAL`` seconds (0.1) while at least one socket is
  connected, and at once when this process stores an event's entry (``wake``,
  called by the hub through ``core.audit.models.RECORDED_LISTENERS``); while no
  socket is connected, the feed does not query at all. When the first
  socket arrives the feed *primes*: the entries already in the window are marked
  seen, so a new socket is not sent the recent past.

The feed uses only the store subset (``find`` with a range, sort, projection
and ``$in``), so it works on MongoDB, FerretDB and the embedded store alike.
Change streams would lower the latency on a replica set but are outside that
subset and unsupported by FerretDB v1 and the embedded store; see docs/live.md.
"""
import asyncio
import datetime
import logging
import time

from core.audit.models import AuditEntry, changed_paths
from core.models.base import parse_id

log = logging.getLogger("bastion.live")
#: one DEBUG line per event and process (``LiveHub.fan_out``): how long reading, checking
#: and writing took; the clocks it needs are read only while it is enabled for DEBUG
timing_log = logging.getLogger("bastion.live.timing")

#: read from its owner, the audit entry model
AUDIT_COLLECTION = AuditEntry._meta.collection
#: audit actions that are live events, and what the client is told
EVENT_KINDS = {"create": "created", "update": "updated", "bulk_action": "updated",
               "delete": "deleted"}


def _aware(value):
    if isinstance(value, datetime.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=datetime.timezone.utc)
    return value


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


class LiveEvent:
    """One audit entry that is a create/update/delete of a model object.

    ``kind`` is ``created``, ``updated`` or ``deleted``. ``load_object(model)``
    reads the object once for every socket that needs it (object rules),
    ``shared(owner, compute)`` answers once per user (see ``LiveHandler.may_see``),
    and ``seen_at`` / ``seen_wall`` are when this process noticed the entry (monotonic
    and wall clocks), read only while ``timing_log`` is enabled for DEBUG (else ``None``).
    """

    __slots__ = ("entry_id", "kind", "action", "model_key", "object_id", "label", "actor",
                 "actor_id", "at", "fields", "seen_at", "seen_wall", "_object", "_shared")

    def __init__(self, entry):
        self.entry_id = entry.get("_id")
        self.action = entry.get("action")
        self.kind = EVENT_KINDS[self.action]
        self.model_key = entry.get("model_key")
        self.object_id = str(entry.get("object_id") or "")
        self.label = entry.get("object_label") or ""
        self.actor = entry.get("actor") or ""
        self.actor_id = entry.get("actor_id")
        self.at = _aware(entry.get("at"))
        self.fields = changed_paths(entry.get("changes"))
        if timing_log.isEnabledFor(logging.DEBUG):
            self.seen_at, self.seen_wall = time.monotonic(), _now()
        else:
            self.seen_at = self.seen_wall = None
        self._object = None
        self._shared = {}

    @classmethod
    def from_entry(cls, entry):
        """A ``LiveEvent`` for an audit entry, or ``None`` if the entry is not one."""
        if entry.get("action") not in EVENT_KINDS or not entry.get("model_key") \
                or not entry.get("object_id"):
            return None
        return cls(entry)

    def load_object(self, model, db):
        """The object as it is now (a future shared by every caller), ``None`` if gone."""
        if self._object is None:
            self._object = asyncio.ensure_future(self._load(model, db))
        return self._object

    def shared(self, owner, compute):
        """``compute()``'s answer for ``owner`` (a future), computed once per owner and
        event: the sockets of one user and session share one permission check (and one
        encoded message) per event, however many of them are open."""
        found = self._shared.get(id(owner))
        if found is None or found[0] is not owner:      # the owner held: its id stays its own
            found = self._shared[id(owner)] = (owner, asyncio.ensure_future(compute()))
        return found[1]

    async def _load(self, model, db):
        oid = parse_id(self.object_id)
        if oid is None:
            return None
        found = await model.find({"_id": oid}, limit=1, db=db).to_list(1)
        return found[0] if found else None

    def read_delay_ms(self):
        """Milliseconds from the entry's ``at`` (stamped just before its commit, maybe by
        another process) to this process reading it; ``nan`` without an ``at`` (or when
        the time it was read was not taken: ``timing_log`` was off)."""
        if not isinstance(self.at, datetime.datetime) or self.seen_wall is None:
            return float("nan")
        return (self.seen_wall - self.at).total_seconds() * 1000

    def message(self, mine=False):
        """The JSON message for a client (see docs/live.md)."""
        return {"type": "event", "event": self.kind, "model": self.model_key,
                "id": self.object_id, "label": self.label, "actor": self.actor,
                "mine": bool(mine), "fields": self.fields,
                "at": self.at.isoformat() if isinstance(self.at, datetime.datetime) else None}

    def __repr__(self):
        return f"<LiveEvent {self.kind} {self.model_key} {self.object_id}>"


class AuditFeed:
    """Polls the audit log of ``db`` and calls ``deliver(events)`` with what is new.

    ``start()`` / ``stop()`` run the one task; ``wanted()`` says whether anyone
    listens (no queries otherwise); ``wake()`` is called when that changes.
    """

    def __init__(self, db, deliver, wanted, *, interval=0.1, overlap=3.0,
                 collection=AUDIT_COLLECTION):
        self.db = db
        self.collection = db[collection]
        self.deliver = deliver
        self.wanted = wanted
        self.interval = float(interval)
        self.overlap = datetime.timedelta(seconds=float(overlap))
        self.last_at = None
        self.seen = {}              # entry _id -> at, within the overlap window
        self.primed = False
        self.polls = 0
        self._task = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._prime_lock = asyncio.Lock()

    # -- lifecycle --------------------------------------------------------------------------
    def start(self):
        if self._task is None:
            self._stopping = False
            self._task = asyncio.ensure_future(self._run())
        return self._task

    async def stop(self):
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass

    @property
    def running(self):
        return self._task is not None and not self._task.done()

    def wake(self):
        self._wake.set()

    # -- the loop ---------------------------------------------------------------------------
    async def _run(self):
        failures = 0
        while not self._stopping:
            if not self.wanted():
                self.primed = False
                self._wake.clear()
                await self._wake.wait()
                continue
            # cleared before the read: a wake-up during it (a write of this process)
            # is another read at once, never lost
            self._wake.clear()
            try:
                await self.prime()
                await self.poll()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                log.exception("live feed: reading the audit log failed (%d in a row)", failures)
            if failures:                  # backing off: wake-ups do not cut it short
                await asyncio.sleep(min(5.0, self.interval * 2 ** failures))
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval)
            except asyncio.TimeoutError:
                pass

    async def prime(self):
        """Start from now: what is already in the window counts as seen (once per wake-up)."""
        if self.primed:
            return
        async with self._prime_lock:
            if self.primed:
                return
            self.last_at = _now()
            self.seen = {}
            for doc in await self._window():
                self._remember(doc)
            self.primed = True

    async def _window(self):
        low = self.last_at - self.overlap
        return await self.collection.find(
            {"at": {"$gte": low}}, {"_id": 1, "at": 1},
            sort=[("at", 1), ("_id", 1)]).to_list(None)

    def _remember(self, doc):
        at = _aware(doc.get("at"))
        if isinstance(at, datetime.datetime):
            self.seen[doc["_id"]] = at
            if at > self.last_at:
                self.last_at = at

    async def poll(self):
        """One read of the log; returns the ``LiveEvent``s delivered."""
        self.polls += 1
        window = await self._window()
        new_ids = [doc["_id"] for doc in window if doc["_id"] not in self.seen]
        events = []
        if new_ids:
            entries = await self.collection.find(
                {"_id": {"$in": new_ids}}, sort=[("at", 1), ("_id", 1)]).to_list(None)
            for entry in entries:
                event = LiveEvent.from_entry(entry)
                if event is not None:
                    events.append(event)
        for doc in window:
            self._remember(doc)
        horizon = self.last_at - self.overlap - datetime.timedelta(seconds=1)
        if len(self.seen) > 64:
            self.seen = {key: at for key, at in self.seen.items() if at >= horizon}
        if events:
            self.deliver(events)
        return events
