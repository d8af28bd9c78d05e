"""The login pages: log in, log out, change password, register; and the admin landing page.

=========================== ========= ============================================
``/admin/``                 GET       logged in: the models the user may read
``/admin/login/``           GET/POST  the login form (``?next=`` a same-site path)
``/admin/logout/``          POST      ends the session (GET: 405)
``/admin/password_change/`` GET/POST  logged in: old password, new password twice
``/admin/register/``        GET/POST  only with ``ALLOW_REGISTRATION = True`` (else 404)
``/admin/login/verify/``    GET/POST  the second step: a TOTP or recovery code
``/admin/login/enrol/``     GET/POST  the second step when ``REQUIRE_2FA`` obliges a user
                                      without a factor to enrol TOTP first
``/admin/login/passkey/…``  POST      the second step with a passkey: ``options/`` (JSON
                                      request options), then the browser's answer
=========================== ========= ============================================

``auth_routes()`` lists them for ``core.app.make_app``. Forms are WTForms
(``wtforms.Form`` fed by ``FormData``, an adapter over Tornado's request
arguments) and post Tornado's ``_xsrf`` token.

Logging in never tells which usernames exist: an unknown user, a wrong
password and an inactive account get the same message after the same bcrypt
work at ``BCRYPT_ROUNDS`` (``dummy_verify`` for an unknown name; a hash of
another cost is padded, and rehashed when the password is right).
``LoginThrottle`` refuses attempts (429 + ``Retry-After``) before any password
is checked: per (username, client address), per address, with backoff. Password
checks wait for one of ``LOGIN_THROTTLE_CONCURRENCY`` slots (default: CPUs -
1), so a burst of logins cannot take every core from the event loop.

Two-factor login (``core.auth.twofactor``): a right password opens a session only
for a user with no second factor whom ``REQUIRE_2FA`` does not oblige to have one.
Anyone else gets a short-lived, single-purpose login step (a signed cookie naming a
``login_challenges`` document; never a session) and is sent to ``verify/`` (a TOTP
code, a recovery code or a passkey) or ``enrol/`` (scan, confirm one code, see the
recovery codes once). Wrong codes count in ``LoginThrottle`` like wrong passwords,
and a right password does not clear them while the second step is pending. A TOTP
step is accepted once.

Changing one's password ends the user's other sessions and revokes every API
token of the user (``core.auth.tokens``).
"""
import asyncio
import logging
import os
import re
import secrets
from urllib.parse import urlsplit

import wtforms
from tornado.escape import xhtml_escape
from wtforms import validators

from core.audit import REDACTED, audited, diff, record_request, snapshot
from core.audit.api import entry_write
from core.auth.passkeys import (PasskeyError, RelyingParty, from_base64url, passkey_for_log,
                                to_base64url)
from core.auth.passwords import PasswordError, validate_password
from core.auth.sessions import MAX_ID_LENGTH, Session, hash_session_id, utcnow
from core.auth.throttle import LoginThrottle
from core.auth.tokens import TokenStore
from core.auth.twofactor import (LoginChallengeStore, factor_store, is_totp_code,
                                 password_fingerprint, qr_svg_data_uri, requires_second_factor,
                                 totp_uri)
from core.forms import Form, FormData, add_error, render_field  # noqa: F401  (re-exported)
from core.handlers.base import BaseHandler, HTTPError
from core.handlers.flash import FLASH_COOKIE, FlashMixin
from core.i18n import gettext_lazy as _l
from core.models.errors import NON_FIELD_ERRORS, StaleObjectError, ValidationError

__all__ = [
    "FormData", "LoginEnrolHandler", "LoginForm", "LoginHandler", "LoginPasskeyHandler",
    "LoginPasskeyOptionsHandler", "LoginVerifyHandler", "LogoutHandler",
    "PasswordChangeForm", "PasswordChangeHandler", "RegisterForm", "RegisterHandler",
    "auth_routes", "password_slots", "render_field", "safe_next_url",
]

log = logging.getLogger("bastion.auth")

DEFAULT_NEXT = "/admin/"
INVALID_LOGIN = _l("Please enter a correct username and password. Both are case-sensitive.")
INVALID_CODE = _l("That code is not right (or was used already). Enter a new code.")
STEP_EXPIRED = _l("Your login took too long or was finished already: enter your username and "
                  "password again.")
