"""Who is making this request: the session cookie, the user, their permissions.

``BaseHandler`` includes ``CurrentUserMixin``; its ``async prepare()`` runs once
per request and sets:

``self.session``      the ``core.auth.sessions.Session``, or ``None``
``self.current_user`` the user (an object of ``settings.AUTH_USER_MODEL``), or ``None``
``self.permissions``  a ``core.permissions.Permissions`` (empty for anonymous users)

A handler that needs a logged-in user declares it::

    class ReportHandler(BaseHandler):
        login_required = True            # every method

    class MixedHandler(BaseHandler):
        @login_required                  # one method
        async def post(self): ...

An anonymous request to such a handler is redirected to
``LOGIN_URL?next=<path>`` (HTML) or answered 401 ``{"error": ...}`` (``/api/``
paths and clients that ask for JSON). A handler overriding ``prepare`` must
``await super().prepare()`` first.

The user model is found through the registry (``settings.AUTH_USER_MODEL``,
``"accounts.user"``); core never imports the app. It must offer
``get(id, db=)``, ``is_active``, and (for its permissions) ``get_permissions(registry, db=)``.
"""
import functools
import math
import time
from urllib.parse import urlencode

from core.http import HTTPError
from core.i18n import gettext_lazy as _l
from core.permissions import Permissions

from .cache import AuthCache
from .sessions import SessionStore

__all__ = ["CurrentUserMixin", "SESSION_COOKIE", "VerifiedCookies", "login_required"]

SESSION_COOKIE = "bastion_session"
#: the 401 text of an anonymous JSON request, in the request's language (``self.locale``)
AUTHENTICATION_REQUIRED = _l("Authentication required: log in first.")


def login_required(method):
    """Decorate a handler method: anonymous users are sent to log in (or get 401)."""
    @functools.wraps(method)
    async def wrapper(self, *args, **kwargs):
        if self.current_user is None:
            return self.deny_anonymous()
        result = method(self, *args, **kwargs)
        if result is not None and hasattr(result, "__await__"):
            result = await result
        return result
    return wrapper


class VerifiedCookies:
    """Signed session cookie values whose signature was found good, each with the moment it
    was signed: a browser sends the same cookie with every request of its session, and
    checking its HMAC again (Tornado's ``decode_signed_value``, ~10-18 µs) told nothing new.

    Only values signed with ``secret`` and found good are kept (a forged or altered value
    is checked by Tornado every time, so sending them fills nothing); the age limit is
    applied on every use, as Tornado applies it. At most ``size`` values: then it starts
    again. Whether the session itself still exists is not its business (the session store
    reads it)."""

    def __init__(self, secret, size=1024):
        self.secret = secret
        self.size = size
        self._kept = {}                   # {cookie value: (signed at, session id)}

    def session_id(self, value, max_age_days, now=None):
        """The session id in ``value`` if it is kept, ``None`` if it is kept but older than
        ``max_age_days`` (Tornado's rule), ``False`` if it is not kept."""
        kept = self._kept.get(value)
        if kept is None:
            return False
        if kept[0] < (time.time() if now is None else now) - max_age_days * 86400:
            return None
        return kept[1]

    def keep(self, value, session_id):
        """Remember ``value`` (a version-2 signed value Tornado found good: ``2|key
        version|timestamp|name|value|signature``, each field ``length:text``) and its id."""
        try:
            signed_at = int(value.split("|", 3)[2].partition(":")[2])
        except (IndexError, ValueError):
            return
        if len(self._kept) >= self.size:
            self._kept.clear()
        self._kept[value] = (signed_at, session_id)


