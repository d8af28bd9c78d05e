"""Login throttling, stored in the database so it holds across processes.

    throttle = LoginThrottle.from_settings(db, settings)
    verdict = await throttle.check(username, ip)
    if verdict.blocked:
        ...answer 429 with Retry-After: verdict.retry_after, and do NOT check the password
    ...check the password...
    await throttle.failed(username, ip)        # wrong password / unknown user
    await throttle.succeeded(username, ip, verdict)   # right password: the pair restarts

What is counted, within the last ``window_seconds`` (15 minutes):

``pair``  failures for one username from one client address. After
          ``pair_limit`` (5) of them that username is locked *for that address
          only*: an attacker elsewhere cannot lock the real user out.
``ip``    failures from one client address, any username. After ``ip_limit``
          (20) the address is locked (password spraying). IPv6 addresses count
          per /64 network: one host usually holds the whole /64.
``user``  failures for one username from every address. It locks nobody by
          itself; once it reaches ``attack_limit`` (50) the username is under a
          distributed attack and every address that has failed for it gets one
          try instead of ``pair_limit``. An address that has not failed for it
          (the real user at home) still logs in.

Backoff: a scope with ``n >= limit`` failures is locked until its latest
failure + ``base_delay * 2 ** (n - limit)`` seconds (60 s, 2, 4, 8 min...), at
most ``window_seconds``. A refused attempt is not recorded, so a lock never
extends itself; each failure after a lock ends doubles the next one. Failures
leave the window after ``window_seconds`` (a TTL index deletes them), which
undoes the backoff. A right password clears its pair's failures only: the
address's and the username's stay, so one good account cannot reset an
address that is guessing at others.

Usernames are keyed by ``core.auth.identity.identity_key`` ("Alice", "ALICE"
and a Cyrillic "Аlice" share counters) and stored hashed: a password typed
into the username box does not end up in the database in clear. Each failure
is three documents of ``login_failures``::

    {"scope": "pair", "key": "<sha256 of username key + address>", "at": datetime,
     "expires_at": datetime}
    {"scope": "ip", "key": "203.0.113.9", ...}
    {"scope": "user", "key": "<sha256 of the username key>", ...}

The client address is the one the handler sees (``request.remote_ip``: the
proxy's ``X-Real-Ip`` / ``X-Forwarded-For`` with ``XHEADERS = True``; without it,
behind a proxy, every client has the proxy's address and shares its ``ip``
lock).

Concurrent guesses: the login handler checks again, and records a failure,
while it holds one of the process's few password-check slots
(``core.auth.handlers.password_slots``), so guesses queued behind a failing one
see its failure. At most ``slots - 1`` extra guesses per process can be in
flight when a limit is reached, while concurrent *right* passwords for one
account are never refused for being concurrent.
"""
import datetime
import hashlib
import ipaddress
import math
import socket
from dataclasses import dataclass

from core.i18n import ngettext

from .identity import identity_key
from .sessions import utcnow

__all__ = ["FAILURES_COLLECTION", "LoginThrottle", "Verdict"]

FAILURES_COLLECTION = "login_failures"
SCOPE_PAIR = "pair"
SCOPE_IP = "ip"
SCOPE_USER = "user"
MAX_KEY_LENGTH = 200
MAX_DOUBLINGS = 30
#: the failures a check reads in one go (see ``LoginThrottle._failure_times``): with the
#: one more that says there are more, within the embedded store's reads of at most 51
#: documents, which it answers on the event loop's thread
FAILURES_READ_AT_ONCE = 50


@dataclass
class Verdict:
    """The answer of ``LoginThrottle.check``."""

    blocked: bool
    retry_after: int = 0      # whole seconds, >= 1 when blocked
    scope: str = None         # "pair" or "ip": which limit was hit
    pair_failures: int = None  # the pair's failures in the window when checked (None: unknown)

    @property
    def message(self):
        minutes = max(1, math.ceil(self.retry_after / 60))
        return ngettext("Too many failed login attempts. Try again in %(count)d minute.",
                        "Too many failed login attempts. Try again in %(count)d minutes.",
                        minutes) % {"count": minutes}


