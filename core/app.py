"""Building and serving the Tornado application.

    from core.app import make_app, startup, shutdown
    app = make_app(settings)            # registry and database from the settings
    await startup(app)                  # bind models to the db, ensure indexes
    ...
    await shutdown(app)                 # close the database

``make_app`` wires: ``/healthz``, the live socket ``/admin/live`` (``core.live``,
kept as ``app.live``), the admin (``core.admin.routes``: ``/admin/`` and
every installed model's pages, from an ``AdminSite`` kept as ``app.admin_site``),
the login pages (``core.auth.handlers``), the JSON API (``core.api``: ``/api/``), each
app's own routes, static files at
``STATIC_URL``, a template loader that searches ``TEMPLATE_DIRS`` then each app's
template folder, XSRF protection, signed cookies, gzip, security headers on every
response, and HTML/JSON error pages (``core.handlers``). ``serve`` runs it on
bound sockets until SIGINT/SIGTERM, then shuts down gracefully.
"""
import asyncio
import gc
import logging
import os
import signal
import socket
import time

import tornado.httpserver
import tornado.httputil
import tornado.log
import tornado.web

from core import i18n
from core.admin.checks import raise_for_errors
from core.admin.routes import admin_routes
from core.admin.sites import AdminSite, ensure_search_indexes
from core.api import api_fallback_routes, api_routes
from core.auth.handlers import auth_routes, ensure_auth_indexes
from core.auth.password_reset import ensure_reset_indexes, password_reset_routes
from core.db import connect
from core.handlers.base import checked_header_values
from core.handlers.errors import NotFoundHandler, PayloadTooLargeHandler, StaticFileHandler
from core.handlers.health import HealthHandler
from core.live import LiveHub, live_routes
from core.mail import Mailer
from core.registry import Registry
from core.routing import RouteIndex
from core.templates import TemplateLoader, TemplateNotFound  # noqa: F401  (re-exported)

log = logging.getLogger("bastion")


# -- application ----------------------------------------------------------------------------
class AppSettings(dict):
    """Tornado's application settings dict that also answers Bastion's settings.

    ``handler.settings["xsrf_cookies"]`` (Tornado's) and ``handler.settings.DEBUG``
    or ``handler.settings.get("DEBUG")`` (Bastion's) both work.
    """

    def __init__(self, tornado_settings, config):
        super().__init__(tornado_settings)
        self.config = config

    def __getattr__(self, name):
        if name.isupper():
            return getattr(self.config, name)
        raise AttributeError(name)

    def get(self, key, default=None):
        if key in self:
            return self[key]
        if isinstance(key, str) and key.isupper():
            return self.config.get(key, default)
        return default


class SecurityHeadersTransform(tornado.web.OutputTransform):
    """Adds the security headers to every response (static files and errors included).

    ``BaseHandler`` sets them already; this covers handlers that are not
    Bastion's. A header a handler set itself is left alone.
    """

    headers = {}

    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        for name, value in self.headers.items():
            if name not in headers:
                headers[name] = value
        return status_code, headers, chunk


class InFlight:
    """Counts requests that have started and not yet finished (for graceful shutdown)."""

    def __init__(self):
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def started(self):
        self.count += 1
        self._idle.clear()

    def finished(self):
        self.count = max(0, self.count - 1)
        if self.count == 0:
            self._idle.set()

    async def wait_idle(self):
        await self._idle.wait()


class _TrackedConnection:
    """Wraps a request's HTTP connection to notice when its response is finished.

    It and its ``_TrackedDelegate`` point at each other until then: the response's end
    (``finish``, ``detach``) lets go of the delegate, so the request's objects are freed
    by reference counting, not left in a cycle for the garbage collector. (A weak
    reference would not do: a client gone before the response drops Tornado's hold on
    the delegate, and the request would stay counted in flight.)"""

    def __init__(self, connection, request):
        self._connection = connection
        self._request = request

    def __getattr__(self, name):
        return getattr(self._connection, name)

    def _done(self):
        request, self._request = self._request, None
        if request is not None:
            request.done()

    def finish(self):
        try:
            return self._connection.finish()
        finally:
            self._done()

    def detach(self):
        """A WebSocket took the stream over: no longer a request to wait for."""
        self._done()
        return self._connection.detach()


