"""A process's short-lived memory of who a session is: the user and the grants
behind their permissions, so most requests need no user or role read.

An entry is good for ``seconds`` and only while the auth epoch (see
``core.auth.sessions``) is the one it was stored under; the session itself is
read again on every request after any write to the database (``SessionStore``
reuses a read only while ``Database.change_marker()`` is unchanged), so a logout, a
password change or a deactivation (all of which end sessions) counts at once, and a
changed user or role bumps the epoch.
Entries hold the user's stored document, never the object a request may change, and
the ``Permissions`` built from the grants once per entry: each request gets its own
``fork`` of it (its user, its object rules), built again only when a grant in it has
expired since (``Permissions.holds_at``). Requests served by the same built object
share one dict (``CachedAuth.shared_with``) for what depends only on it and on data.
"""
import time
from collections import OrderedDict

__all__ = ["AuthCache", "CachedAuth"]


class CachedAuth:
    """What one request learned about a session's user: the user's document and the
    ``Permissions`` built from their grants (its roles and object rules included), which
    later requests fork instead of building it again, and ``shared``: what requests
    answered with that built object may reuse (``shared_with``)."""

    __slots__ = ("epoch", "stored_at", "user_doc", "permissions", "shared")

    def __init__(self, epoch, user_doc, permissions):
        self.epoch = epoch
        self.stored_at = time.monotonic()
        self.user_doc = user_doc
        self.permissions = permissions.fork(None)
        self.shared = {}

    def permissions_for(self, user, registry):
        """``user``'s ``Permissions`` for this request: a fork of the entry's built object
        while its answers hold, else one built again from its grants (kept for the next;
        ``shared`` starts empty with it: what it held was decided by expired grants)."""
        built = self.permissions
        if built.holds_at():
            return built.fork(user)
        fresh = type(built)(user, built.roles, registry, object_rules=built.object_rules)
        self.permissions, self.shared = fresh.fork(None), {}
        return fresh

    def shared_with(self, permissions):
        """``shared`` (a dict) if ``permissions`` is a fork of the entry's current built
        object with no object rule of its own, else ``None``: a request may then keep in
        it, and take from it, what depends only on the user, their grants and data
        (reference labels, keyed by model and language, ``core.admin``). It lives as long
        as the entry: ``AUTH_CACHE_SECONDS``, the auth epoch, the grants' expiry."""
        built = self.permissions
        if getattr(permissions, "_grants", None) is not built._grants or \
                permissions.object_rules != built.object_rules:
            return None
        return self.shared


class AuthCache:
    """``{session key: CachedAuth}``, at most ``size`` entries (least recently used go)."""

    def __init__(self, seconds, size=10_000):
        self.seconds = seconds
        self.size = size
        self._entries = OrderedDict()

    @classmethod
    def from_settings(cls, settings):
        return cls(float(settings.get("AUTH_CACHE_SECONDS", 5)))

    @property
    def enabled(self):
        return self.seconds > 0

    def get(self, key, epoch):
        """The entry for session ``key`` if stored under ``epoch`` within ``seconds``."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.epoch != epoch or time.monotonic() - entry.stored_at > self.seconds:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key, epoch, user_doc, permissions):
        if not self.enabled or epoch is None:
            return
        self._entries[key] = CachedAuth(epoch, user_doc, permissions)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        # the least recently used entries that have expired go now, with what they kept
        # (``shared``: labels a session was shown), not when their session comes back
        now = time.monotonic()
        while self._entries:
            oldest = next(iter(self._entries.values()))
            if now - oldest.stored_at <= self.seconds:
                break
            self._entries.popitem(last=False)

    def discard(self, key):
        self._entries.pop(key, None)
