"""The hub: this process's live sockets, by model key, and its one ``AuditFeed``.

``core.app.make_app`` makes one (``app.live``); ``startup`` starts it and
``shutdown`` stops it (closing every socket with 1001, "going away"). The feed
calls ``dispatch(events)``; one fan-out task per process then takes each event
in turn (``fan_out``): every socket subscribed to the event's model says whether
it wants it (``LiveHandler.offer``: its own subscription there), the sockets are
grouped by the ``Permissions`` they hold (a session's sockets hold one, see
``share_auth``), each group's user is checked once and its message encoded and
framed once (``LiveEvent.shared``), and the same frame bytes are written to every
socket of the group (``LiveHandler.deliver``). A socket whose session re-check is
due, or that still has events waiting, takes the event on its own queue instead,
so its events keep their order.
"""
import asyncio
import collections
import logging
import time

from core.audit.models import RECORDED_LISTENERS

from .feed import EVENT_KINDS, AuditFeed, timing_log
from .wake import LocalWake, wake_folder

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
        self.pending = collections.deque()   # events read by the feed, not yet fanned out
        self._fan_out_task = None
        self.feed = AuditFeed(
            app.db, self.dispatch, lambda: bool(self.connections),
            interval=float(config.get("LIVE_FEED_INTERVAL", 0.1)),
            overlap=float(config.get("LIVE_FEED_OVERLAP_SECONDS", 3.0)))
        folder = wake_folder(app.db)
        #: other processes on this embedded database wake this one's feed (core.live.wake)
        self.local_wake = LocalWake(folder, self.feed.wake) if folder is not None else None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self):
        self.feed.start()
        if self.local_wake is not None and not self.local_wake.start():
            self.local_wake = None
        RECORDED_LISTENERS.append(self._recorded)

    def _recorded(self, entry):
        """An audit entry this process stored: poll now if a socket may want it, and wake
        the other processes on this embedded database to do the same."""
        if entry.action in EVENT_KINDS:
            if self.connections:
                self.feed.wake()
            if self.local_wake is not None:
                self.local_wake.notify()

    async def stop(self):
        if self._recorded in RECORDED_LISTENERS:
            RECORDED_LISTENERS.remove(self._recorded)
        if self.local_wake is not None:
            self.local_wake.stop()
        for connection in list(self.connections):
            connection.end(1001, "server shutting down")
        self.connections.clear()
        self.by_model.clear()
        self.auth_checks.clear()
        self.pending.clear()
        task, self._fan_out_task = self._fan_out_task, None
        if task is not None:
            task.cancel()
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
        """Called by the feed with what it read: fanned out in order by one task (the feed
        goes on reading meanwhile)."""
        self.pending.extend(events)
        if self._fan_out_task is None or self._fan_out_task.done():
            self._fan_out_task = asyncio.ensure_future(self._fan_out_pending())

    async def _fan_out_pending(self):
        while self.pending:
            event = self.pending.popleft()
            try:
                await self.fan_out(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live: could not fan out %r", event)

    async def fan_out(self, event):
        """Send ``event`` to every socket of this process that may see it.

        One permission check, one encoded message and one frame per group of sockets
        holding the same ``Permissions`` (a user's session), then one write per socket."""
        listeners = self.by_model.get(event.model_key)
        if not listeners:
            return
        groups = {}                      # id(permissions) -> (a context, [sockets])
        for connection in list(listeners):
            context = connection.offer(event)
            if context is not None:
                group = groups.get(id(context.permissions))
                if group is None:
                    group = groups[id(context.permissions)] = (context, [])
                group[1].append(connection)
        timed = timing_log.isEnabledFor(logging.DEBUG) and event.seen_at is not None
        checked_at = written = cpu = 0
        if groups:
            answers = await asyncio.gather(*(
                event.shared(context.permissions,
                             lambda c=context, s=sockets[0]: s.user_answer(event, c))
                for context, sockets in groups.values()))
            if timed:
                checked_at, cpu = time.monotonic(), time.thread_time()
            for (verdict, frame), (_context, sockets) in zip(answers, groups.values()):
                if verdict:
                    for connection in sockets:
                        written += connection.deliver(event, verdict, frame)
            if timed:
                cpu = time.thread_time() - cpu
        self.delivered += written
        if timed:
            done = time.monotonic()
            timing_log.debug(
                "fan-out %s: read %.1f ms after its entry was stamped; %d user checks "
                "+%.1f ms; %d sockets written +%.1f ms (%.1f ms CPU)", event.entry_id,
                event.read_delay_ms(), len(groups),
                ((checked_at or done) - event.seen_at) * 1000, written,
                (done - (checked_at or done)) * 1000, cpu * 1000)