def username_key(username):
    """The stored key of a username: the SHA-256 of its identity key."""
    text = identity_key(username or "") or ""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ip_key(ip):
    """The counted address: IPv4 as is, IPv6 as its /64 network, else the text (cut)."""
    if isinstance(ip, str) and ip.count(".") == 3:
        # an IPv4 address in its usual form is its own key: the C parser says so in a
        # fraction of ``ipaddress``'s time (a login asks twice per check)
        try:
            if socket.inet_ntoa(socket.inet_aton(ip)) == ip:
                return ip
        except (OSError, ValueError):
            pass
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return (ip or "unknown")[:MAX_KEY_LENGTH]
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def pair_key(username, ip):
    text = f"{identity_key(username or '') or ''}\n{ip_key(ip)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class LoginThrottle:
    """Failure counters per (username, address), per address and per username, in ``db``."""

    def __init__(self, db, pair_limit=5, ip_limit=20, window_seconds=15 * 60,
                 base_delay=60, attack_limit=50, collection=FAILURES_COLLECTION):
        if pair_limit < 1 or ip_limit < 1 or window_seconds <= 0 or base_delay <= 0 \
                or attack_limit < 0:
            raise ValueError("throttle limits, delay and window must be positive")
        self.db = db
        self.collection = db[collection]
        self.pair_limit = int(pair_limit)
        self.ip_limit = int(ip_limit)
        self.attack_limit = int(attack_limit)
        self.window = datetime.timedelta(seconds=window_seconds)
        self.base_delay = float(base_delay)

    @classmethod
    def from_settings(cls, db, settings):
        return cls(db, pair_limit=int(settings.get("LOGIN_THROTTLE_USER_LIMIT", 5)),
                   ip_limit=int(settings.get("LOGIN_THROTTLE_IP_LIMIT", 20)),
                   window_seconds=int(settings.get("LOGIN_THROTTLE_WINDOW_SECONDS", 900)),
                   base_delay=float(settings.get("LOGIN_THROTTLE_BASE_DELAY_SECONDS", 60)),
                   attack_limit=int(settings.get("LOGIN_THROTTLE_ATTACK_LIMIT", 50)))

    async def ensure_indexes(self):
        """The TTL index on ``expires_at`` and the look-up index; returns their names."""
        return [
            await self.collection.create_index("expires_at", expireAfterSeconds=0,
                                               name="expires_at_ttl"),
            await self.collection.create_index([("scope", 1), ("key", 1), ("at", 1)],
                                               name="scope_key_at"),
        ]

    def lock_seconds(self, failures, limit):
        """How long ``failures`` (>= ``limit``) lock a scope after the latest one."""
        doublings = min(failures - limit, MAX_DOUBLINGS)
        return min(self.base_delay * 2 ** doublings, self.window.total_seconds())

    async def _count(self, scope, key, now):
        return await self.collection.count_documents(
            {"scope": scope, "key": key, "at": {"$gt": now - self.window}})

    async def _failure_times(self, scopes, now):
        """``{scope: [time of each failure in the window]}`` for ``scopes`` (``{scope:
        key}``), in one query. Few by design: a scope that reaches its limit is locked, and
        a refused attempt is not recorded; so the query asks for at most
        ``FAILURES_READ_AT_ONCE`` + 1 (the embedded store answers a read that small on the
        event loop's thread, without a hand-off), and reads them all only when more came."""
        query = ({"$or": [{"scope": scope, "key": key} for scope, key in scopes.items()],
                  "at": {"$gt": now - self.window}}, {"scope": 1, "at": 1, "_id": 0})
        found = await self.collection.find(*query, limit=FAILURES_READ_AT_ONCE + 1).to_list(
            None)
        if len(found) > FAILURES_READ_AT_ONCE:
            found = await self.collection.find(*query).to_list(None)
        times = {scope: [] for scope in scopes}
        for doc in found:
            if doc.get("scope") in times:
                times[doc["scope"]].append(doc.get("at"))
        return times

    def _wait(self, times, limit, now):
        """Seconds until a scope whose failures in the window happened at ``times`` may try
        again (0: it may now)."""
        if len(times) < limit:
            return 0
        last = max((at for at in times if at is not None), default=now)
        if last.tzinfo is None:
            last = last.replace(tzinfo=datetime.timezone.utc)
        until = last + datetime.timedelta(seconds=self.lock_seconds(len(times), limit))
        wait = (until - now).total_seconds()
        return math.ceil(wait) if wait > 0 else 0

    async def _retry_after(self, scope, key, limit, now):
        """Seconds until ``scope/key`` may try again (0: it may now), in one query."""
        times = await self._failure_times({scope: key}, now)
        return self._wait(times[scope], limit, now)

    async def under_attack(self, username, now=None):
        """True when the username's failures from all addresses reach ``attack_limit``."""
        if not self.attack_limit:
            return False
        count = await self._count(SCOPE_USER, username_key(username), now or utcnow())
        return count >= self.attack_limit

    async def check(self, username, ip, now=None):
        """May this username try to log in from this address now?

        One query when the pair has no failure (the usual login): the failures of the
        pair and of the address together. A pair without failures is under every pair
        limit, so whether the username is under attack (which only lowers that limit)
        is asked only when it has some.
        """
        now = now or utcnow()
        times = await self._failure_times({SCOPE_PAIR: pair_key(username, ip),
                                           SCOPE_IP: ip_key(ip)}, now)
        failures = len(times[SCOPE_PAIR])
        if failures:
            limit = 1 if await self.under_attack(username, now) else self.pair_limit
            wait = self._wait(times[SCOPE_PAIR], limit, now)
            if wait:
                return Verdict(True, wait, SCOPE_PAIR, pair_failures=failures)
        wait = self._wait(times[SCOPE_IP], self.ip_limit, now)
        if wait:
            return Verdict(True, wait, SCOPE_IP, pair_failures=failures)
        return Verdict(False, pair_failures=failures)

    async def failed(self, username, ip, now=None):
        """Record one failed attempt against the pair, the address and the username."""
        now = now or utcnow()
        expires = now + self.window
        await self.collection.insert_many([
            {"scope": scope, "key": key, "at": now, "expires_at": expires}
            for scope, key in ((SCOPE_PAIR, pair_key(username, ip)), (SCOPE_IP, ip_key(ip)),
                               (SCOPE_USER, username_key(username)))])

    async def succeeded(self, username, ip, verdict=None):
        """A right password: forget this pair's failures (the address's and username's stay).

        ``verdict``: the ``check`` made just before the password was checked (under the
        password slot). When it counted no failure for the pair there is nothing to
        forget, and no write is made; a failure recorded meanwhile by a concurrent
        wrong guess then stays counted (stricter, never looser)."""
        if verdict is not None and verdict.pair_failures == 0:
            return
        await self.collection.delete_many({"scope": SCOPE_PAIR, "key": pair_key(username, ip)})