# Of a body over MAX_BODY_SIZE, this much more is read (and dropped) before answering 413,
# so a client that sends its body before reading the answer sees it; past that, the
# answer goes out at once and the connection is closed.
DISCARD_BYTES = 4 * 1024 * 1024


def declared_length(headers):
    """The request's ``Content-Length`` as an int; ``None`` if absent or not one number."""
    value = headers.get("Content-Length")
    if value is None:
        return None
    values = {v.strip() for v in value.split(",")}
    if len(values) != 1:
        return None
    (value,) = values
    return int(value) if value.isdigit() else None


class _TrackedDelegate(tornado.httputil.HTTPMessageDelegate):
    """Wraps the router's delegate: a request is in flight from its headers to its end,
    and a body over ``MAX_BODY_SIZE`` is answered 413 (``PayloadTooLargeHandler``).

    Tornado's own limit would answer a bare ``400 Bad Request``; here a declared
    ``Content-Length`` over the limit is refused before any of the body is read, and a
    chunked body as soon as it passes the limit. The rest of the body is read and
    dropped (up to ``DISCARD_BYTES``) so the client gets the answer.
    """

    def __init__(self, app, server_conn, request_conn):
        self.app = app
        self.in_flight = app.in_flight
        self.server_conn = server_conn
        self.request_conn = request_conn
        self.limit = app.max_body_size
        self.delegate = None
        self.active = False
        self.start_line = self.headers = None
        self.received = 0
        self.rejected = None          # the 413 handler's delegate, once the body is too big
        self.answered = False
        self.discarded = 0

    def begin(self):
        if not self.active:
            self.active = True
            self.in_flight.started()

    def done(self):
        if self.active:
            self.active = False
            self.in_flight.finished()

    def headers_received(self, start_line, headers):
        self.begin()
        self.start_line, self.headers = start_line, headers
        length = declared_length(headers)
        if length is not None and length > self.limit:
            self.reject()
            if headers.get("Expect", "").lower() == "100-continue" or \
                    length - self.limit > DISCARD_BYTES:
                self.answer()             # before the body: the connection then closes
            return None
        return self.delegate.headers_received(start_line, headers)

    def reject(self):
        """From now on the request is answered 413, whatever its URL; its body is dropped."""
        self.request_conn.set_max_body_size(2 ** 62)      # Tornado must not answer 400 itself
        request = tornado.httputil.HTTPServerRequest(
            connection=self.request_conn, server_connection=self.server_conn,
            start_line=self.start_line, headers=self.headers)
        self.rejected = self.app.get_handler_delegate(request, PayloadTooLargeHandler,
                                                      {"limit": self.limit})

    def answer(self):
        if not self.answered:
            self.answered = True
            self.rejected.finish()        # runs the handler: the 413 page or JSON

    def data_received(self, chunk):
        if self.rejected is None:
            self.received += len(chunk)
            if self.received <= self.limit:
                return self.delegate.data_received(chunk)
            self.delegate.on_connection_close()          # drops what it buffered
            self.reject()
        self.discarded += len(chunk)
        if self.discarded > DISCARD_BYTES:
            self.answer()
        return None

    def finish(self):
        if self.rejected is not None:
            return self.answer()
        return self.delegate.finish()

    def on_connection_close(self):
        try:
            if self.rejected is not None:
                return self.rejected.on_connection_close()
            return self.delegate.on_connection_close()
        finally:
            self.done()


