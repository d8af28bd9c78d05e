"""Server-side sessions in the database (collection ``sessions``).

    store = SessionStore(db, idle_seconds=7200, max_age_seconds=14 * 86400)
    raw_id, session = await store.create(user.id)    # raw_id goes into the signed cookie
    session = await store.load(raw_id)                # None: unknown, expired or ended
    raw_id, session = await store.rotate(session)     # new id, same user (password change)
    await store.delete(raw_id)                        # logout
    await store.delete_for_user(user.id, keep=session)   # end every other session

The id a browser holds is ``secrets.token_urlsafe(32)`` (256 random bits). The
database never sees it: a session document's ``_id`` is the SHA-256 of the id,
so a copy of the ``sessions`` collection does not let anyone log in.

A session document::

    {"_id": "<sha256 hex of the id>", "user_id": ObjectId(...),
     "created_at": datetime, "last_seen": datetime, "expires_at": datetime}

Two limits, both enforced here on every ``load`` (not left to the cleanup):

* idle — ``last_seen`` older than ``idle_seconds`` ends the session;
* absolute — ``created_at`` older than ``max_age_seconds`` ends it, however busy.

``expires_at`` is the earlier of the two deadlines; a TTL index on it
(``ensure_indexes``) lets the database delete dead sessions on its own.
``last_seen`` is written at most once per ``touch_seconds`` (60), not on every
request, so idle expiry is exact to within that minute.

Ending all of a user's sessions is ``delete_many({"user_id": id})`` on this
collection: ``manage.py changepassword`` and ``deactivate`` rely on it.

The collection also holds one document that is not a session, the *auth epoch*
(``{"_id": "~auth-epoch", "epoch": n}``): ``invalidate_auth_cache(db)`` adds one to
it whenever what some user may do changes (a user or role saved or deleted), and
``load_with_epoch`` reads it in the same query as the session. A process that
caches users and permissions (``core.auth.cache``) trusts its cache only while
the epoch it read is the one it cached under, so a change made by any process
counts on the next request everywhere.

``load_with_epoch`` keeps, per session, the document and epoch it read with the
database's change marker (``Database.change_marker()``, taken before the read) and
reuses them while the marker is unchanged: nothing at all has been written since,
by any process, so a read would find the same. Any write (a logout, a touch, an
unrelated save) moves it and the next request reads again; a backend with no marker
(MongoDB, ``:memory:``) reads every time. Expiry and the touch are still judged on
every request, from the kept times. ``AUTH_CACHE_SECONDS = 0`` keeps nothing.
"""
import datetime
import hashlib
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field

__all__ = ["AUTH_EPOCH_KEY", "SESSIONS_COLLECTION", "Session", "SessionStore",
           "end_user_sessions", "hash_session_id", "invalidate_auth_cache", "new_session_id",
           "utcnow"]

SESSIONS_COLLECTION = "sessions"
#: the ``_id`` of the auth epoch document (a session's ``_id`` is 64 hex digits)
AUTH_EPOCH_KEY = "~auth-epoch"
USER_FIELD = "user_id"
TOUCH_SECONDS = 60
ID_BYTES = 32           # secrets.token_urlsafe(32): 256 bits, 43 characters
MAX_ID_LENGTH = 128     # a cookie value longer than this is not one of ours
KEPT_SESSIONS = 10_000  # sessions whose last read ``load_with_epoch`` keeps


