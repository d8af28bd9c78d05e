"""``/admin/live``: the WebSocket list and detail pages subscribe on (``static/live.js``).

A socket's life (Tornado calls these, in this order):

1. ``prepare()`` — before the upgrade: the ``Origin`` (when sent) must be this
   server's own scheme and host, and the session cookie must name a logged-in,
   active user; otherwise the upgrade is answered 403. (No XSRF token: a GET
   upgrade cannot carry one; the origin check is what stops cross-site pages.)
2. ``open()`` — the socket joins this process's ``LiveHub``; the client is sent
   ``{"type": "hello", ...}``.
3. ``on_message()`` — ``subscribe`` / ``unsubscribe`` / ``ping`` (docs/live.md).
4. events: the hub's fan-out offers every event of a subscribed model to the
   socket (``offer``); it is sent only if the user may ``read`` the model *and*
   the object, asked of the model's ``ModelAdmin.may`` with a ``LiveContext``
   standing in for a request handler, once per user and event, and the frame
   is written as built for all that user's sockets (``deliver``). A socket due
   for a re-check takes the event on its own queue, sent by its sender task.
5. every ``LIVE_RECHECK_SECONDS`` (5), and before sending an event when the last
   check is older than that, the session is loaded again and the permissions
   recomputed: a session that ended (logout, password change, deactivation) or
   expired closes the socket with code 4001; lost permissions stop delivery. The
   re-check does not touch the session: an open socket does not keep it from
   idling out.
6. ``on_close()`` — the socket leaves the hub.

Tornado pings every ``LIVE_PING_INTERVAL`` seconds (20) and closes a socket that
has not answered within ``LIVE_PING_TIMEOUT`` (20; at most the interval).
"""
import asyncio
import functools
import json
import logging
import time
from urllib.parse import urlsplit

import tornado.iostream
import tornado.websocket

from core.admin.options import ModelAdmin
from core.auth.mixins import CurrentUserMixin
from core.auth.sessions import Session, hash_session_id
from core.context import Context
from core.handlers.base import ErrorPageMixin, HTTPError, LanguageMixin, json_default
from core.models.base import parse_id

from .frames import text_frame

log = logging.getLogger("bastion.live")

CLOSE_SESSION_ENDED = 4001
CLOSE_GOING_AWAY = 1001
CLOSE_UNSUPPORTED = 1003
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011

MAX_MESSAGE_CHARS = 16 * 1024
MAX_SUBSCRIPTIONS = 20
MAX_IDS = 500
MAX_KNOWN_IDS = 5000
QUEUE_SIZE = 1000
#: bytes written to a socket and not yet taken by its client before it is dropped
#: (``LIVE_SOCKET_BUFFER_BYTES``)
SOCKET_BUFFER_BYTES = 1024 * 1024
MESSAGES_PER_WINDOW = 120         # client messages per 10 s before the socket is closed
MAX_NESTING = 8                   # a message is {"type": ..., "ids": [...]}: never deeper
#: ``may_see_as_user``: yes, if the socket was sent the (now deleted) object before
KNOWN_ONLY = "known-only"


def nesting_depth(value, limit=MAX_NESTING + 1):
    """How deep ``value`` (parsed JSON) nests, counting up to ``limit`` only (no recursion)."""
    depth, level = 0, [value]
    while level and depth < limit:
        depth += 1
        nxt = []
        for item in level:
            if isinstance(item, dict):
                nxt.extend(v for v in item.values() if isinstance(v, (dict, list)))
            elif isinstance(item, list):
                nxt.extend(v for v in item if isinstance(v, (dict, list)))
        level = nxt
    return depth


class LiveContext(Context):
    """The ``RequestContext`` (``core.context``) of one socket, for ``ModelAdmin.may`` and
    its hooks: ``current_user``, ``permissions`` and ``session`` are replaced on every
    re-check; ``db`` and ``registry`` are the socket's."""

    def __init__(self, handler):
        super().__init__(current_user=handler.current_user, permissions=handler.permissions,
                         db=handler.application.db, registry=handler.application.registry,
                         session=handler.session)