STEP_COOKIE = "bastion_login_step"
STEP_URLS = {"verify": "/admin/login/verify/", "enrol": "/admin/login/enrol/"}
_UNSAFE_NEXT_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
#: the most blank login pages kept (one per template and language; a bound, not a need)
BLANK_PAGE_CACHE_SIZE = 64
#: what stands for a request's own values in a kept blank login page: letters and digits
#: only (escaping leaves them as they are), random per process
BLANK_PAGE_MARKS = {slot: f"bastion{slot}mark{secrets.token_hex(8)}" for slot in ("token", "next")}
BLANK_PAGE_SLOTS = {mark: slot for slot, mark in BLANK_PAGE_MARKS.items()}
BLANK_PAGE_SPLIT = re.compile("(" + "|".join(BLANK_PAGE_SLOTS) + ")")


# -- helpers --------------------------------------------------------------------------------

def safe_next_url(value, default=DEFAULT_NEXT):
    """``value`` if it is a same-site relative path (``/admin/x/?q=1``), else ``default``.

    Refused: anything not starting with one ``/`` (``//evil.com``,
    ``https://evil.com``, ``javascript:...``), backslashes (``/\\evil.com``, which
    browsers read as ``//``), whitespace and control characters (browsers drop
    tabs and newlines inside URLs), and anything with a scheme or host.
    """
    if not isinstance(value, str) or not value or len(value) > 2048:
        return default
    if not value.startswith("/") or value.startswith("//"):
        return default
    if _UNSAFE_NEXT_CHARS.search(value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def password_slots(application):
    """The per-application semaphore bounding password checks that run at once."""
    slots = getattr(application, "password_slots", None)
    if slots is None:
        wanted = int(application.settings.get("LOGIN_THROTTLE_CONCURRENCY", 0) or 0)
        if wanted <= 0:
            wanted = max(1, (os.cpu_count() or 2) - 1)
        slots = asyncio.Semaphore(wanted)
        application.password_slots = slots
    return slots


def login_throttle(application):
    """The application's ``LoginThrottle`` (made once)."""
    throttle = getattr(application, "login_throttle", None)
    if throttle is None or throttle.db is not application.db:
        throttle = LoginThrottle.from_settings(application.db, application.settings)
        application.login_throttle = throttle
    return throttle


# -- forms ----------------------------------------------------------------------------------

class LoginForm(Form):
    username = wtforms.StringField(_l("Username"),
                                   [validators.InputRequired(_l("Enter your username.")),
                                    validators.Length(max=150)])
    password = wtforms.PasswordField(_l("Password"),
                                     [validators.InputRequired(_l("Enter your password.")),
                                      validators.Length(max=1024)])


PASSWORD_HELP = _l("At least 10 characters; not a common password, not all digits, "
                   "not like your username or email.")
PASSWORDS_DIFFER = _l("The two passwords do not match.")


class PasswordChangeForm(Form):
    old_password = wtforms.PasswordField(
        _l("Current password"), [validators.InputRequired(_l("Enter your current password.")),
                                 validators.Length(max=1024)])
    new_password1 = wtforms.PasswordField(
        _l("New password"), [validators.InputRequired(_l("Enter a new password.")),
                             validators.Length(max=1024)],
        description=PASSWORD_HELP)
    new_password2 = wtforms.PasswordField(
        _l("New password (again)"),
        [validators.InputRequired(_l("Enter the new password again.")),
         validators.EqualTo("new_password1", PASSWORDS_DIFFER)])


class CodeForm(Form):
    code = wtforms.StringField(
        _l("Code"), [validators.InputRequired(_l("Enter the code.")), validators.Length(max=64)],
        description=_l("The 6-digit code of your authenticator app, or one of your recovery "
                       "codes."))


class RegisterForm(Form):
    username = wtforms.StringField(
        _l("Username"), [validators.InputRequired(_l("Choose a username.")),
                         validators.Length(max=150)],
        description=_l("Letters, digits and @ . + - _ only."))
    email = wtforms.EmailField(_l("Email"),
                               [validators.InputRequired(_l("Enter your email address.")),
                                validators.Length(max=254)])
    password1 = wtforms.PasswordField(
        _l("Password"), [validators.InputRequired(_l("Choose a password.")),
                         validators.Length(max=1024)],
        description=PASSWORD_HELP)
    password2 = wtforms.PasswordField(
        _l("Password (again)"), [validators.InputRequired(_l("Enter the password again.")),
                                 validators.EqualTo("password1", PASSWORDS_DIFFER)])


# -- handlers -------------------------------------------------------------------------------

class AuthHandler(FlashMixin, BaseHandler):
    """Shared by the login pages: the user model, the throttle, the form helpers, flashes
    (the login page shows the one a password reset leaves)."""

    def set_default_headers(self):
        super().set_default_headers()
        self.set_header("Cache-Control", "no-store")     # forms and per-user pages

    def get_template_namespace(self):
        namespace = super().get_template_namespace()
        namespace.update(render_field=render_field)
        return namespace

    def require_user_model(self):
        model = self.get_user_model()
        if model is None:
            raise HTTPError(503, self.gettext(
                "Logging in is not available: no user model is installed "
                "(settings.AUTH_USER_MODEL = %(model)s).") % {
                "model": repr(self.settings.get("AUTH_USER_MODEL"))})
        return model

    @property
    def throttle(self):
        return login_throttle(self.application)

    @property
    def login_steps(self):
        """The application's ``LoginChallengeStore`` (``LOGIN_CHALLENGE_SECONDS``)."""
        store = getattr(self.application, "login_steps", None)
        if store is None or store.db is not self.db:
            store = LoginChallengeStore(self.db, int(self.settings.get(
                "LOGIN_CHALLENGE_SECONDS", 300)))
            self.application.login_steps = store
        return store

    @property
    def bcrypt_rounds(self):
        """The application's ``BCRYPT_ROUNDS`` (None: ``core.conf.settings``'s)."""
        return self.application.settings.get("BCRYPT_ROUNDS")

    def next_url(self):
        raw = self.get_body_argument("next", None) if self.request.method == "POST" else None
        if raw is None:
            raw = self.get_query_argument("next", None)
        return safe_next_url(raw)

    def refuse_throttled(self, verdict):
        """Set 429 and ``Retry-After``; answer JSON clients at once (returns True then).

        For HTML the caller renders its form with ``verdict.message``.
        """
        self.set_status(429)
        self.set_header("Retry-After", str(verdict.retry_after))
        if self.wants_json():
            self.write_json({"error": verdict.message, "retry_after": verdict.retry_after})
            return True
        return False

    async def throttled_check(self, username, check, forgive=True):
        """Run the password check ``check()`` (a coroutine function) under the throttle.

        Returns ``(verdict, result)``; when ``verdict.blocked`` the password was
        not checked and ``result`` is ``None``. The check waits for a password
        slot (``password_slots``); the throttle is asked once the slot is held and a
        failure is recorded before it is released, so guesses queued behind a failing
        one see its failure. When every slot is taken the throttle is also asked
        before queueing, so a refused attempt does not wait for a slot; a free slot is
        taken without a yield, so asking before it too would read the same failures
        again. A falsy result is a failure; a truthy one clears the failures of this
        username from this address, unless ``forgive`` is false (a right password with
        a second step still to come: the caller forgives when the session starts). The
        address is ``request.remote_ip`` (the proxy's headers with ``XHEADERS``).
        """
        ip = self.request.remote_ip
        # each check reads on the event loop's thread (the embedded store): the loop runs
        # what else is ready between the request's parsing and the checks, and between
        # them and the password check, instead of one stretch of both
        await asyncio.sleep(0)
        slots = password_slots(self.application)
        if slots.locked():
            verdict = await self.throttle.check(username, ip)     # refuse without queueing
            if verdict.blocked:
                return verdict, None
        async with slots:
            verdict = await self.throttle.check(username, ip)
            if verdict.blocked:
                return verdict, None
            await asyncio.sleep(0)
            result = await check()
            if not result:
                await self.throttle.failed(username, ip)
        if result and forgive:
            await self.throttle.succeeded(username, ip, verdict)
        return verdict, result

    async def audit(self, action, **kw):
        """Record ``action`` in the audit log (``core.audit``); a failure to record is
        logged, never shown to the user."""
        try:
            await record_request(self, action, **kw)
        except Exception:
            log.exception("could not record %s in the audit log", action)

    def session_data(self):
        """What a new session records of the browser (the account page lists it)."""
        return {"address": self.request.remote_ip or "",
                "user_agent": (self.request.headers.get("User-Agent") or "")[:300]}

    async def start_session(self, user, audit_detail=None, audit=True):
        """Log ``user`` in: discard any session the browser brought, store a new one (a new
        id), set the user's ``last_login`` and record the ``login`` audit entry
        (``audit_detail``; ``audit=False``: none) — one database call
        (``Database.write_each``). A failure to store the session or ``last_login`` raises
        (the entry is then not recorded); a failure to record the entry is logged, never
        shown to the user (as ``audit``)."""
        store, now = self.session_store, utcnow()
        writes = []
        old = self.get_session_id()
        if old is not None and len(old) <= MAX_ID_LENGTH:
            writes.append((store.collection.name, "delete_one", {"_id": hash_session_id(old)}))
        raw_id, document = store.new_document(user.id, self.session_data(), now)
        writes += [(store.collection.name, "insert_one", document),
                   (type(user).get_collection(self.db).name, "update_one", {"_id": user.id},
                    {"$set": {"last_login": now}})]
        entry = None
        if audit:
            try:
                entry, write = entry_write(action="login", actor=user,
                                           ip=self.request.remote_ip, detail=audit_detail)
                writes.append(write)
            except Exception:
                log.exception("could not record %s in the audit log", "login")
        results = await self.db.write_each(writes)
        for result in results[:len(writes) - (entry is not None)]:
            if isinstance(result, Exception):
                raise result
        if entry is not None:
            if isinstance(results[-1], Exception):
                log.error("could not record %s in the audit log", "login",
                          exc_info=results[-1])
            else:
                entry.inserted(self.db)
        session = Session.from_document(document)
        self.set_session_cookie(raw_id)
        self.session = session
        self.current_user = user
        return session


class LoginHandler(AuthHandler):
    """``/admin/login/``: the username/password form.

    The blank page (nobody logged in, no flash waiting, no error, empty fields) is drawn
    once per template and language and kept by the application, with marks where a
    request's own values go — its XSRF token and ``next`` — which are filled in (escaped)
    on every view: a login storm's page views then cost the event loop no template. It
    holds nothing of any request (``blank_page``)."""

    template = "admin/login.html"
    #: keep the blank page (see the class's docstring); False in a subclass whose template
    #: shows anything else that varies by request
    cache_blank_page = True
    _drawing_blank_page = False

    @property
    def xsrf_token(self):
        """The response's XSRF token; the token's mark while the blank page is drawn."""
        if self._drawing_blank_page:
            return BLANK_PAGE_MARKS["token"].encode("ascii")
        return super().xsrf_token

    def render_form(self, form, error=None, blank=False):
        """Render the page; ``blank``: ``form`` is a fresh, empty form (the kept page
        is served when ``blank_page`` has one)."""
        if blank and error is None:
            page = self.blank_page()
            if page is not None:
                return self.finish(page)
        self.render(self.template, form=form, error=error, next_url=self.next_url())

    def blank_page(self):
        """This request's blank page from the application's cache (drawn on first use:
        ``draw_blank_page``), or ``None`` when it may not be kept: someone is logged in, a
        flash waits, templates are re-read on each use (``DEBUG``) or ``cache_blank_page``
        is off. The cache is keyed by template and language only, holds at most
        ``BLANK_PAGE_CACHE_SIZE`` pages and lives as long as the application."""
        loader = self.settings.get("template_loader")
        if not self.cache_blank_page or self.current_user is not None or \
                self.get_cookie(FLASH_COOKIE) is not None or self.settings.get("DEBUG") or \
                not getattr(loader, "cache", False):
            return None
        cache = self.application.__dict__.setdefault("blank_login_pages", {})
        key = (self.template, self.locale.code)
        parts = cache.get(key)
        if parts is None:
            parts = self.draw_blank_page()
            if parts is None:
                return None
            if len(cache) >= BLANK_PAGE_CACHE_SIZE:
                cache.clear()
            cache[key] = parts
        values = {"token": xhtml_escape(self.xsrf_token),
                  "next": xhtml_escape(self.next_url())}
        return "".join(values[BLANK_PAGE_SLOTS[part]] if index % 2 else part
                       for index, part in enumerate(parts))

    def draw_blank_page(self):
        """The blank page as ``[text, mark, text, mark, ..., text]``, drawn as ``render``
        would with marks for the XSRF token and ``next``; ``None`` when the template's UI
        modules add scripts or styles (the page is then rendered on every view)."""
        self._drawing_blank_page = True
        try:
            self._page_context = self.page_context()
            html = self.render_string(self.template, form=LoginForm(), error=None,
                                      next_url=BLANK_PAGE_MARKS["next"])
            modules = list(getattr(self, "_active_modules", {}).values())
        finally:
            self._drawing_blank_page = False
        for module in modules:
            if any(getattr(module, name)() for name in (
                    "embedded_javascript", "javascript_files", "embedded_css", "css_files",
                    "html_head", "html_body")):
                return None
        return BLANK_PAGE_SPLIT.split(html.decode("utf-8"))

    def get(self):
        self.require_user_model()
        self.render_form(LoginForm(), blank=True)

    async def post(self):
        user_model = self.require_user_model()
        form = LoginForm(FormData(self))
        if not form.validate():
            return self.render_form(form)
        username, password = form.username.data, form.password.data
        verdict, user = await self.throttled_check(
            username, lambda: user_model.authenticate(username, password, db=self.db,
                                                      rounds=self.bcrypt_rounds))
        if verdict.blocked:
            if not self.refuse_throttled(verdict):
                self.render_form(form, error=verdict.message)
            return
        if user is None:
            # name the account only if it exists: an unknown "username" may be a
            # password typed into the wrong box, and must not be stored in clear
            known = await user_model.get_by_username(username, db=self.db)
            await self.audit("login_failed", actor=username if known else "(unknown user)",
                             detail="wrong username or password")
            if self.wants_json():
                raise HTTPError(401, INVALID_LOGIN)
            return self.render_form(form, error=INVALID_LOGIN)
        purpose = await self.second_step(user)
        if purpose is not None:
            raw_id = await self.login_steps.create(user.id, purpose, self.next_url(),
                                                   password_fingerprint(user.password))
            self.set_signed_cookie(STEP_COOKIE, raw_id, expires_days=None,
                                   max_age=int(self.login_steps.lifetime.total_seconds()),
                                   path="/admin/login/")
            if self.wants_json():
                return self.write_json({"status": "second factor required",
                                        "url": STEP_URLS[purpose]})
            return self.redirect(STEP_URLS[purpose], status=303)
        # the post's longest stretches on the event loop are the second-factor question
        # (read on the loop's thread) with the writes' making, and the session's cookie with
        # the answer's write (~0.5 ms of CPU each): other requests ready meanwhile run in
        # between (asyncio.sleep(0) lets the loop run what is ready, then resumes)
        await asyncio.sleep(0)
        await self.throttle.succeeded(username, self.request.remote_ip, verdict)
        await self.start_session(user)
        await asyncio.sleep(0)
        self.redirect(self.next_url(), status=303)

    async def throttled_check(self, username, check, forgive=False):
        """The password check forgives the pair's failures only once a session starts."""
        return await super().throttled_check(username, check, forgive=forgive)

    async def second_step(self, user):
        """``"verify"`` (the user has a factor), ``"enrol"`` (``REQUIRE_2FA`` obliges them to
        get one) or ``None`` (log in now). Called after a right password; override to
        change who is asked."""
        if await factor_store(self.application).has_factor(user.id):
            return "verify"
        policy = self.settings.get("REQUIRE_2FA", "off")
        if policy != "off":
            permissions = await self.compute_permissions(user)
            if requires_second_factor(policy, permissions):
                return "enrol"
        return None


class LoginStepHandler(AuthHandler):
    """Base of the second login step: the pending step of ``purpose`` from the signed cookie.

    No session exists yet; ``self.step`` and ``self.step_user`` are set in ``prepare``
    (``None`` when the step is missing, expired, or its user changed password or was
    deactivated — the page then asks for the password again).
    """

    purpose = None
    load_user = False
    step = step_user = None

    async def prepare(self):
        await super().prepare()
        user_model = self.require_user_model()
        raw_id = self.get_signed_cookie(STEP_COOKIE, max_age_days=1)
        step = await self.login_steps.load(raw_id.decode("ascii", "replace") if raw_id
                                           else None, self.purpose)
        if step is None:
            return
        user = await user_model.get(step.user_id, db=self.db)
        if user is None or not user.is_active or \
                password_fingerprint(user.password) != step.fingerprint:
            await self.login_steps.consume(step)
            return
        self.step, self.step_user = step, user

    def expired(self):
        """Answer a request whose step is gone: back to the password form."""
        self.clear_cookie(STEP_COOKIE, path="/admin/login/")
        if self.wants_json():
            raise HTTPError(401, STEP_EXPIRED)
        if self.request.method in ("GET", "HEAD"):
            return self.redirect(self.get_login_url(), status=303)
        self.render("admin/login.html", form=LoginForm(), error=STEP_EXPIRED,
                    next_url=DEFAULT_NEXT)

    async def finish_login(self, detail):
        """The second step passed: end the step (once), open the session, audit the login.
        False when another request finished this step first."""
        if not await self.login_steps.consume(self.step):
            return False
        self.clear_cookie(STEP_COOKIE, path="/admin/login/")
        await self.throttle.succeeded(self.step_user.username, self.request.remote_ip)
        await self.start_session(self.step_user, audit_detail=detail)
        return True

    async def refuse_code(self, form, verdict, render):
        """Answer a throttled or wrong code (recorded in the audit log)."""
        if verdict.blocked:
            if not self.refuse_throttled(verdict):
                render(form, error=verdict.message)
            return
        await self.audit("login_failed", actor=self.step_user.username,
                         detail=f"wrong second-factor code ({self.purpose} step)")
        if self.wants_json():
            raise HTTPError(401, INVALID_CODE)
        add_error(form, "code", INVALID_CODE)
        render(form)


class LoginVerifyHandler(LoginStepHandler):
    """``/admin/login/verify/``: the TOTP code (or a recovery code) after the password."""

    purpose = "verify"
    template = "admin/login_verify.html"

    def render_form(self, form, error=None):
        summary = getattr(self, "_summary", None) or {}
        self.render(self.template, form=form, error=error, has_totp=summary.get("totp"),
                    has_passkey=bool(summary.get("passkeys")))

    async def load_summary(self):
        self._summary = await factor_store(self.application).summary(self.step_user.id)

    async def get(self):
        if self.step is None:
            return self.expired()
        await self.load_summary()
        self.render_form(CodeForm())

    async def post(self):
        if self.step is None:
            return self.expired()
        await self.load_summary()
        form = CodeForm(FormData(self))
        if not form.validate():
            return self.render_form(form)
        store, user_id, code = factor_store(self.application), self.step_user.id, form.code.data

        async def check():
            if is_totp_code(code):
                return "TOTP code" if await store.verify_totp(user_id, code) else None
            if await store.use_recovery_code(user_id, code):
                return "recovery code"
            return None

        verdict, used = await self.throttled_check(self.step_user.username, check)
        if verdict.blocked or not used:
            return await self.refuse_code(form, verdict, self.render_form)
        if used == "recovery code":
            left = (await store.summary(user_id))["recovery_codes"]
            used = f"recovery code ({left} left)"
        if not await self.finish_login(f"second factor: {used}"):
            return self.expired()
        if self.wants_json():
            return self.write_json({"status": "logged in"})
        self.redirect(self.step.next_url, status=303)


class LoginPasskeyOptionsHandler(LoginStepHandler):
    """``/admin/login/passkey/options/``: POST (JSON, ``X-XSRFToken``) answers the WebAuthn
    request options for the pending step's user's passkeys; the challenge is kept on the
    step (a new request replaces it)."""

    purpose = "verify"

    async def post(self):
        if self.step is None:
            raise HTTPError(401, STEP_EXPIRED)
        passkeys = await factor_store(self.application).passkeys(self.step_user.id)
        if not passkeys:
            raise HTTPError(409, self.gettext("You have no passkey; enter a code instead."))
        options, challenge = RelyingParty.for_request(self).authentication_options(passkeys)
        await self.login_steps.set_data(self.step, passkey_challenge=to_base64url(
            challenge))
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(options)


class LoginPasskeyHandler(LoginStepHandler):
    """``/admin/login/passkey/``: POST ``{"credential": ...}`` (the browser's answer); a
    right one ends the step and opens the session: ``{"status": "logged in", "next": URL}``.
    A wrong one counts in the throttle like a wrong code (401)."""

    purpose = "verify"

    async def post(self):
        if self.step is None:
            raise HTTPError(401, STEP_EXPIRED)
        body = self.get_json_body()
        challenge = self.step.data.get("passkey_challenge")
        if not challenge:
            raise HTTPError(409, self.gettext("Ask for the passkey options first."))
        await self.login_steps.set_data(self.step, passkey_challenge=None)   # used once
        store, user = factor_store(self.application), self.step_user
        credential = body.get("credential")
        credential_id = credential.get("id") if isinstance(credential, dict) else None
        passkeys = {p["credential_id"]: p for p in await store.passkeys(user.id)}

        async def check():
            passkey = passkeys.get(credential_id) if isinstance(credential_id, str) else None
            if passkey is None:
                return None
            try:
                count = RelyingParty.for_request(self).verify_authentication(
                    credential, from_base64url(challenge), passkey)
            except PasskeyError as exc:
                log.info("passkey refused for %s: %s", user.username, exc.for_log())
                return None
            return passkey if await store.claim_sign_count(passkey, count) else None

        verdict, passkey = await self.throttled_check(user.username, check)
        if verdict.blocked:
            self.refuse_throttled(verdict)
            return
        if passkey is None:
            await self.audit("login_failed", actor=user.username,
                             detail="passkey not accepted (verify step)")
            raise HTTPError(401, self.gettext(
                "That passkey was not accepted. Try again or enter a code."))
        if not await self.finish_login(f"second factor: {passkey_for_log(passkey)}"):
            raise HTTPError(401, STEP_EXPIRED)
        self.write_json({"status": "logged in", "next": self.step.next_url})


class LoginEnrolHandler(LoginStepHandler):
    """``/admin/login/enrol/``: ``REQUIRE_2FA`` obliges this user to set up TOTP before any
    session: scan the code, confirm one code, see the recovery codes once, go on."""

    purpose = "enrol"

    def render_form(self, form, error=None, secret=None):
        self.render("admin/totp_enrol.html", form=form, error=error, secret=secret,
                    qr_data_uri=qr_svg_data_uri(self.provisioning_uri(secret)),
                    action=STEP_URLS["enrol"], at_login=True)

    def provisioning_uri(self, secret):
        issuer = self.settings.get("TOTP_ISSUER") or "Bastion"
        return totp_uri(secret, self.step_user.username, issuer)

    async def get(self):
        if self.step is None:
            return self.expired()
        secret = await factor_store(self.application).start_totp(self.step_user.id)
        self.render_form(CodeForm(), secret=secret)

    async def post(self):
        if self.step is None:
            return self.expired()
        store, user = factor_store(self.application), self.step_user
        secret = await store.start_totp(user.id)
        form = CodeForm(FormData(self))
        if not form.validate():
            return self.render_form(form, secret=secret)
        verdict, confirmed = await self.throttled_check(
            user.username, lambda: store.confirm_totp(user.id, form.code.data))
        if verdict.blocked or not confirmed:
            return await self.refuse_code(
                form, verdict, lambda form, error=None: self.render_form(form, error, secret))
        codes = await store.new_recovery_codes(user.id)
        if not await self.finish_login("second factor: TOTP enrolled at login (REQUIRE_2FA)"):
            return self.expired()
        await self.audit("twofactor_enrol", obj=user,
                         detail=f"TOTP enrolled at login (REQUIRE_2FA); {len(codes)} "
                                "recovery codes made")
        self.render("admin/recovery_codes.html", codes=codes, next_url=self.step.next_url,
                    at_login=True)


class LogoutHandler(AuthHandler):
    """``/admin/logout/``: POST ends the session; there is no GET (405)."""

    async def post(self):
        if self.current_user is not None:
            await self.audit("logout")
        raw_id = self.get_session_id()
        if raw_id is not None:
            await self.session_store.delete(raw_id)
        self.clear_session_cookie()
        self.session = None
        self.current_user = None
        if self.wants_json():
            return self.write_json({"status": "logged out"})
        self.redirect(self.get_login_url(), status=303)


class PasswordChangeHandler(AuthHandler):
    """``/admin/password_change/``: ends the user's other sessions, rotates this one, and
    revokes the user's API tokens (a stolen password's tokens die with it)."""

    template = "admin/password_change.html"
    login_required = True

    def render_form(self, form, error=None, done=False):
        self.render(self.template, form=form, error=error, done=done)

    def get(self):
        self.render_form(PasswordChangeForm(), done=self.get_query_argument("done", "") == "1")

    async def post(self):
        user = self.current_user
        form = PasswordChangeForm(FormData(self))
        if not form.validate():
            return self.render_form(form)
        new = form.new_password1.data
        try:
            validate_password(new, username=user.username, email=getattr(user, "email", None))
        except PasswordError as exc:
            for message in exc.messages:
                add_error(form, "new_password1", message)
            return self.render_form(form)
        verdict, right = await self.throttled_check(
            user.username, lambda: user.check_password(form.old_password.data,
                                                       self.bcrypt_rounds))
        if verdict.blocked:
            if not self.refuse_throttled(verdict):
                self.render_form(form, error=verdict.message)
            return
        if not right:                    # counted against the username, like a login
            add_error(form, "old_password",
                      self.gettext("Your current password was entered incorrectly."))
            return self.render_form(form)
        async with audited(self, "password_change", obj=user) as entry:
            await self.save_password(user, new)
            revoked = await TokenStore(self.db).revoke_for_user(user.id)
            await self.session_store.delete_for_user(user.id, keep=self.session)
            entry.changes = {"password": {"before": REDACTED, "after": REDACTED}}
            entry.detail = (f"changed at /admin/password_change/; other sessions ended, "
                            f"{revoked} API token{'' if revoked == 1 else 's'} revoked")
        raw_id, self.session = await self.session_store.rotate(self.session)
        self.set_session_cookie(raw_id)
        self.redirect(self.request.path + "?done=1", status=303)

    async def save_password(self, user, new):
        async with password_slots(self.application):
            for attempt in range(3):
                await user.set_password(new, validate=False, rounds=self.bcrypt_rounds)
                try:
                    return await user.save(db=self.db)
                except StaleObjectError:       # saved by someone else meanwhile: redo on top
                    await user.reload(db=self.db)
            raise HTTPError(409, self.gettext("Your account was changed meanwhile; try again."))


class RegisterHandler(AuthHandler):
    """``/admin/register/``: self sign-up, only when ``ALLOW_REGISTRATION`` is true.

    Creates an active, non-superuser account with ``DEFAULT_PERMISSIONS`` and
    logs it in.
    """

    template = "admin/register.html"

    async def prepare(self):
        if not self.settings.get("ALLOW_REGISTRATION", False):
            raise HTTPError(404, self.gettext("Page not found."))
        await super().prepare()

    def render_form(self, form):
        self.render(self.template, form=form)

    def get(self):
        self.require_user_model()
        self.render_form(RegisterForm())

    async def post(self):
        user_model = self.require_user_model()
        form = RegisterForm(FormData(self))
        if not form.validate():
            return self.render_form(form)
        username, email = form.username.data.strip(), form.email.data.strip()
        password = form.password1.data
        try:
            validate_password(password, username=username, email=email)
        except PasswordError as exc:
            for message in exc.messages:
                add_error(form, "password1", message)
            return self.render_form(form)
        permissions = dict(self.settings.get("DEFAULT_PERMISSIONS") or {})
        user = user_model(username=username, email=email, permissions=permissions,
                          is_superuser=False, is_active=True)
        try:
            async with audited(self, "create", obj=user, actor=user,
                               detail="registered at /admin/register/ (and logged in)") as entry:
                user.clean()
                async with password_slots(self.application):
                    await user.set_password(password, validate=False, rounds=self.bcrypt_rounds)
                await user.save(db=self.db)
                shown = [name for name, field in user._meta.fields.items()
                         if not getattr(field, "hidden", False)]
                entry.changes = diff({}, snapshot(user, fields=shown))
        except ValidationError as exc:   # UniqueError included: a taken username or email
            for name, message in exc.errors.items():
                add_error(form, name if name in ("username", "email") else NON_FIELD_ERRORS,
                          message)
            return self.render_form(form)
        await self.start_session(user, audit=False)      # its "create" entry says it all
        self.redirect(DEFAULT_NEXT, status=303)


def auth_routes():
    """The URL specs of the login, logout, password and registration pages."""
    return [
        (r"/admin/login/", LoginHandler),
        (r"/admin/logout/", LogoutHandler),
        (r"/admin/password_change/", PasswordChangeHandler),
        (r"/admin/register/", RegisterHandler),
        (r"/admin/login/verify/", LoginVerifyHandler),
        (r"/admin/login/enrol/", LoginEnrolHandler),
        (r"/admin/login/passkey/options/", LoginPasskeyOptionsHandler),
        (r"/admin/login/passkey/", LoginPasskeyHandler),
    ]


async def ensure_auth_indexes(db, settings):
    """Create the ``sessions``, ``login_failures``, ``auth_factors`` and ``login_challenges``
    indexes (TTL cleanup included)."""
    from core.auth.sessions import SessionStore
    from core.auth.twofactor import FactorStore
    names = await SessionStore.from_settings(db, settings).ensure_indexes()
    names += await LoginThrottle.from_settings(db, settings).ensure_indexes()
    names += await FactorStore(db).ensure_indexes()
    names += await LoginChallengeStore(db).ensure_indexes()
    return names