class BastionApplication(tornado.web.Application):
    """A ``tornado.web.Application`` that knows its settings, registry and database.

    ``config``   Bastion's ``core.conf.Settings``
    ``registry`` the loaded ``core.registry.Registry``
    ``db``       the ``core.db.Database``
    ``in_flight`` requests being served now (``InFlight``)
    ``route_index`` the routes a path could match (``core.routing.RouteIndex``)
    ``static_urls`` static files' versioned URLs once worked out (``BaseHandler.static_url``)
    """

    def __init__(self, handlers, *, config, registry, db, **tornado_settings):
        super().__init__(handlers, **tornado_settings)
        self.config = config
        self.registry = registry
        self.db = db
        self.settings = AppSettings(self.settings, config)
        self.security_headers = dict(config.get("SECURITY_HEADERS") or {})
        hsts = int(config.get("HSTS_SECONDS") or 0)
        if hsts > 0:
            self.security_headers.setdefault("Strict-Transport-Security", f"max-age={hsts}")
        checked_header_values(self.security_headers)     # written as they are on every response
        self.add_transform(type("SecurityHeaders", (SecurityHeadersTransform,),
                                {"headers": self.security_headers}))
        self.in_flight = InFlight()
        self.route_index = RouteIndex()
        #: ``{static file's path: its versioned URL}`` (``BaseHandler.static_url``)
        self.static_urls = {}

    def find_handler(self, request, **kwargs):
        """The handler for ``request``: the first route that matches, as Tornado finds it,
        trying only the routes whose literal start the path has (``core.routing``). A path
        no route takes (the 404 page) and an application with host rules
        (``add_handlers``) go through Tornado's own walk."""
        router = self.wildcard_router
        if len(self.default_router.rules) == 1:
            for rule in self.route_index.candidates(router.rules, request.path):
                params = rule.matcher.match(request)
                if params is None:
                    continue
                if rule.target_kwargs:
                    params["target_kwargs"] = rule.target_kwargs
                delegate = router.get_target_delegate(rule.target, request, **params)
                if delegate is not None:
                    return delegate
        return super().find_handler(request, **kwargs)

    def log_request(self, handler):
        """Tornado's access log line (``tornado.access``: INFO below 400, WARNING below 500,
        else ERROR), written as Tornado writes it; when that logger drops the level, the line
        is not put together at all. A ``log_function`` setting still gets every request."""
        if "log_function" not in self.settings:
            status = handler.get_status()
            level = logging.INFO if status < 400 else \
                logging.WARNING if status < 500 else logging.ERROR
            if not tornado.log.access_log.isEnabledFor(level):
                return
        super().log_request(handler)

    def start_request(self, server_conn, request_conn):
        tracked = _TrackedDelegate(self, server_conn, None)
        tracked.request_conn = _TrackedConnection(request_conn, tracked)
        tracked.delegate = super().start_request(server_conn, tracked.request_conn)
        return tracked

    @property
    def max_body_size(self):
        """``MAX_BODY_SIZE``: a bigger request body is answered 413."""
        return int(self.config.get("MAX_BODY_SIZE") or 10 * 1024 * 1024)


def install_languages(settings, registry):
    """Compile the apps' and core's catalogs (``core.i18n.install``), apps first."""
    return i18n.install_for_settings(settings, registry.locale_dirs())


