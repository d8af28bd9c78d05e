"""Login throttling, stored in the database so it holds across processes.

    throttle = LoginThrottle.from_settings(db, settings)
    attempt = await throttle.begin(username, ip)
    if attempt.verdict.blocked:
        ...answer 429 with Retry-After: attempt.verdict.retry_after; do NOT check the password
    ...check the password...
    await attempt.succeeded()      # right password: the username's count restarts
    # a wrong password needs nothing more: begin() already counted the attempt

``begin`` records the attempt as a failure *before* the password is checked and
then counts the records up to its own, so concurrent guesses cannot all slip in
while the first ones are still in bcrypt: of 12 at once, 5 go on; a success
takes its own record back. (``check``, ``failed``
and ``succeeded`` are the same steps one at a time.)

Each failed login is one document of the ``login_failures`` collection, once for
its username and once for its client address::

    {"scope": "user", "key": "<sha256 of the lower-cased username>", "at": datetime,
     "expires_at": datetime}
    {"scope": "ip", "key": "203.0.113.9", "at": ..., "expires_at": ...}

A login is refused when the username has ``user_limit`` (5) failures, or the
address ``ip_limit`` (20), within the last ``window_seconds`` (15 minutes): a
sliding window counted with ``count_documents``. ``Retry-After`` is the time
until enough of those failures leave the window. A refused attempt is not
recorded (the lock does not extend itself), and a success clears the
username's failures but not the address's, so one good account cannot be used
to reset an address that is guessing at others. Usernames are stored hashed: a
typo'd password in the username box does not end up in the database in clear.
A TTL index on ``expires_at`` deletes old failures.
"""
import datetime
import hashlib
import math
from dataclasses import dataclass, field

from bson import ObjectId

from .sessions import utcnow

__all__ = ["Attempt", "FAILURES_COLLECTION", "LoginThrottle", "Verdict"]

FAILURES_COLLECTION = "login_failures"
SCOPE_USER = "user"
SCOPE_IP = "ip"
MAX_KEY_LENGTH = 200


@dataclass
class Verdict:
    """The answer of ``LoginThrottle.check``."""

    blocked: bool
    retry_after: int = 0      # whole seconds, >= 1 when blocked
    scope: str = None         # "user" or "ip": which limit was hit

    @property
    def message(self):
        minutes = max(1, math.ceil(self.retry_after / 60))
        return (f"Too many failed login attempts. Try again in {minutes} "
                f"minute{'s' if minutes != 1 else ''}.")


def username_key(username):
    text = (username or "").strip().lower()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ip_key(ip):
    return (ip or "unknown")[:MAX_KEY_LENGTH]


