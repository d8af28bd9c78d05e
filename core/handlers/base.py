"""``BaseHandler``: what every Bastion handler shares.

A request's path through a handler (Tornado calls these, in this order):

1. ``__init__`` → ``initialize(**kwargs)`` — the route's keyword arguments.
2. ``set_default_headers()`` — before anything is written, and again after
   ``clear()`` (so error pages get them too). Here: the security headers.
3. ``check_xsrf_cookie()`` — for POST/PUT/PATCH/DELETE when ``xsrf_cookies`` is on
   (it always is in Bastion); a missing or wrong ``_xsrf`` token is a 403. With a
   session the token must be that session's (``SessionXsrfMixin``).
4. ``prepare()`` — may be a coroutine; authentication and permission checks live
   here in subclasses; raise ``HTTPError`` to stop.
5. ``get()`` / ``post()`` / ... — the work.
6. ``on_finish()`` — after the response is sent. Then the handler lets go of every
   attribute the request set on it (``_break_cycles``): work scheduled to run later
   keeps what it needs in its own variables, not on ``self``.

Any exception from 3–5 becomes ``send_error(status)`` → ``write_error()``, which
answers with an HTML page (``templates/admin/<status>.html``, else
``admin/error.html``) or JSON ``{"error": "..."}`` when the path starts with
``/api/`` or the client's ``Accept`` prefers JSON. A traceback is shown only
when ``DEBUG`` is on.
"""
import binascii
import hmac
import json
import logging
import os
import time
import traceback

import tornado
import tornado.web
from tornado import escape, httputil

from core import i18n
from core.auth.mixins import CurrentUserMixin, login_required  # noqa: F401
from core.http import HTTPError, json_default  # noqa: F401  (re-exported for handlers)
from core.i18n import gettext_lazy as _l
from core.signing import prefixed_digest
from core.timezones import zone_for

log = logging.getLogger("bastion.handlers")

FALLBACK_SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
}


#: Tornado's ``Server`` header, as its ``RequestHandler.clear`` writes it
SERVER_HEADER = f"TornadoServer/{tornado.version}"


class HttpDate:
    """The ``Date`` header's text for the current second (``httputil.format_timestamp``),
    formatted once a second instead of for every response (~4-7 µs each). ``clock``:
    the seconds since the epoch (``time.time``)."""

    def __init__(self, clock=time.time):
        self.clock = clock
        self.current = (None, "")          # (second, its text): replaced as one value

    def __call__(self):
        second = int(self.clock())
        current = self.current
        if current[0] != second:
            current = self.current = (second, httputil.format_timestamp(second))
        return current[1]


#: the ``Date`` of this process's responses
http_date = HttpDate()


def checked_header_values(headers):
    """``headers`` (a dict of names to str values) checked as ``RequestHandler.set_header``
    checks a value (no CR, LF or other control character); a ``ValueError`` names the
    first bad one. For headers checked once and written on every response as they are."""
    for name, value in headers.items():
        if not isinstance(value, str) or \
                tornado.web.RequestHandler._VALID_HEADER_CHARS.fullmatch(value) is None:
            raise ValueError(f"unsafe value for the {name} header: {value!r}")
    return headers


def accepts_json(request):
    """True when the request path is under ``/api/`` or ``Accept`` prefers JSON to HTML."""
    if request.path.startswith("/api/"):
        return True
    accept = request.headers.get("Accept", "")
    if not accept:
        return False
    best = {"json": 0.0, "html": 0.0}
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media == "application/json" or media.endswith("+json"):
            best["json"] = max(best["json"], quality)
        elif media in ("text/html", "application/xhtml+xml", "text/*", "*/*"):
            # a wildcard counts for HTML, slightly below an explicit type
            best["html"] = max(best["html"], quality if "*" not in media else quality - 0.001)
    return best["json"] > best["html"]