def same_origin(origin, request):
    """Is ``origin`` (an ``Origin`` header) this request's own scheme and host?"""
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return (parts.scheme.lower() == request.protocol.lower()
            and parts.netloc.lower() == request.host.lower())


class LiveHandler(CurrentUserMixin, LanguageMixin, ErrorPageMixin,
                  tornado.websocket.WebSocketHandler):
    """One live socket: authentication at the upgrade, subscriptions, filtered delivery.
    The ``error`` texts of its frames are in the user's language (``self.gettext``: their
    preference, else the upgrade's ``Accept-Language``), as the JSON API's are; the frames'
    keys and types and the close reasons stay English, for programs."""

    # -- settings -----------------------------------------------------------------------------
    @property
    def ping_interval(self):
        value = self.settings.get("websocket_ping_interval")
        return float(self.settings.get("LIVE_PING_INTERVAL", 20.0)) if value is None else value

    @property
    def ping_timeout(self):
        value = self.settings.get("websocket_ping_timeout")
        return float(self.settings.get("LIVE_PING_TIMEOUT", 20.0)) if value is None else value

    @functools.cached_property
    def recheck_seconds(self):          # read per socket and event: looked up once
        return float(self.settings.get("LIVE_RECHECK_SECONDS", 5.0))

    @property
    def socket_buffer_bytes(self):
        return int(self.settings.get("LIVE_SOCKET_BUFFER_BYTES", SOCKET_BUFFER_BYTES))

    def get_compression_options(self):
        """No per-message compression: an event's frame is built once and the same bytes
        go to every socket (``core.live.frames``). Overriding this breaks that."""
        return None

    @property
    def hub(self):
        return self.application.live

    @property
    def site(self):
        return self.application.admin_site

    def wants_json(self):
        return True

    # -- before the upgrade ---------------------------------------------------------------------
    def check_origin(self, origin):
        """Only this server's own scheme and host (Tornado asks for cross-looking requests)."""
        return same_origin(origin, self.request)

    async def prepare(self):
        """Refuse (403) a foreign ``Origin`` and anyone not logged in, before upgrading."""
        origin = self.request.headers.get("Origin")
        if origin is not None and not same_origin(origin, self.request):
            raise HTTPError(403, self.gettext("Cross-origin WebSocket refused."))
        await super().prepare()
        if self.current_user is None:
            raise HTTPError(403, self.gettext("Log in first."))
        self.raw_session_id = self.get_session_id()

    # -- the socket -------------------------------------------------------------------------------
    async def open(self):
        self.context = LiveContext(self)
        if isinstance(self.raw_session_id, str) and self.raw_session_id:
            ctx = self.context
            ctx.session, ctx.current_user, ctx.permissions = self.hub.share_auth(
                self.raw_session_id, (ctx.session, ctx.current_user, ctx.permissions),
                max(0.0, self.recheck_seconds / 2))
        self.checked_at = time.monotonic()
        self.subscriptions = {}          # model key -> None (every object) or {object ids}
        self.known = {}                  # model key -> {object id: None}, ids this user may read
        self.queue = asyncio.Queue(QUEUE_SIZE)
        self.sending = False             # the sender task is on an event of the queue
        self.overflowed = False
        self.ended = False
        self.message_times = []
        self.last_pong = time.monotonic()
        self.tasks = [asyncio.ensure_future(self._send_events()),
                      asyncio.ensure_future(self._housekeeping())]
        self.stopped = False
        # a client that stops reading is dropped, not buffered for without end (write_frame)
        self.ws_connection.stream.max_write_buffer_size = self.socket_buffer_bytes
        await self.hub.attach(self)
        if self.stopped:                 # closed while the feed primed
            self.hub.detach(self)
            return
        user = self.current_user
        self.send({"type": "hello", "user": getattr(user, "username", None),
                   "recheck_seconds": self.recheck_seconds})

    def on_close(self):
        self._stop()

    def _stop(self):
        if getattr(self, "tasks", None) is None:
            return
        self.stopped = True
        for task in self.tasks:
            if task is not asyncio.current_task():
                task.cancel()
        self.tasks = []
        self.hub.detach(self)

    def end(self, code, reason):
        """Close the socket with ``code`` and stop serving it at once."""
        if getattr(self, "ended", False):
            return
        self.ended = True
        self._stop()
        try:
            self.close(code, reason)
        except Exception:  # the stream may be gone already
            pass

    def send(self, message):
        """Send one JSON message; ``None`` if the socket is closed."""
        try:
            return self.write_message(json.dumps(message, default=json_default))
        except tornado.websocket.WebSocketClosedError:
            return None
        except tornado.iostream.StreamBufferFullError:
            return self._drop_stalled()

    # -- client messages ----------------------------------------------------------------------
    async def on_message(self, message):
        """Called by Tornado for each client message: answer it, or an error message.

        Whatever the message, the socket gets an answer (or a clean close) and
        the process goes on serving: a malformed one is ``{"type": "error"}``, and
        an unexpected failure is logged and closes this socket with 1011.
        """
        if self.ended:
            return
        try:
            return await self.handle_message(message)
        except (asyncio.CancelledError, tornado.websocket.WebSocketClosedError):
            raise
        except Exception:
            log.exception("live: a client message failed")
            self.send({"type": "error",
                       "error": self.gettext("The server could not handle that message.")})
            return self.end(CLOSE_INTERNAL_ERROR, "internal error")

    async def handle_message(self, message):
        """One client message (``on_message`` catches what this raises)."""
        now = time.monotonic()
        self.message_times = [t for t in self.message_times if now - t < 10.0] + [now]
        if len(self.message_times) > MESSAGES_PER_WINDOW:
            return self.end(CLOSE_POLICY, "too many messages")
        if isinstance(message, bytes):
            return self.end(CLOSE_UNSUPPORTED, "messages are JSON text")
        if len(message) > MAX_MESSAGE_CHARS:
            return self.end(CLOSE_TOO_BIG, "messages are JSON text up to 16 KiB")
        try:
            data = json.loads(message)
        except RecursionError:
            return self.refuse_too_deep()
        except ValueError:
            return self.send({"type": "error",
                              "error": self.gettext("Messages must be JSON objects.")})
        if not isinstance(data, dict):
            return self.send({"type": "error",
                              "error": self.gettext("Messages must be JSON objects.")})
        if nesting_depth(data) > MAX_NESTING:
            return self.refuse_too_deep()
        kind = data.get("type")
        if not isinstance(kind, str):
            return self.send({"type": "error",
                              "error": self.gettext("A message needs a \"type\" string.")})
        if kind == "ping":
            return self.send({"type": "pong"})
        if kind == "subscribe":
            return await self.subscribe(data)
        if kind == "unsubscribe":
            key = data.get("model")
            if isinstance(key, str) and key in self.subscriptions:
                del self.subscriptions[key]
                self.known.pop(key, None)
                self.hub.unsubscribe(self, key)
            return self.send({"type": "unsubscribed", "model": key})
        return self.send({"type": "error", "error": self.gettext(
            "Unknown message type %(type)s.") % {"type": repr(kind[:80])}})

    def refuse_too_deep(self):
        return self.send({"type": "error", "error": self.ngettext(
            "Messages may not nest deeper than %(count)s level.",
            "Messages may not nest deeper than %(count)s levels.", MAX_NESTING)
            % {"count": MAX_NESTING}})

    async def subscribe(self, data):
        """``{"type": "subscribe", "model": KEY, "id": ID?, "ids": [ID, ...]?}``."""
        key, object_id, ids = data.get("model"), data.get("id"), data.get("ids") or []
        if not isinstance(key, str) or (object_id is not None and not isinstance(object_id, str)) \
                or not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return self.send({"type": "error", "error": self.gettext(
                "subscribe needs a model key, and optionally an object id and a list of "
                "ids.")})
        if self._is_stale() and not await self.refresh():
            return
        admin = self.site.get(key.lower())
        if admin is None or not admin.may(self.context, "read"):
            return self.send({"type": "error", "model": key,
                              "error": self.gettext("You may not read %(model)s.")
                              % {"model": key}})
        key = admin.key
        if key not in self.subscriptions and len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
            return self.send({"type": "error", "model": key, "error": self.ngettext(
                "At most %(count)s subscription.", "At most %(count)s subscriptions.",
                MAX_SUBSCRIPTIONS) % {"count": MAX_SUBSCRIPTIONS}})
        wanted = ([object_id] if object_id is not None else []) + ids[:MAX_IDS]
        readable = await self._readable_ids(admin, wanted)
        if object_id is not None and object_id not in readable:
            return self.send({"type": "error", "model": key, "id": object_id, "error":
                              self.gettext("No such object, or you may not read it.")})
        for oid in readable:
            self._know(key, oid)
        if object_id is None:
            self.subscriptions[key] = None
        elif key not in self.subscriptions:
            self.subscriptions[key] = {object_id}
        elif self.subscriptions[key] is not None:
            self.subscriptions[key].add(object_id)
        self.hub.subscribe(self, key)
        return self.send({"type": "subscribed", "model": key, "id": object_id})

    async def _readable_ids(self, admin, ids):
        """The ids among ``ids`` naming objects this user may read now."""
        oids = [oid for oid in (parse_id(i) for i in ids) if oid is not None]
        if not oids:
            return set()
        flt = admin.scoped(self.context, {"_id": {"$in": oids}})
        found = await admin.model.find(flt, limit=len(oids), db=self.context.db).to_list(None)
        return {str(obj.id) for obj in found if admin.may(self.context, "read", obj)}

    def _know(self, key, object_id):
        known = self.known.setdefault(key, {})
        known[object_id] = None
        if len(known) > MAX_KNOWN_IDS:
            del known[next(iter(known))]

    # -- events -------------------------------------------------------------------------------
    def offer(self, event):
        """Called by the hub's fan-out for each event of a subscribed model (never blocks):
        the ``LiveContext`` whose user's answer decides (``deliver`` follows), or ``None``
        when the socket does not want the event or has taken it on its own queue (a
        re-check is due, or earlier events still wait there)."""
        if self.ended or not self._subscribed_to(event):
            return None
        if self.sending or not self.queue.empty() or self._is_stale():
            self.enqueue(event)
            return None
        return self.context

    def deliver(self, event, verdict, frame):
        """Write ``frame`` (``user_answer``'s, shared by the user's sockets) if ``verdict``
        lets this socket have it; 1 if written, else 0."""
        if self.ended or not self.may_have(event, verdict):
            return 0
        self._know(event.model_key, event.object_id)
        return 0 if self.write_frame(frame) is None else 1

    def write_frame(self, frame):
        """Write one frame built by ``core.live.frames``: ``True``, or ``None`` if the socket
        is closed. A client that lets more than ``LIVE_SOCKET_BUFFER_BYTES`` pile up unread
        is dropped (its connection closed: live.js reconnects), so a stalled client never
        holds the others up nor grows this process's memory.

        When the stream has nothing waiting to go out (``IOStream.writing()``), the frame
        is sent on its socket at once, and only what the kernel did not take goes through
        the stream's buffer: the order of bytes is the stream's, without its bookkeeping
        for each of a thousand sockets. (TLS streams always take the buffered way.)"""
        connection = self.ws_connection
        if self.ended or connection is None or connection.is_closing():
            return None
        stream = connection.stream
        if type(stream) is tornado.iostream.IOStream and not stream.writing():
            try:
                sent = stream.socket.send(frame)
            except OSError:              # would block, or the stream's own write meets it
                sent = 0
            if sent == len(frame):
                return True
            frame = frame[sent:]
        try:
            stream.write(frame)
        except tornado.iostream.StreamClosedError:
            return None
        except tornado.iostream.StreamBufferFullError:
            return self._drop_stalled()
        return True

    def _drop_stalled(self):
        """The client stopped reading: close its connection (no close frame fits) and leave."""
        log.warning("live: dropping a socket of %s that stopped reading",
                    getattr(self.current_user, "username", "?"))
        self.ended = True
        self._stop()
        connection = self.ws_connection
        if connection is not None:
            connection.stream.close()
        return None

    def enqueue(self, event):
        """Put ``event`` on this socket's own queue (never blocks)."""
        if self.ended:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            if not self.overflowed:
                self.overflowed = True
                self.send({"type": "overflow", "error": self.gettext(
                    "Too many changes to follow; reload the page.")})

    async def _send_events(self):
        """The socket's own queue: events that came while a re-check was due."""
        while True:
            event = await self.queue.get()
            self.sending = True
            try:
                if self._is_stale() and not await self.refresh():
                    return
                frame = await self.message_for(event)
                if frame is not None:
                    self._know(event.model_key, event.object_id)
                    if self.write_frame(frame) is not None:
                        self.hub.delivered += 1
            except asyncio.CancelledError:
                raise
            except tornado.iostream.StreamClosedError:
                return
            except Exception:
                log.exception("live: could not deliver %r", event)
            finally:
                self.sending = False

    def _subscribed_to(self, event):
        wanted = self.subscriptions.get(event.model_key, False)
        return wanted is None or (wanted is not False and event.object_id in wanted)

    async def message_for(self, event):
        """The frame this socket is sent for ``event``, or ``None``.

        What depends on the socket (its subscriptions, the ids it was sent) is
        checked here; what depends only on the user (``may_see_as_user`` and the
        message, field names filtered) is computed once per event for all the
        sockets sharing this socket's ``Permissions`` (a session's sockets:
        ``LiveHub.share_auth``), not once per socket."""
        if not self._subscribed_to(event):
            return None
        ctx = self.context
        verdict, frame = await event.shared(ctx.permissions, lambda: self.user_answer(event, ctx))
        return frame if self.may_have(event, verdict) else None

    def may_have(self, event, verdict):
        """Does the user's ``verdict`` on ``event`` (``user_answer``'s) let *this* socket
        have it? ``KNOWN_ONLY`` (a deleted object under a row scope or an object rule) only
        when this socket was sent that object before. The one place of that rule, for the
        fan-out (``deliver``) and the socket's own queue (``message_for``) alike."""
        if verdict is KNOWN_ONLY:
            return event.object_id in self.known.get(event.model_key, ())
        return bool(verdict)

    async def user_answer(self, event, ctx):
        """``(verdict, frame)`` for ``ctx``'s user: the frame of the encoded message only
        when the verdict is not False."""
        verdict = await self.may_see_as_user(event, ctx)
        if not verdict:
            return False, None
        user = ctx.current_user
        message = event.message(mine=event.actor_id is not None and event.actor_id == user.id)
        admin = self.site.get(event.model_key)
        if admin is not None:          # field names hidden from this user
            message["fields"] = admin.visible(ctx, message["fields"])
            if admin.hidden_fields(ctx):   # the label may show them
                message["label"] = f"{str(admin.opts.verbose_name).capitalize()} " \
                                   f"{event.object_id}"
        return verdict, text_frame(json.dumps(message, default=json_default).encode())

    async def may_see(self, event):
        """May this socket's user read ``event``'s model and object (as they are now)?"""
        return await self.message_for(event) is not None

    async def may_see_as_user(self, event, ctx):
        """May ``ctx``'s user read ``event``'s model and object (as they are now)?
        ``KNOWN_ONLY``: a deleted object under a row scope or object rule, which a
        socket may only hear about if it was sent the object before."""
        key = event.model_key
        admin = self.site.get(key)
        if admin is None or not admin.may(ctx, "read"):
            return False
        base = admin.has_row_scope(ctx)          # base filter or a scoped read grant
        if not base and not self._has_object_rule(admin, ctx):
            return True
        if event.kind == "deleted":       # gone: only ids this user could read before
            return KNOWN_ONLY
        if base:
            oid = parse_id(event.object_id)
            if oid is None:
                return False
            found = await admin.model.find(admin.scoped(ctx, {"_id": oid}), limit=1,
                                           db=ctx.db).to_list(1)
            obj = found[0] if found else None
        else:
            obj = await event.load_object(admin.model, ctx.db)
        return obj is not None and admin.may(ctx, "read", obj)

    def _has_object_rule(self, admin, ctx):
        perms = ctx.permissions
        if perms.is_active and perms.is_superuser:
            return False                  # rules narrow grants; a superuser bypasses them
        overridden = type(admin).has_object_permission is not ModelAdmin.has_object_permission
        return overridden or bool(perms.object_rules.get(admin.key))

    # -- housekeeping: heartbeat and re-checks -------------------------------------------------
    def on_pong(self, data):
        self.last_pong = time.monotonic()

    def _pongs_stopped(self):
        """Tornado pings; True when the last pong is older than one interval + the timeout."""
        interval, timeout = self.ping_interval or 0, self.ping_timeout or 0
        if interval <= 0 or timeout <= 0:
            return False
        return time.monotonic() - self.last_pong > interval + min(timeout, interval)

    def _is_stale(self):
        return time.monotonic() - self.checked_at >= self.recheck_seconds

    async def _housekeeping(self):
        """One task per socket: leave as soon as pongs stop (Tornado then closes the stream),
        and re-check the session and permissions every ``LIVE_RECHECK_SECONDS``."""
        interval = self.ping_interval or 0
        while not self.ended:
            wait = self.recheck_seconds - (time.monotonic() - self.checked_at)
            if interval > 0:
                wait = min(wait, interval)
            await asyncio.sleep(max(0.05, wait))
            if self._pongs_stopped():
                self.end(CLOSE_GOING_AWAY, "ping timed out")
                return
            if self._is_stale():
                try:
                    await self.refresh()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("live: re-checking a session failed")

    async def load_session_untouched(self):
        """The socket's session if it still exists and has not expired, else ``None``."""
        raw = self.raw_session_id
        if not isinstance(raw, str) or not raw:
            return None
        store = self.session_store
        doc = await store.collection.find_one({"_id": hash_session_id(raw)})
        if doc is None:
            return None
        session = Session.from_document(doc)
        return None if store.is_expired(session) else session

    async def refresh(self):
        """Load the session, user and permissions again; False (and closed 4001) if over.

        The session is read, not touched: an open socket is not activity, so it
        does not keep an idle session alive (``SESSION_IDLE_SECONDS`` still ends it).
        Sockets of one session (tabs) share one check (``LiveHub.check_session``).
        """
        found = await asyncio.shield(self.hub.check_session(
            self.raw_session_id, self._load_auth, max(0.0, self.recheck_seconds / 2)))
        if found is None:
            self.end(CLOSE_SESSION_ENDED, "session ended")
            return False
        session, user, permissions = found
        self.context.current_user, self.context.permissions = user, permissions
        self.context.session = session
        self.current_user = user             # the user as stored now: their language too
        self.forget_locale()
        self.checked_at = time.monotonic()
        return True

    async def _load_auth(self):
        """``(session, user, permissions)`` from the database, or ``None`` if it is over."""
        session = await self.load_session_untouched()
        if session is None:
            return None
        model = self.get_user_model()
        user = await model.get(session.user_id, db=self.application.db) \
            if model is not None else None
        if user is None or not getattr(user, "is_active", False):
            return None
        return session, user, await self.compute_permissions(user)