def make_app(settings, registry=None, db=None, **tornado_settings):
    """Build the Tornado application for ``settings``.

    ``registry`` defaults to ``Registry(settings).load()``; ``db`` to
    ``core.db.connect(settings.DATABASE_URL, settings.MONGO_DRIVER)``. Extra
    keyword arguments become Tornado application settings. Call
    ``await startup(app)`` before serving.
    """
    if registry is None:
        registry = Registry(settings).load()
    elif not registry.loaded:
        registry.load()
    if db is None:
        db = connect(settings.DATABASE_URL, settings.MONGO_DRIVER)
    template_dirs = list(settings.TEMPLATE_DIRS) + registry.template_dirs()
    install_languages(settings, registry)
    static_url = settings.STATIC_URL.rstrip("/") + "/"
    cookie_kwargs = {"httponly": True, "samesite": "Lax"}
    if settings.SECURE_COOKIES:
        cookie_kwargs["secure"] = True
    options = dict(
        cookie_secret=settings.COOKIE_SECRET,
        xsrf_cookies=True,
        xsrf_cookie_kwargs=dict(cookie_kwargs),
        compress_response=True,
        template_loader=TemplateLoader(template_dirs, cache=not settings.DEBUG),
        static_path=str(settings.STATIC_DIR),
        static_url_prefix=static_url,
        static_handler_class=StaticFileHandler,
        default_handler_class=NotFoundHandler,
        login_url=settings.LOGIN_URL,
        serve_traceback=bool(settings.DEBUG),
        static_hash_cache=not settings.DEBUG,
        autoreload=bool(settings.get("AUTORELOAD", False)),
        cookie_kwargs=cookie_kwargs,
    )
    options.update(tornado_settings)
    if not options.get("cookie_secret"):
        raise ValueError("make_app needs settings.COOKIE_SECRET (signed cookies and XSRF)")
    mailer = Mailer.from_settings(settings)       # a wrong EMAIL_URL stops start-up
    admin_site = AdminSite(registry)
    raise_for_errors(admin_site.check())          # a misconfigured ModelAdmin stops start-up
    # an app's own routes come first: an explicit page wins over the generic patterns
    handlers = ([(r"/healthz", HealthHandler)] + list(registry.routes()) + live_routes()
                + admin_routes(admin_site) + auth_routes() + password_reset_routes()
                + api_routes(admin_site)
                + api_fallback_routes())
    app = BastionApplication(handlers, config=settings, registry=registry, db=db, **options)
    app.admin_site = admin_site
    app.mailer = mailer              # EMAIL_URL's backend (core.mail)
    app.live = LiveHub(app)          # /admin/live's sockets and their audit-log feed
    return app


async def startup(app, ensure_indexes=True):
    """Before serving: bind every model to ``app.db`` and create declared indexes.

    Returns ``{model key: [index names]}`` (empty when ``ensure_indexes`` is false).
    """
    app.registry.bind(app.db)
    live = getattr(app, "live", None)
    if live is not None:
        live.start()                 # idle (no queries) until a live socket connects
    if not ensure_indexes:
        return {}
    return await ensure_all_indexes(app.registry, app.db, app.config)


async def ensure_all_indexes(registry, db, settings):
    """Every index Bastion needs; ``{owner: [index names]}``.

    The installed models' declared indexes (keyed by model key), then the
    indexes of core's own collections (``sessions``, ``login_failures`` and
    ``password_reset_requests``, with their TTL cleanup; ``api_tokens``); then the
    audit entries a crash left pending are completed or dropped
    (``core.audit.atomic.repair_pending``, whether or not the audit app is installed:
    every admin write goes through ``audited``). Runs at start-up and in ``manage.py
    ensure_indexes``.
    """
    from core.audit.atomic import repair_pending, started_at
    from core.auth.tokens import TokenStore
    created = await registry.ensure_indexes()
    for key, names in (await ensure_search_indexes(registry, db)).items():
        created.setdefault(key, []).extend(names)
    created["sessions, login_failures"] = await ensure_auth_indexes(db, settings)
    created["api_tokens"] = await TokenStore(db).ensure_indexes()
    created["password_reset_requests"] = await ensure_reset_indexes(db)
    await repair_pending(db, before=started_at())
    return created


async def shutdown(app):
    """After serving: close the live sockets (1001) and their feed, let the mail being sent
    finish (up to ``EMAIL_TIMEOUT``), then close the database."""
    live = getattr(app, "live", None)
    if live is not None:
        await live.stop()
    mailer = getattr(app, "mailer", None)
    if mailer is not None and not await mailer.drain(mailer.timeout):
        log.warning("shutdown: %d mail message(s) still unsent", len(mailer.pending))
    await app.db.close()


