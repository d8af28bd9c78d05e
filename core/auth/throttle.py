"""Login throttling, stored in the database so it holds across processes.

    throttle = LoginThrottle.from_settings(db, settings)
    verdict = await throttle.check(username, ip)
    if verdict.blocked:
        ...answer 429 with Retry-After: verdict.retry_after, and do NOT check the password
    ...check the password...
    await throttle.failed(username, ip)      # wrong password / unknown user
    await throttle.succeeded(username)       # right password: the username's count restarts

Concurrent guesses: the login handler checks again, and records a failure,
while it holds one of the process's few password-check slots
(``core.auth.handlers.password_slots``), so guesses queued behind a failing one
see its failure. At most ``slots - 1`` extra guesses per process can be in
flight when the limit is reached, while concurrent *right* passwords for one
account are never refused for being concurrent.

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
from dataclasses import dataclass

from .sessions import utcnow

__all__ = ["FAILURES_COLLECTION", "LoginThrottle", "Verdict"]

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
        docs = [{"scope": SCOPE_USER, "key": username_key(username),
                 "at": now, "expires_at": expires}]
        if ip is not None:
            docs.append({"scope": SCOPE_IP, "key": ip_key(ip), "at": now,
                         "expires_at": expires})
        return docs

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
