"""A process's short-lived memory of who a session is: the user and the grants
behind their permissions, so most requests need no user or role read.

An entry is good for ``seconds`` and only while the auth epoch (see
``core.auth.sessions``) is the one it was stored under; the session itself is
read on every request, so a logout, a password change or a deactivation (all of
which end sessions) counts at once, and a changed user or role bumps the epoch.
Entries hold the user's stored document, never the object a request may change, and
the ``Permissions`` built from the grants once per entry: each request gets its own
``fork`` of it (its user, its object rules), built again only when a grant in it has
expired since (``Permissions.holds_at``).
"""
import time
from collections import OrderedDict

__all__ = ["AuthCache", "CachedAuth"]


class CachedAuth:
    """What one request learned about a session's user: the user's document, what its
    ``Permissions`` were built from (the roles' grants and the object rules, copied
    when stored, so a later request adding a rule changes no other request's) and the
    built object itself, which later requests fork instead of building it again."""

    __slots__ = ("epoch", "stored_at", "user_doc", "permissions_class", "roles",
                 "object_rules", "permissions")

    def __init__(self, epoch, user_doc, permissions):
        self.epoch = epoch
        self.stored_at = time.monotonic()
        self.user_doc = user_doc
        self.permissions_class = type(permissions)
        self.roles = dict(permissions.roles)
        self.object_rules = {key: list(rules) for key, rules in permissions.object_rules.items()}
        self.permissions = permissions.fork(None) if hasattr(permissions, "fork") else None

    def permissions_for(self, user, registry):
        """``user``'s ``Permissions`` for this request: a fork of the entry's built object
        while its answers hold, else one built from the cached grants (kept for the next)."""
        built = self.permissions
        if built is not None and built.holds_at():
            return built.fork(user)
        fresh = self.permissions_class(user, self.roles, registry,
                                       object_rules=self.object_rules)
        if built is not None:
            self.permissions = fresh.fork(None)
        return fresh


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

    def discard(self, key):
        self._entries.pop(key, None)