class CurrentUserMixin:
    """Session authentication for ``tornado.web.RequestHandler`` subclasses."""

    #: every method of the handler needs a logged-in user
    login_required = False
    #: load the session and user in ``prepare`` (off: the request stays anonymous)
    load_user = True

    session = None
    _permissions = None
    #: the auth epoch read with the session, and the cache entry that served this request
    _auth_epoch = None
    _cached_auth = None

    # -- the pieces, each overridable ----------------------------------------------------------
    @property
    def session_store(self):
        """The application's ``SessionStore`` (made once per application)."""
        app = self.application
        store = getattr(app, "session_store", None)
        if store is None or store.db is not self.application.db:
            store = SessionStore.from_settings(app.db, app.settings)
            app.session_store = store
        return store

    def get_user_model(self):
        """The user model class (``settings.AUTH_USER_MODEL``), or ``None`` if not installed."""
        registry = getattr(self.application, "registry", None)
        key = self.settings.get("AUTH_USER_MODEL") or "accounts.user"
        if registry is None:
            return None
        try:
            return registry.get_model(key)
        except LookupError:
            return None

    def get_session_id(self):
        """The session id from the request's signed cookie, or ``None`` (a forged cookie is
        ``None``). The request's cookie does not change, so it is checked once per request
        (the session load and the XSRF token both ask)."""
        cached = self.__dict__.get("_request_session_id", False)
        if cached is not False:
            return cached
        cookie = self.get_cookie(SESSION_COOKIE)
        session_id = None
        if cookie:
            max_age = int(self.settings.get("SESSION_MAX_AGE_SECONDS", 14 * 86400))
            max_age_days = math.ceil(max_age / 86400)
            verified = self.verified_cookies
            session_id = verified.session_id(cookie, max_age_days)
            if session_id is False:
                value = self.get_signed_cookie(SESSION_COOKIE, cookie, max_age_days=max_age_days)
                try:
                    session_id = value.decode("ascii") if value is not None else None
                except UnicodeDecodeError:
                    session_id = None
                if session_id is not None and cookie.startswith("2|"):
                    verified.keep(cookie, session_id)
        self._request_session_id = session_id
        return session_id

    @property
    def verified_cookies(self):
        """The application's ``VerifiedCookies`` for its cookie secret (made once per
        secret)."""
        app = self.application
        secret = app.settings["cookie_secret"]
        verified = getattr(app, "verified_session_cookies", None)
        if verified is None or verified.secret is not secret:
            verified = app.verified_session_cookies = VerifiedCookies(secret)
        return verified

    def set_session_cookie(self, raw_id):
        """Send ``raw_id`` in the signed, HttpOnly, SameSite=Lax (Secure in production) cookie."""
        max_age = int(self.settings.get("SESSION_MAX_AGE_SECONDS", 14 * 86400))
        self.set_signed_cookie(SESSION_COOKIE, raw_id, expires_days=None, max_age=max_age,
                               path="/")

    def clear_session_cookie(self):
        self.clear_cookie(SESSION_COOKIE, path="/")

    async def load_current_user(self):
        """Find the session and its user; return the user or ``None``.

        An expired or unknown session, a missing user or an inactive one is
        anonymous; the session of a missing or inactive user is deleted.
        """
        raw_id = self.get_session_id()
        if raw_id is None:
            return None
        user_model = self.get_user_model()
        if user_model is None:
            return None
        session, self._auth_epoch = await self.session_store.load_with_epoch(raw_id)
        if session is None:
            return None
        cached = self.auth_cache.get(session.key, self._auth_epoch)
        if cached is not None:
            self.session, self._cached_auth = session, cached
            return user_model.from_bson(cached.user_doc, self.application.db)
        user = await user_model.get(session.user_id, db=self.application.db)
        if user is None or not getattr(user, "is_active", False):
            await self.session_store.delete_session(session)
            return None
        self.session = session
        return user

    @property
    def auth_cache(self):
        """The application's ``AuthCache`` (``AUTH_CACHE_SECONDS``; made once)."""
        app = self.application
        cache = getattr(app, "auth_cache", None)
        if cache is None:
            cache = app.auth_cache = AuthCache.from_settings(app.settings)
        return cache

    async def compute_permissions(self, user):
        """The ``Permissions`` of ``user`` (``None``: nobody, may do nothing), read now."""
        registry = getattr(self.application, "registry", None)
        if user is None:
            return Permissions(None, registry=registry)
        get_permissions = getattr(user, "get_permissions", None)
        if get_permissions is not None:
            return await get_permissions(registry, db=self.application.db)
        return await Permissions.for_user(user, None, registry)

    async def request_permissions(self, user):
        """This request's ``Permissions`` of ``user``, from the auth cache when
        ``load_current_user`` found the session there, else ``compute_permissions``
        (then cached for the session's next requests). Called once, by ``prepare``."""
        if self._cached_auth is not None:
            return self._cached_auth.permissions_for(
                user, getattr(self.application, "registry", None))
        permissions = await self.compute_permissions(user)
        if self.session is not None and getattr(user, "to_bson", None) is not None:
            self.auth_cache.put(self.session.key, self._auth_epoch, user.to_bson(), permissions)
        return permissions

    def shared_memo(self):
        """A dict the requests of this session share while the auth cache serves them the
        same built ``Permissions`` (``CachedAuth.shared_with``), for what depends only on the
        user, their grants and data; ``None`` when the cache did not serve this request.
        It lives as long as the cache entry: ``AUTH_CACHE_SECONDS``, the auth epoch (bumped
        by any change to users, roles or grants), the grants' expiry."""
        entry = self._cached_auth
        return entry.shared_with(self.permissions) if entry is not None else None

    @property
    def permissions(self):
        """What the current user may do; computed once per request (in ``prepare``)."""
        if self._permissions is None:
            self._permissions = Permissions(None, registry=getattr(self.application,
                                                                   "registry", None))
        return self._permissions

    @permissions.setter
    def permissions(self, value):
        self._permissions = value

    def get_current_user(self):
        """Tornado's hook; the user is loaded in ``prepare`` (it needs the database)."""
        return None

    def get_login_url(self):
        return self.settings.get("login_url") or self.settings.get("LOGIN_URL") or "/admin/login/"

    def deny_anonymous(self):
        """Answer a request that needs a user: 401 JSON, or a redirect to the login page."""
        if self.wants_json():
            raise HTTPError(401, self.locale.translate(AUTHENTICATION_REQUIRED.msgid))
        url = self.get_login_url()
        next_url = self.request.uri if self.request.method in ("GET", "HEAD") \
            else self.request.path
        self.redirect(f"{url}?{urlencode({'next': next_url})}",
                      status=302 if self.request.method in ("GET", "HEAD") else 303)

    # -- the request lifecycle -------------------------------------------------------------
    async def prepare(self):
        """Load the session, user and permissions once; enforce ``login_required``.

        Called by Tornado before the method. Overrides must ``await super().prepare()``.
        """
        user = await self.load_current_user() if self.load_user else None
        self.current_user = user
        self._permissions = await self.request_permissions(user) if user is not None else None
        if self.login_required and user is None:
            self.deny_anonymous()