class LoginThrottle:
    """Failure counters per username and per client address, in ``db``."""

    def __init__(self, db, user_limit=5, ip_limit=20, window_seconds=15 * 60,
                 collection=FAILURES_COLLECTION):
        if user_limit < 1 or ip_limit < 1 or window_seconds <= 0:
            raise ValueError("throttle limits and window must be positive")
        self.db = db
        self.collection = db[collection]
        self.user_limit = int(user_limit)
        self.ip_limit = int(ip_limit)
        self.window = datetime.timedelta(seconds=window_seconds)

    @classmethod
    def from_settings(cls, db, settings):
        return cls(db, user_limit=int(settings.get("LOGIN_THROTTLE_USER_LIMIT", 5)),
                   ip_limit=int(settings.get("LOGIN_THROTTLE_IP_LIMIT", 20)),
                   window_seconds=int(settings.get("LOGIN_THROTTLE_WINDOW_SECONDS", 900)))

    async def ensure_indexes(self):
        """The TTL index on ``expires_at`` and the look-up index; returns their names."""
        return [
            await self.collection.create_index("expires_at", expireAfterSeconds=0,
                                               name="expires_at_ttl"),
            await self.collection.create_index([("scope", 1), ("key", 1), ("at", 1)],
                                               name="scope_key_at"),
        ]

    async def _retry_after(self, scope, key, limit, now):
        """Seconds until ``scope/key`` is under ``limit`` again, or 0 if it is now."""
        since = now - self.window
        flt = {"scope": scope, "key": key, "at": {"$gt": since}}
        count = await self.collection.count_documents(flt)
        if count < limit:
            return 0
        # the failure whose leaving the window brings the count to limit - 1
        docs = await self.collection.find(flt, {"at": 1, "_id": 0}, sort=[("at", 1)],
                                          limit=count - limit + 1).to_list(None)
        oldest = docs[-1]["at"] if docs else now
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=datetime.timezone.utc)
        return max(1, math.ceil((oldest + self.window - now).total_seconds()))

    def _failure_docs(self, username, ip, now):
        expires = now + self.window
        docs = [{"_id": ObjectId(), "scope": SCOPE_USER, "key": username_key(username),
                 "at": now, "expires_at": expires}]
        if ip is not None:
            docs.append({"_id": ObjectId(), "scope": SCOPE_IP, "key": ip_key(ip), "at": now,
                         "expires_at": expires})
        return docs

    async def _count(self, scope, key, now, up_to=None):
        flt = {"scope": scope, "key": key, "at": {"$gt": now - self.window}}
        if up_to is not None:       # attempts recorded before this one (ObjectIds ascend)
            flt["_id"] = {"$lte": up_to}
        return await self.collection.count_documents(flt)

    async def begin(self, username, ip, now=None):
        """Count this attempt as a failure now, and say whether it may go on.

        Returns an ``Attempt``: when ``attempt.verdict.blocked`` the record is
        already taken back (a refused attempt does not extend the lock).
        """
        now = now or utcnow()
        docs = self._failure_docs(username, ip, now)
        await self.collection.insert_many(docs)
        attempt = Attempt(self, username, docs, Verdict(False))
        scope = None
        user_doc, ip_doc = docs[0], docs[-1] if ip is not None else None
        if await self._count(SCOPE_USER, user_doc["key"], now,
                             user_doc["_id"]) > self.user_limit:
            scope = SCOPE_USER
        elif ip_doc is not None and await self._count(SCOPE_IP, ip_doc["key"], now,
                                                      ip_doc["_id"]) > self.ip_limit:
            scope = SCOPE_IP
        if scope is not None:
            await attempt.withdraw()
            verdict = await self.check(username, ip, now)
            attempt.verdict = verdict if verdict.blocked else Verdict(True, 1, scope)
        return attempt

    async def check(self, username, ip, now=None):
        """May this username try to log in from this address now?"""
        now = now or utcnow()
        wait = await self._retry_after(SCOPE_USER, username_key(username), self.user_limit, now)
        if wait:
            return Verdict(True, wait, SCOPE_USER)
        wait = await self._retry_after(SCOPE_IP, ip_key(ip), self.ip_limit, now)
        if wait:
            return Verdict(True, wait, SCOPE_IP)
        return Verdict(False)

    async def failed(self, username, ip, now=None):
        """Record one failed attempt against the username and the address."""
        await self.collection.insert_many(self._failure_docs(username, ip, now or utcnow()))

    async def succeeded(self, username):
        """A right password: forget the username's failures (the address's stay)."""
        await self.collection.delete_many({"scope": SCOPE_USER,
                                           "key": username_key(username)})


@dataclass
class Attempt:
    """One login attempt under way (``LoginThrottle.begin``); counted as a failure."""

    throttle: LoginThrottle
    username: str
    docs: list = field(repr=False)
    verdict: Verdict

    async def withdraw(self):
        """Take this attempt's records back."""
        await self.throttle.collection.delete_many(
            {"_id": {"$in": [doc["_id"] for doc in self.docs]}})

    async def succeeded(self):
        """The password was right: drop this attempt and the username's failures."""
        await self.withdraw()
        await self.throttle.succeeded(self.username)