def utcnow():
    """Now, timezone-aware UTC, at the millisecond precision the stores keep."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _aware(value):
    """A stored datetime as aware UTC (a store without tz_aware returns naive UTC)."""
    if isinstance(value, datetime.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=datetime.timezone.utc)
    return value


def new_session_id():
    """A fresh random session id (what the cookie holds)."""
    return secrets.token_urlsafe(ID_BYTES)


def hash_session_id(raw_id):
    """The document key for ``raw_id``: its SHA-256, hex."""
    return hashlib.sha256(raw_id.encode("utf-8")).hexdigest()


@dataclass
class Session:
    """One loaded session. ``key`` is the stored hash, never the id itself."""

    key: str
    user_id: object
    created_at: datetime.datetime
    last_seen: datetime.datetime
    expires_at: datetime.datetime
    data: dict = field(default_factory=dict)

    @classmethod
    def from_document(cls, doc):
        return cls(key=doc["_id"], user_id=doc.get(USER_FIELD),
                   created_at=_aware(doc.get("created_at")),
                   last_seen=_aware(doc.get("last_seen")),
                   expires_at=_aware(doc.get("expires_at")),
                   data=dict(doc.get("data") or {}))


async def end_user_sessions(collection, user_id, keep=None):
    """Delete every session of ``user_id`` in ``collection`` (the sessions collection,
    ``db[SESSIONS_COLLECTION]``) except ``keep`` (a ``Session``); returns how many."""
    flt = {USER_FIELD: user_id}
    if keep is not None:
        flt["_id"] = {"$ne": keep.key}
    result = await collection.delete_many(flt)
    return result.deleted_count


async def invalidate_auth_cache(db):
    """Count one more change to users or permissions (the auth epoch): every process's
    cached users and permissions are stale from the next request on."""
    await db[SESSIONS_COLLECTION].update_one({"_id": AUTH_EPOCH_KEY}, {"$inc": {"epoch": 1}},
                                             upsert=True)


class SessionStore:
    """The ``sessions`` collection of ``db``, with the expiry rules.

    ``idle_seconds``     a session unused this long is over
    ``max_age_seconds``  a session this old is over, used or not
    ``touch_seconds``    write ``last_seen`` at most this often
    ``kept_size``        ``load_with_epoch`` keeps what it read for this many sessions
                         (0: keeps nothing, reads every time)
    """

    def __init__(self, db, idle_seconds, max_age_seconds, touch_seconds=TOUCH_SECONDS,
                 collection=SESSIONS_COLLECTION, kept_size=KEPT_SESSIONS):
        if idle_seconds <= 0 or max_age_seconds <= 0:
            raise ValueError("session lifetimes must be positive")
        self.db = db
        self.collection = db[collection]
        self.idle = datetime.timedelta(seconds=idle_seconds)
        self.max_age = datetime.timedelta(seconds=max_age_seconds)
        self.touch = datetime.timedelta(seconds=touch_seconds)
        self.kept_size = kept_size
        #: ``{session key: (change marker, session document or None, epoch)}``, least
        #: recently used first
        self._kept = OrderedDict()

    @classmethod
    def from_settings(cls, db, settings):
        """The store ``settings`` ask for; ``AUTH_CACHE_SECONDS = 0`` (no auth caching)
        keeps no session read either."""
        keeps = float(settings.get("AUTH_CACHE_SECONDS", 5)) > 0
        return cls(db, int(settings.get("SESSION_IDLE_SECONDS", 2 * 3600)),
                   int(settings.get("SESSION_MAX_AGE_SECONDS", 14 * 86400)),
                   kept_size=KEPT_SESSIONS if keeps else 0)

    async def ensure_indexes(self):
        """The TTL index on ``expires_at`` and the ``user_id`` index; returns their names."""
        return [
            await self.collection.create_index("expires_at", expireAfterSeconds=0,
                                               name="expires_at_ttl"),
            await self.collection.create_index(USER_FIELD, name="user_id"),
        ]

    def _deadline(self, created_at, last_seen):
        return min(last_seen + self.idle, created_at + self.max_age)

    def is_expired(self, session, now=None):
        """Past the idle or the absolute limit (judged from the stored times)."""
        now = now or utcnow()
        if not isinstance(session.created_at, datetime.datetime) or \
                not isinstance(session.last_seen, datetime.datetime):
            return True
        return now >= self._deadline(session.created_at, session.last_seen)

    def new_document(self, user_id, data=None, now=None):
        """A new session for ``user_id``, not stored yet: ``(raw_id, document)`` (``create``
        stores it; logging in stores it with its other writes, ``Database.write_each``)."""
        now = now or utcnow()
        raw_id = new_session_id()
        return raw_id, {"_id": hash_session_id(raw_id), USER_FIELD: user_id, "created_at": now,
                        "last_seen": now, "expires_at": self._deadline(now, now),
                        "data": data or {}}

    async def create(self, user_id, data=None, now=None):
        """Store a new session for ``user_id``; returns ``(raw_id, Session)``."""
        raw_id, doc = self.new_document(user_id, data, now)
        await self.collection.insert_one(doc)
        return raw_id, Session.from_document(doc)

    async def load(self, raw_id, now=None):
        """The live session for the cookie's ``raw_id``, else ``None``.

        An expired session is deleted on sight. A session last seen more than
        ``touch_seconds`` ago gets ``last_seen`` (and ``expires_at``) moved to now.
        """
        if not isinstance(raw_id, str) or not raw_id or len(raw_id) > MAX_ID_LENGTH:
            return None
        doc = await self.collection.find_one({"_id": hash_session_id(raw_id)})
        return await self._live(doc, now)

    async def load_with_epoch(self, raw_id, now=None):
        """``(session or None, auth epoch)`` in one query (none while nothing was written
        since the last one for this session, see the module docstring): ``load`` and the
        epoch that tells whether a cached user and permissions are still good (0: never
        changed)."""
        if not isinstance(raw_id, str) or not raw_id or len(raw_id) > MAX_ID_LENGTH:
            return None, None
        key = hash_session_id(raw_id)
        doc, epoch = await self._read_with_epoch(key)
        return await self._live(doc, now), epoch

    async def _read_with_epoch(self, key):
        """``(session document or None, epoch)`` of session ``key``: what was read for it
        before while the database's change marker has not moved since (nothing written
        anywhere, so both are what a read would find), else read now and kept."""
        marker = self.db.change_marker() if self.kept_size else None
        if marker is not None:
            kept = self._kept.get(key)
            if kept is not None and kept[0] == marker:
                self._kept.move_to_end(key)
                return kept[1], kept[2]
        docs = await self.collection.find({"_id": {"$in": [key, AUTH_EPOCH_KEY]}}).to_list(2)
        found = {doc["_id"]: doc for doc in docs}
        doc, epoch = found.get(key), (found.get(AUTH_EPOCH_KEY) or {}).get("epoch", 0)
        if marker is not None:
            self._kept[key] = (marker, doc, epoch)
            self._kept.move_to_end(key)
            while len(self._kept) > self.kept_size:
                self._kept.popitem(last=False)
        return doc, epoch

    async def _live(self, doc, now=None):
        """The session of ``doc`` if it is still live (expired: deleted; touched when due)."""
        if doc is None:
            return None
        key = doc["_id"]
        session = Session.from_document(doc)
        now = now or utcnow()
        if self.is_expired(session, now):
            self._kept.pop(key, None)
            await self.collection.delete_one({"_id": key})
            return None
        if now - session.last_seen >= self.touch:
            expires_at = self._deadline(session.created_at, now)
            await self.collection.update_one(
                {"_id": key}, {"$set": {"last_seen": now, "expires_at": expires_at}})
            session.last_seen, session.expires_at = now, expires_at
        return session

    async def delete(self, raw_id):
        """End the session whose id is ``raw_id``; True if there was one."""
        if not isinstance(raw_id, str) or not raw_id or len(raw_id) > MAX_ID_LENGTH:
            return False
        return await self._delete_key(hash_session_id(raw_id))

    async def delete_session(self, session):
        return await self._delete_key(session.key)

    async def _delete_key(self, key):
        self._kept.pop(key, None)       # the delete moves the change marker too
        result = await self.collection.delete_one({"_id": key})
        return bool(result.deleted_count)

    async def delete_for_user(self, user_id, keep=None):
        """End every session of ``user_id`` except ``keep`` (a ``Session``); returns how many."""
        return await end_user_sessions(self.collection, user_id, keep)

    async def rotate(self, session, now=None):
        """Replace ``session`` by a new one (new id) for the same user: ``(raw_id, Session)``.

        The new session starts its lifetimes afresh: rotation follows a
        re-authentication (a password change asks for the current password).
        """
        created = await self.create(session.user_id, session.data, now=now)
        await self.delete_session(session)
        return created