class LanguageMixin:
    """The request's language (``self.locale``): the user's ``language``, else the best
    ``Accept-Language`` match, else the ``LANGUAGE`` setting — only codes of
    ``LANGUAGES`` (``core.i18n.choose_language``). Usable on any RequestHandler."""

    def get_user_locale(self):
        """Called by Tornado for ``self.locale``: the language ``choose_language`` picks
        (never ``None``, so ``get_browser_locale`` is not consulted). Override to add
        a source (a ``?lang=`` argument, a cookie)."""
        settings = self.settings
        default = settings.get("LANGUAGE") or "en"
        languages = [code for code, _name in (settings.get("LANGUAGES") or ())]
        user = getattr(self, "_current_user", None)
        preference = getattr(user, "language", None) if user is not None else None
        code = i18n.choose_language(preference, self.request.headers.get("Accept-Language"),
                                    languages, default)
        return i18n.locale_for(code)

    def gettext(self, message):
        """``message`` in the request's language (``self.locale``)."""
        return self.locale.translate(message)

    def ngettext(self, singular, plural, count):
        """``singular`` or ``plural``, as ``count`` asks, in the request's language."""
        return self.locale.translate(singular, plural, count)

    def activate_locale(self, again=False):
        """Make ``self.locale`` the language of lazy strings and ``core.i18n.gettext`` for
        the rest of the request; called after ``prepare`` loads the user (``again``:
        choose anew) and before rendering."""
        if again:
            self.forget_locale()
        return i18n.activate(self.locale)

    def forget_locale(self):
        """Choose ``self.locale`` anew when next asked (the user, or their language,
        changed)."""
        self.__dict__.pop("_locale", None)


class ErrorPageMixin:
    """``write_error`` that answers in HTML or JSON; usable on any RequestHandler."""

    def wants_json(self):
        """Should the error (or response) be JSON? Override to change the rule."""
        return accepts_json(self.request)

    def get_error_message(self, status_code, exception=None):
        """The text shown to the client for this error (never internal detail for a 5xx)."""
        message = getattr(exception, "message", None)
        if isinstance(message, str) and message:
            return message
        if isinstance(exception, tornado.web.HTTPError):
            if exception.reason:
                return exception.reason
            if 400 <= status_code < 500 and exception.log_message:
                try:
                    return exception.get_message()
                except (TypeError, ValueError):
                    return exception.log_message
        return httputil.responses.get(status_code, "Unknown error")

    def write_error(self, status_code, **kwargs):
        """Called by ``send_error`` (after ``clear()``) to write the error response.

        ``kwargs["exc_info"]`` is there when an exception caused the error.
        Override ``get_error_message`` or the templates rather than this.
        """
        exc_info = kwargs.get("exc_info")
        exception = exc_info[1] if exc_info else None
        message = self.get_error_message(status_code, exception)
        show_traceback = bool(self.settings.get("serve_traceback")) and exc_info is not None
        trace = "".join(traceback.format_exception(*exc_info)) if show_traceback else None
        if self.request.method == "HEAD" or status_code in (204, 304):
            return self.finish()
        if hasattr(self, "activate_locale"):
            self.activate_locale()
        if self.wants_json():
            body = {"error": message}
            if trace:
                body["traceback"] = trace
            self.set_header("Content-Type", "application/json; charset=UTF-8")
            return self.finish(json.dumps(body))
        try:
            html = self.render_error_page(status_code, message, trace)
        except Exception:
            log.exception("could not render the error page for %s", status_code)
            html = (f"<!doctype html><title>{status_code} {escape.xhtml_escape(message)}"
                    f"</title><h1>{status_code}</h1><p>{escape.xhtml_escape(message)}</p>")
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        return self.finish(html)

    def render_error_page(self, status_code, message, trace=None):
        """Render ``admin/<status>.html`` or ``admin/error.html``; returns bytes."""
        loader = self.settings.get("template_loader")
        name = f"admin/{status_code}.html"
        if loader is None or not loader.exists(name):
            name = "admin/error.html"
        page_context = getattr(self, "page_context", None)
        if page_context is not None and getattr(self, "_page_context", None) is None:
            try:
                self._page_context = page_context()
            except Exception:                # the error page must render anyway
                log.exception("could not compute the page context of an error page")
        return self.render_string(name, status_code=status_code, message=message,
                                  traceback=trace, reason=self._reason)

    def get_template_namespace(self):
        """Adds the page's ``nav_groups`` and ``flashes`` (empty unless ``page_context``
        ran before rendering) and ``site_title``, ``site_header``, ``site_logo_url`` (the
        ``SITE_*`` settings): ``base.html`` only reads them."""
        namespace = super().get_template_namespace()
        namespace.update(getattr(self, "_page_context", None) or
                         {"nav_groups": [], "flashes": []})
        title = self.settings.get("SITE_TITLE") or "Bastion"
        namespace.update(site_title=title, site_header=self.settings.get("SITE_HEADER") or title,
                         site_logo_url=self.settings.get("SITE_LOGO_URL"))
        namespace.setdefault("js_messages", lambda: "{}")     # BaseHandler gives the real one
        return namespace


