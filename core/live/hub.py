"""The hub: this process's live sockets, by model key, and its one ``AuditFeed``.

``core.app.make_app`` makes one (``app.live``); ``startup`` starts it and
``shutdown`` stops it (closing every socket with 1001, "going away"). The feed
calls ``dispatch(events)``; the hub puts each event on the queue of every
socket subscribed to the event's model, and each socket decides whether to send
it: its own subscription there, its user's permissions and the object rule once
per user and event (``LiveEvent.shared``; a session's sockets hold one
``Permissions``, see ``share_auth``).
"""
import asyncio
import logging
import time

from core.audit.models import RECORDED_LISTENERS

from .feed import EVENT_KINDS, AuditFeed

log = logging.getLogger("bastion.live")


class LiveHub:
    """Live sockets of one process and the feed that serves them."""

    def __init__(self, app):
        self.app = app
        config = app.config
        self.connections = set()
        self.by_model = {}
        self.delivered = 0
        self.auth_checks = {}            # raw session id -> (monotonic time, future)
        self.feed = AuditFeed(
            app.db, self.dispatch, lambda: bool(self.connections),
            interval=float(config.get("LIVE_FEED_INTERVAL", 0.1)),
            overlap=float(config.get("LIVE_FEED_OVERLAP_SECONDS", 3.0)))

    # -- lifecycle --------------------------------------------------------------------------
    def start(self):
        self.feed.start()
        RECORDED_LISTENERS.append(self._recorded)

    def _recorded(self, entry):
        """An audit entry this process stored: poll now if a socket may want it."""
        if self.connections and entry.action in EVENT_KINDS:
            self.feed.wake()

    async def stop(self):
        if self._recorded in RECORDED_LISTENERS:
            RECORDED_LISTENERS.remove(self._recorded)
        for connection in list(self.connections):
            connection.end(1001, "server shutting down")
        self.connections.clear()
        self.by_model.clear()
        self.auth_checks.clear()
        await self.feed.stop()

    # -- sockets ----------------------------------------------------------------------------
    async def attach(self, connection):
        """A socket opened: count it, and make sure the feed is reading from now on."""
        first = not self.connections
        self.connections.add(connection)
        if first:
            self.feed.wake()
        if self.feed.running:
            await self.feed.prime()

    def detach(self, connection):
        self.connections.discard(connection)
        for key in list(connection.subscriptions):
            self.unsubscribe(connection, key)

    def subscribe(self, connection, model_key):
        self.by_model.setdefault(model_key, set()).add(connection)

    def unsubscribe(self, connection, model_key):
        listeners = self.by_model.get(model_key)
        if listeners is not None:
            listeners.discard(connection)
            if not listeners:
                del self.by_model[model_key]

    # -- shared session checks ------------------------------------------------------------------
    def check_session(self, raw_session_id, load, max_age):
        """``load()``'s answer for this session, shared by the session's sockets for
        ``max_age`` seconds (a user with ten tabs costs one check, not ten)."""
        now = time.monotonic()
        cached = self.auth_checks.get(raw_session_id)
        if cached is not None and now - cached[0] < max_age and not (
                cached[1].done() and (cached[1].cancelled() or cached[1].exception())):
            return cached[1]
        if len(self.auth_checks) > 4 * len(self.connections) + 16:
            self.auth_checks = {key: value for key, value in self.auth_checks.items()
                                if now - value[0] < max_age}
        future = asyncio.ensure_future(load())
        self.auth_checks[raw_session_id] = (now, future)
        return future

    def share_auth(self, raw_session_id, found, max_age):
        """What a socket opening now should hold, given ``found`` = ``(session, user,
        permissions)`` of its upgrade request: the tuple its session's other sockets
        hold when that was checked less than ``max_age`` seconds ago (the bound a
        re-check already allows), else ``found``, kept for the sockets that follow.
        Sockets holding one ``Permissions`` share each event's check (``LiveEvent.shared``)."""
        now = time.monotonic()
        cached = self.auth_checks.get(raw_session_id)
        if cached is not None and now - cached[0] < max_age and cached[1].done() \
                and not cached[1].cancelled() and cached[1].exception() is None \
                and cached[1].result() is not None:
            return cached[1].result()
        future = asyncio.get_running_loop().create_future()
        future.set_result(found)
        self.auth_checks[raw_session_id] = (now, future)
        return found

    # -- fan-out ----------------------------------------------------------------------------
    def dispatch(self, events):
        """Called by the feed: queue each event for the sockets subscribed to its model."""
        for event in events:
            for connection in list(self.by_model.get(event.model_key, ())):
                connection.enqueue(event)