# -- serving --------------------------------------------------------------------------------
def make_server(app):
    """An ``HTTPServer`` for ``app`` with the settings' proxy trust (and a body limit past
    ``MAX_BODY_SIZE``, which the application itself enforces with 413)."""
    config = app.config
    # Tornado's own limit is a backstop past ours (a bare 400): the application answers
    # 413 for a body over MAX_BODY_SIZE (``_TrackedDelegate``).
    limit = int(config.get("MAX_BODY_SIZE") or 10 * 1024 * 1024)
    return tornado.httpserver.HTTPServer(
        app, xheaders=bool(config.get("XHEADERS", False)),
        max_body_size=limit + DISCARD_BYTES)


async def drain(server, app, timeout):
    """Stop accepting, let in-flight requests finish (up to ``timeout`` s), close the rest."""
    server.stop()
    started = time.monotonic()
    try:
        await asyncio.wait_for(app.in_flight.wait_idle(), timeout)
    except asyncio.TimeoutError:
        log.warning("shutdown: %d request(s) still running after %.0f s; closing them",
                    app.in_flight.count, timeout)
    remaining = max(0.1, timeout - (time.monotonic() - started))
    try:
        await asyncio.wait_for(server.close_all_connections(), remaining)
    except asyncio.TimeoutError:
        log.warning("shutdown: connections did not close in time")


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def serve(app, sockets, ready=None, stop_requested=None, ensure_indexes=True):
    """Serve ``app`` on ``sockets`` until SIGINT or SIGTERM, then shut down gracefully.

    Runs ``startup`` first (``ensure_indexes=False`` when the parent of several
    worker processes made them once already); on the signal: stop accepting, finish in-flight
    requests (``SHUTDOWN_TIMEOUT``), close connections, ``shutdown`` (closes the
    database). ``ready()`` is called once the server accepts requests;
    ``stop_requested()``, if given, says a stop signal came before the loop ran.

    The signals are caught with Python handlers (not the loop's, which fall back to
    the default action when removed): a second signal during the shutdown (the
    process group's copy and the supervisor's, a second Ctrl-C) is only logged, and
    afterwards the handlers that were there before are put back.

    Once started, the objects alive then are frozen (``gc.freeze``): the cyclic garbage
    collector skips them from then on.
    """
    await startup(app, ensure_indexes=ensure_indexes)
    # What start-up built (modules, routes, templates, settings) lives as long as the
    # process: moved out of the collector's reach, a full collection no longer walks it
    # while requests allocate (1.5–3% of a list page's CPU in bench/list_cpu.py).
    gc.collect()
    gc.freeze()
    server = make_server(app)
    server.add_sockets(sockets)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(signum, frame):
        if stop.is_set():
            log.info("pid %d: signal %d while shutting down; still shutting down",
                     os.getpid(), signum)
        loop.call_soon_threadsafe(stop.set)

    # A signal may land on any thread (the database's, bcrypt's): its byte on this socket
    # wakes the loop, and the Python handler then runs on the main thread.
    wake_read, wake_write = socket.socketpair()
    for sock in (wake_read, wake_write):
        sock.setblocking(False)

    def drain_wakeups():
        try:
            while wake_read.recv(512):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    loop.add_reader(wake_read.fileno(), drain_wakeups)
    previous_fd = signal.set_wakeup_fd(wake_write.fileno(), warn_on_full_buffer=False)
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    for signum in STOP_SIGNALS:
        signal.signal(signum, on_signal)
    if stop_requested is not None and stop_requested():
        stop.set()
    try:
        if ready is not None:
            ready()
        await stop.wait()
        log.info("pid %d: shutting down", os.getpid())
        await drain(server, app, float(app.config.get("SHUTDOWN_TIMEOUT", 10.0)))
    finally:
        await shutdown(app)
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        signal.set_wakeup_fd(previous_fd)
        loop.remove_reader(wake_read.fileno())
        wake_read.close()
        wake_write.close()