XSRF_COOKIE = "_xsrf"
XSRF_HEADERS = ("X-Xsrftoken", "X-Csrftoken")


def mask_xsrf_token(raw):
    """``raw`` (bytes) in Tornado's version-2 form ``2|mask|masked|time``, masked afresh.

    A new random mask per page keeps the token out of reach of compression
    attacks (BREACH), as Tornado does.
    """
    mask = os.urandom(4)
    return b"|".join([b"2", binascii.b2a_hex(mask), binascii.b2a_hex(_xor(raw, mask)),
                      str(int(time.time())).encode()])


def _xor(data, mask):
    """``data`` XOR the 4-byte ``mask`` repeated (one integer operation, not a byte loop)."""
    size = len(data)
    stream = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(size, "big")


def unmask_xsrf_token(value):
    """The raw token inside ``value`` (version 2, or version 1: plain hex); ``None`` if bad."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not isinstance(value, str) or not value or len(value) > 512:
        return None
    try:
        if value.startswith("2|"):
            parts = value.split("|")
            if len(parts) != 4:
                return None
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
            if len(mask) != 4 or not masked:
                return None
            return _xor(masked, mask)
        return bytes.fromhex(value) or None
    except ValueError:
        return None


def session_xsrf_token(cookie_secret, session_id):
    """The raw XSRF token of the session whose (cookie) id is ``session_id``.

    An HMAC of the id under the cookie secret: the token of one session is
    worthless in another, and nobody without the secret can derive it.
    """
    return prefixed_digest(cookie_secret, b"bastion-xsrf\x00", session_id.encode())


#: the 403 texts of a refused XSRF check, in the request's language (``self.locale``)
XSRF_MISSING = _l("'_xsrf' argument missing from POST (the XSRF token: the page's %(meta)s or "
                  "the form field).")
XSRF_COOKIE_MISSING = _l("'_xsrf' cookie missing: load the page again.")
XSRF_MISMATCH = _l("XSRF token does not match this session (_xsrf argument or X-XSRFToken "
                   "header): load the page again.")


class SessionXsrfMixin:
    """XSRF tokens bound to the session (replaces Tornado's cookie-only double submit).

    With a session cookie the token is ``session_xsrf_token`` of the session's id:
    a token from another session, or from before logging in, is refused (403).
    Without one (the login page, registration) it is Tornado's: a random token
    in the HttpOnly ``_xsrf`` cookie, to be sent back in the form field ``_xsrf``
    or the ``X-XSRFToken`` header. Logging in (``set_session_cookie``) sets the
    ``_xsrf`` cookie to the new session's token; logging out gives a fresh
    anonymous one. Pages carry the token in ``<meta name="xsrf-token">`` and in
    every form (``xsrf_form_html``).
    """

    _xsrf_session = False            # False: as the request says; None or an id: as set now
    _xsrf_raw = None
    _xsrf_masked = None              # the raw token masked for this response (once)

    def _xsrf_session_id(self):
        """The session id the response's token belongs to (``None``: anonymous)."""
        if self._xsrf_session is not False:
            return self._xsrf_session
        return CurrentUserMixin.get_session_id(self)

    def _xsrf_secret(self):
        return self.settings.get("cookie_secret") or ""

    def _set_xsrf_cookie(self, token):
        kwargs = dict(self.settings.get("xsrf_cookie_kwargs") or {})
        self.set_cookie(self.settings.get("xsrf_cookie_name", XSRF_COOKIE), token, **kwargs)

    def _cookie_xsrf_raw(self):
        return unmask_xsrf_token(self.get_cookie(self.settings.get("xsrf_cookie_name",
                                                                   XSRF_COOKIE)))

    @property
    def xsrf_token(self):
        """The token to put in this response's forms and meta tag: masked afresh for each
        response (BREACH), once per response (the meta tag and every form share it)."""
        if self._xsrf_masked is not None:
            return self._xsrf_masked
        if self._xsrf_raw is None:
            session_id = self._xsrf_session_id()
            if session_id is not None:
                raw = session_xsrf_token(self._xsrf_secret(), session_id)
                if self._xsrf_session is False and self._cookie_xsrf_raw() != raw:
                    self._set_xsrf_cookie(mask_xsrf_token(raw))
            else:
                raw = None if self._xsrf_session is None else self._cookie_xsrf_raw()
                if raw is None:
                    raw = os.urandom(16)
                    self._set_xsrf_cookie(mask_xsrf_token(raw))
            self._xsrf_raw = raw
        self._xsrf_masked = mask_xsrf_token(self._xsrf_raw)
        return self._xsrf_masked

    def bind_xsrf_to_session(self, session_id):
        """From now on this response's token is ``session_id``'s (``None``: a fresh anonymous
        one), and the ``_xsrf`` cookie says so. Called when the session cookie changes."""
        self._xsrf_session = session_id
        self._xsrf_raw = self._xsrf_masked = None
        if session_id is not None:
            self._xsrf_raw = session_xsrf_token(self._xsrf_secret(), session_id)
            self._set_xsrf_cookie(mask_xsrf_token(self._xsrf_raw))
        else:
            self.xsrf_token                     # a fresh random token and cookie

    def check_xsrf_cookie(self):
        """Called by Tornado before ``prepare`` for POST/PUT/PATCH/DELETE: 403 unless the
        ``_xsrf`` field or ``X-XSRFToken`` header holds this session's token (or, with no
        session, the ``_xsrf`` cookie's)."""
        sent = self.get_argument("_xsrf", None)
        if not sent:
            sent = next((self.request.headers[h] for h in XSRF_HEADERS
                         if self.request.headers.get(h)), None)
        if not sent:
            raise HTTPError(403, self.locale.translate(XSRF_MISSING.msgid) % {
                "meta": '<meta name="xsrf-token">'})
        session_id = CurrentUserMixin.get_session_id(self)
        if session_id is not None:
            expected = session_xsrf_token(self._xsrf_secret(), session_id)
        else:
            expected = self._cookie_xsrf_raw()
            if expected is None:
                raise HTTPError(403, self.locale.translate(XSRF_COOKIE_MISSING.msgid))
        got = unmask_xsrf_token(sent)
        if got is None or not hmac.compare_digest(got, expected):
            raise HTTPError(403, self.locale.translate(XSRF_MISMATCH.msgid))


class BaseHandler(SessionXsrfMixin, CurrentUserMixin, LanguageMixin, ErrorPageMixin,
                  tornado.web.RequestHandler):
    """The base of every Bastion handler.

    ``self.db`` is the application's database (``core.db``), ``self.registry``
    the app registry, and ``self.settings`` Tornado's application settings
    (``self.settings["xsrf_cookies"]``) which also answer Bastion's settings as
    attributes (``self.settings.DEBUG``, ``self.settings.BCRYPT_ROUNDS``).

    ``prepare()`` (``core.auth.mixins.CurrentUserMixin``) loads the session
    cookie's user once per request: ``self.current_user``, ``self.session`` and
    ``self.permissions``. Set ``login_required = True`` (or decorate a method
    with ``core.auth.mixins.login_required``) to send anonymous users to the
    login page (401 JSON under ``/api/``). Overrides of ``prepare`` call
    ``await super().prepare()`` first.
    """

    async def prepare(self):
        """Load the user (``CurrentUserMixin.prepare``), then choose the request's language
        from it. Overrides call ``await super().prepare()`` first."""
        try:
            await super().prepare()
        finally:
            if not self._finished:          # a redirect finished it: nothing is left to show
                self.activate_locale(again=True)

    #: what Tornado's own code may still read of a handler once its response is finished
    TORNADO_STATE = frozenset({
        "application", "request", "ui", "path_args", "path_kwargs", "_transforms",
        "_headers_written", "_finished", "_auto_finish", "_prepared_future", "_headers",
        "_status_code", "_reason", "_write_buffer"})

    def _break_cycles(self):
        """After ``on_finish``: let go of everything the request kept on the handler.

        Tornado's hook for this (it drops ``ui``, whose closures point back at the
        handler). A request's objects (its change list, filters, page objects, user,
        template helpers) point back at the handler too, so without this the whole
        request lived until the cyclic garbage collector found it: ~270 objects a list
        page, ~0.3 ms of collector time a request. Dropped here, reference counting frees
        them at once."""
        super()._break_cycles()
        state = self.__dict__
        for name in [name for name in state if name not in self.TORNADO_STATE]:
            del state[name]

    @property
    def config(self):
        """Bastion's ``core.conf.Settings`` (the same values as ``self.settings.NAME``)."""
        return self.application.config

    @property
    def db(self):
        """The ``core.db.Database`` the application was built with."""
        return self.application.db

    @property
    def registry(self):
        """The ``core.registry.Registry`` of installed apps and models."""
        return self.application.registry

    def clear(self):
        """Called at construction and before an error page: Tornado's ``clear`` (its
        ``Server``, ``Content-Type`` and ``Date`` headers, then ``set_default_headers()``,
        an empty body, status 200), with the ``Date`` text made once a second
        (``http_date``)."""
        self._headers = httputil.HTTPHeaders()
        headers = self._headers
        headers["Server"] = SERVER_HEADER
        headers["Content-Type"] = "text/html; charset=UTF-8"
        headers["Date"] = http_date()
        self.set_default_headers()
        self._write_buffer = []
        self._status_code = 200
        self._reason = httputil.responses[200]

    def set_default_headers(self):
        """Called at construction and by ``clear()``: the security headers (checked once,
        when the application was built: ``checked_header_values``, so written here as they
        are).

        Override (calling ``super()``) to add headers; to relax one for a
        handler, set it again in the handler method.
        """
        headers = self._headers
        for name, value in getattr(self.application, "security_headers",
                                   FALLBACK_SECURITY_HEADERS).items():
            headers[name] = value

    def check_etag_header(self):
        """Tornado's check of ``If-None-Match`` against the response's ``ETag``, skipped
        when the response has none (Tornado's answer then is ``False`` too, after parsing
        ``If-None-Match`` for nothing)."""
        if not self._headers.get("Etag"):
            return False
        return super().check_etag_header()

    def set_session_cookie(self, raw_id):
        """Set the session cookie, and the ``_xsrf`` cookie to that session's token."""
        super().set_session_cookie(raw_id)
        self.bind_xsrf_to_session(raw_id)

    def clear_session_cookie(self):
        """Clear the session cookie; the ``_xsrf`` cookie gets a fresh anonymous token."""
        super().clear_session_cookie()
        self.bind_xsrf_to_session(None)

    def set_cookie(self, name, value, *args, **kwargs):
        """Set a cookie; flags default to the application's ``cookie_kwargs``.

        That is ``HttpOnly`` and ``SameSite=Lax`` always, plus ``Secure`` when
        ``SECURE_COOKIES`` is on; pass a flag explicitly to change it for one cookie.
        Signed cookies (``set_signed_cookie``) and the XSRF cookie come through here.
        """
        for flag, default in (self.settings.get("cookie_kwargs") or {}).items():
            kwargs.setdefault(flag, default)
        return super().set_cookie(name, value, *args, **kwargs)

    def get_cookie(self, name, default=None):
        """The request's cookie ``name`` (``default`` when it sent none). The ``Cookie`` header
        is parsed once per request into a plain dict (Tornado's ``parse_cookie``), not into
        Tornado's ``request.cookies``, whose ``SimpleCookie`` builds a ``Morsel`` per cookie
        (most of the cost of reading the session cookie). The signed cookies, the XSRF
        cookie and the flash cookie all come through here."""
        cookies = self.__dict__.get("_request_cookies")
        if cookies is None:
            header = self.request.headers.get("Cookie")
            try:
                cookies = httputil.parse_cookie(header) if header else {}
            except Exception:                      # as Tornado: a bad header sends none
                cookies = {}
            self._request_cookies = cookies
        return cookies.get(name, default)

    #: how many static files' URLs an application keeps (``static_url``)
    STATIC_URLS_KEPT = 1000

    def static_url(self, path, include_host=None, **kwargs):
        """Tornado's ``static_url`` (the file's URL with its content's version), worked out
        once per application and file: Tornado keeps each file's version for the process's
        life anyway (``static_hash_cache``), but joins and normalises its path again on
        every call, five times a page. Not with ``DEBUG`` (``static_hash_cache`` off): a
        changed file then gets its new version at once. The memo is the application's
        ``static_urls`` (``BastionApplication``); another application's handler asks
        Tornado every time."""
        if include_host is None:
            include_host = getattr(self, "include_host", False)
        urls = getattr(self.application, "static_urls", None)   # a BastionApplication's
        if urls is None or include_host or kwargs or \
                not self.settings.get("static_hash_cache", True):
            return super().static_url(path, include_host, **kwargs)
        url = urls.get(path)
        if url is None:
            url = super().static_url(path, False)
            if len(urls) < self.STATIC_URLS_KEPT:
                urls[path] = url
        return url

    def render_string(self, template_name, **kwargs):
        """Render a template from the application's loader (``templates/``, then apps')."""
        self.activate_locale()
        loader = self.settings.get("template_loader")
        if loader is None:
            return super().render_string(template_name, **kwargs)
        template = loader.load(template_name)
        namespace = self.get_template_namespace()
        namespace.update(kwargs)
        return template.generate(**namespace)

    @property
    def time_zone(self):
        """The zone this request shows and takes times in: the user's ``time_zone``, else
        the ``TIME_ZONE`` setting (``core.timezones``)."""
        zone = getattr(self, "_time_zone", None)
        if zone is None:
            zone = self._time_zone = zone_for(self.current_user, self.settings)
        return zone

    def get_template_namespace(self):
        """Names every template sees: Tornado's (``current_user``, ``_``, ``locale``...)
        plus ``settings``, ``registry``, ``permissions``, ``time_zone``, the locale's
        ``format_datetime`` / ``format_date`` / ``format_decimal`` (``core.i18n``, in the
        request's time zone), ``js_messages()`` (the scripts' texts in the request's
        language, for ``<body data-i18n>``) and the page's ``nav_groups`` and ``flashes``."""
        namespace = super().get_template_namespace()
        locale, zone = self.locale, self.time_zone
        namespace.update(settings=self.settings, registry=getattr(self.application,
                                                                  "registry", None),
                         permissions=self.permissions, time_zone=zone,
                         format_datetime=lambda value, seconds=False: i18n.format_datetime(
                             value, locale, zone, seconds),
                         format_date=lambda value: i18n.format_date(value, locale),
                         format_decimal=lambda number: i18n.format_decimal(number, locale),
                         js_messages=lambda: i18n.js_catalog(locale))
        return namespace

    def page_context(self):
        """What ``base.html`` shows around a page, computed once, before rendering (the
        templates only read it): ``nav_groups`` — ``[{"label", "models": [{"label", "url",
        "current"}]}]``, the models the user may read and the apps' pages they may see
        (``AdminSite.navigation``) — and ``flashes``, the messages
        waiting for this browser (taken now, so they show once). Override to add."""
        site = getattr(self.application, "admin_site", None)
        groups = site.navigation(self) if site is not None and self.current_user is not None \
            else []
        flashes = self.get_flashes() if hasattr(self, "get_flashes") else []
        return {"nav_groups": groups, "flashes": flashes}

    def render(self, template_name, **kwargs):
        """A whole page: ``page_context()`` first, then Tornado's ``render``."""
        if getattr(self, "_page_context", None) is None:
            self._page_context = self.page_context()
        return super().render(template_name, **kwargs)

    def write_json(self, data, status=None):
        """Finish with ``data`` as JSON (ObjectId and datetimes become strings)."""
        if status is not None:
            self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(data, default=json_default))

    def get_json_body(self):
        """The request body parsed as a JSON object; 400 if it is not one."""
        try:
            data = json.loads(self.request.body or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise HTTPError(400, self.gettext("The body is not valid JSON: %(reason)s") % {
                "reason": exc}) from None
        if not isinstance(data, dict):
            raise HTTPError(400, self.gettext("The body must be a JSON object."))
        return data
