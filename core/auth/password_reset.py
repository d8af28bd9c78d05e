"""Password reset by e-mail: Django's flow, hardened.

================================================ ========= ===================================
``/admin/password_reset/``                       GET/POST  the e-mail form; always answers
                                                           with a redirect to ``done/``
``/admin/password_reset/done/``                  GET       "if an account has that address,
                                                           a link is on its way"
``/admin/password_reset/<uid>/<token>/``         GET       the mailed link: checks the token,
                                                           moves it into a cookie, redirects
``/admin/password_reset/<uid>/set-password/``    GET/POST  the new-password form
================================================ ========= ===================================

``password_reset_routes()`` lists them for ``core.app.make_app``.

Asking: the typed address is looked up with the user model's ``get_by_email`` (identity
keys: any case, width or look-alike spelling). Only an active user with a usable password
is mailed, and always at the address *stored* on the account, never the one typed (a
look-alike address finds the account but cannot receive its link). Whether or not an
account matched, the answer is the same redirect after the same work (the mail is built in
both cases and sent in the background by ``core.mail``), so neither the page nor its
timing tells who has an account. Requests are counted per address (any client), per
client address and per pair (``ResetThrottle``, on ``core.auth.throttle``), hit or miss.

The link: ``SITE_URL`` (else the request's scheme and host; behind a proxy with
``XHEADERS`` the proxy's scheme) + ``/admin/password_reset/<user id>/<token>/``, valid
``PASSWORD_RESET_SECONDS`` (``core.auth.reset_tokens``: bound to the password hash, last
login and e-mail address, so setting the password, logging in or changing the address
kills it). Its first GET moves the token into a signed, HttpOnly cookie and redirects to a
URL without it, so the token is not in the page's URL, history or a Referer; every page
here also sends ``Referrer-Policy: no-referrer``. An unknown user, a wrong, used or expired
token and a malformed link all get the same "invalid link" page (400).

Setting the password runs the password validators, saves (a concurrent reset with the
same link loses: the first one changed the hash), ends every session and revokes every API
token of the user (``User.end_access``), records a ``password_reset`` audit entry, and
redirects to the login page with a flash. The user is not logged in.

The user model (``settings.AUTH_USER_MODEL``, found through the registry) must offer
``get_by_email(address, db=)``, ``get(id, db=)``, ``is_active``, ``password``,
``last_login``, ``email``, ``set_password(raw, validate=, rounds=)``, ``save(db=)`` and
``end_access(db)``; ``has_usable_password`` if it has one.
"""
import logging
import re

import wtforms
from bson import ObjectId
from wtforms import validators

from core import i18n
from core.audit import REDACTED, audited, register_action
from core.auth.handlers import AuthHandler, password_slots
from core.auth.passwords import PasswordError, validate_password
from core.auth.reset_tokens import ResetTokens
from core.auth.sessions import utcnow
from core.auth.throttle import SCOPE_USER, LoginThrottle, Verdict, username_key
from core.forms import Form, FormData, add_error
from core.i18n import gettext_lazy as _l
from core.mail import mailer_for
from core.models.errors import StaleObjectError

__all__ = ["PasswordResetConfirmHandler", "PasswordResetDoneHandler", "PasswordResetForm",
           "PasswordResetHandler", "ResetThrottle", "SetPasswordForm", "SetPasswordHandler",
           "password_reset_routes"]

log = logging.getLogger("bastion.auth")

PREFIX = "/admin/password_reset/"          # the cookie's path; the routes are named below
RESET_COOKIE = "bastion_reset"
REQUESTS_COLLECTION = "password_reset_requests"
UID_RE = re.compile(r"^[0-9a-f]{24}$")
SIMPLE_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+$")
DONE_FLASH = _l("Your password has been set. You may log in now.")

register_action("password_reset", "Password reset")


class ResetThrottle(LoginThrottle):
    """``LoginThrottle`` counting reset requests (every one, not only failures): per
    address from any client (``address_limit``), per pair and per client address
    (``ip_limit``), in the ``password_reset_requests`` collection. A scope over its limit
    waits until its latest request leaves the window."""

    def __init__(self, db, address_limit=3, ip_limit=20, window_seconds=3600):
        super().__init__(db, pair_limit=address_limit, ip_limit=ip_limit,
                         window_seconds=window_seconds, base_delay=window_seconds,
                         attack_limit=0, collection=REQUESTS_COLLECTION)
        self.address_limit = int(address_limit)

    async def check(self, address, ip, now=None):
        now = now or utcnow()
        wait = await self._retry_after(SCOPE_USER, username_key(address), self.address_limit,
                                       now)
        if wait:
            return Verdict(True, wait, "address")
        return await super().check(address, ip, now)

    async def record(self, address, ip, now=None):
        """Count one request for ``address`` from ``ip``."""
        await self.failed(address, ip, now)


def throttled_message(verdict):
    minutes = max(1, -(-verdict.retry_after // 60))
    return i18n.ngettext("Too many password reset requests. Try again in %(count)d minute.",
                         "Too many password reset requests. Try again in %(count)d minutes.",
                         minutes) % {"count": minutes}


# -- forms ----------------------------------------------------------------------------------
class PasswordResetForm(Form):
    email = wtforms.EmailField(
        _l("Email"),
        [validators.DataRequired(_l("Enter your email address.")),
         validators.Length(max=254, message=_l("Enter at most 254 characters.")),
         validators.Regexp(SIMPLE_ADDRESS, message=_l("Enter a valid email address."))],
        filters=[lambda value: value.strip() if isinstance(value, str) else value])


class SetPasswordForm(Form):
    new_password1 = wtforms.PasswordField(
        _l("New password"), [validators.InputRequired(_l("Enter a new password.")),
                             validators.Length(max=1024)],
        description=_l("At least 10 characters; not a common password, not all digits, "
                       "not like your username or email."))
    new_password2 = wtforms.PasswordField(
        _l("New password (again)"),
        [validators.InputRequired(_l("Enter the new password again.")),
         validators.EqualTo("new_password1", _l("The two passwords do not match."))])


class StandIn:
    """What the mail is built for when no account may be mailed (the same work)."""

    def __init__(self, address):
        self.id = ObjectId()
        self.username = address.partition("@")[0]
        self.email = address
        self.password = ""
        self.last_login = None


# -- handlers -------------------------------------------------------------------------------
class PasswordResetBase(AuthHandler):
    """Shared by the reset pages: no Referer leaves them; the token checker."""

    invalid_template = "admin/password_reset_invalid.html"

    def set_default_headers(self):
        super().set_default_headers()
        self.set_header("Referrer-Policy", "no-referrer")

    @property
    def tokens(self):
        return ResetTokens(self.settings.get("cookie_secret"),
                           max_age=int(self.settings.get("PASSWORD_RESET_SECONDS") or 3600))

    async def user_for(self, uid, token):
        """The user of a valid (``uid``, ``token``) pair, else ``None``."""
        user_model = self.get_user_model()
        if user_model is None or not isinstance(uid, str) or not UID_RE.match(uid):
            return None
        user = await user_model.get(uid, db=self.db)
        if user is None or not self.may_reset(user) or not self.tokens.check(user, token):
            return None
        return user

    def may_reset(self, user):
        """Whether ``user`` may reset their password: active, with a usable password
        (an account made without one is not given one by mail). Override to narrow."""
        return bool(getattr(user, "is_active", False)) and \
            bool(getattr(user, "has_usable_password", True))

    def invalid(self):
        """The page of a link that is malformed, unknown, used or expired (400)."""
        self.clear_cookie(RESET_COOKIE, path=PREFIX)
        self.set_status(400)
        if self.wants_json():
            return self.write_json({"error": self.gettext(
                "This password reset link is invalid or has expired.")})
        self.render(self.invalid_template, reset_url=self.reverse_url("password_reset"))


class PasswordResetHandler(PasswordResetBase):
    """``/admin/password_reset/``: the e-mail form."""

    template = "admin/password_reset_form.html"
    mail_subject = i18n.gettext_lazy("Reset your Bastion password")
    mail_text_template = "mail/password_reset.txt"
    mail_html_template = "mail/password_reset.html"
    #: requests counted within ``requests_window`` seconds: per address from any client,
    #: and per client address for any address
    requests_per_address = 3
    requests_per_client = 20
    requests_window = 3600
    warned_site_url = False

    def render_form(self, form, error=None):
        self.render(self.template, form=form, error=error)

    def get_throttle(self):
        """The ``ResetThrottle`` of this page's ``requests_*`` limits (cheap: no I/O)."""
        return ResetThrottle(self.db, self.requests_per_address, self.requests_per_client,
                             self.requests_window)

    def get(self):
        self.require_user_model()
        self.render_form(PasswordResetForm())

    async def post(self):
        user_model = self.require_user_model()
        form = PasswordResetForm(FormData(self))
        if not form.validate():
            return self.render_form(form)
        address = form.email.data
        throttle, ip = self.get_throttle(), self.request.remote_ip
        verdict = await throttle.check(address, ip)
        if verdict.blocked:
            self.set_status(429)
            self.set_header("Retry-After", str(verdict.retry_after))
            return self.render_form(form, error=throttled_message(verdict))
        await throttle.record(address, ip)
        user = await user_model.get_by_email(address, db=self.db)
        if user is not None and self.may_reset(user):
            mailer_for(self.application).send_later(self.reset_message(user))
        else:
            self.reset_message(StandIn(address))        # the same work, nothing sent
        self.redirect(self.reverse_url("password_reset_done"), status=303)

    def site_url(self):
        """``SITE_URL``, else this request's scheme and host (``XHEADERS``: the proxy's)."""
        configured = self.settings.get("SITE_URL")
        if configured:
            return configured.rstrip("/")
        if not self.settings.get("DEBUG") and not PasswordResetHandler.warned_site_url:
            PasswordResetHandler.warned_site_url = True         # once per process
            log.warning("SITE_URL is not set: password reset links are built from the "
                        "request's Host header (%r), which the client chooses; set SITE_URL",
                        self.request.host)
        return f"{self.request.protocol}://{self.request.host}"

    def reset_link(self, user):
        path = self.reverse_url("password_reset_confirm", user.id, self.tokens.make(user))
        return f"{self.site_url()}{path}"

    def reset_message(self, user):
        """The mail to ``user``'s stored address with their link (an ``EmailMessage``)."""
        minutes = max(1, int(self.settings.get("PASSWORD_RESET_SECONDS") or 3600) // 60)
        context = dict(username=user.username, link=self.reset_link(user), minutes=minutes,
                       site_url=self.site_url())
        languages = [code for code, _name in self.settings.get("LANGUAGES") or ()]
        page_locale = self.locale
        if getattr(user, "language", None) in languages:     # the mail in the user's language
            self.locale = i18n.locale_for(user.language)
        try:
            text = self.render_string(self.mail_text_template, **context).decode("utf-8")
            html = self.render_string(self.mail_html_template, **context).decode("utf-8")
            subject = str(self.mail_subject)
            subject = self.locale.translate(getattr(self.mail_subject, "msgid", subject))
        finally:
            self.locale = page_locale
            self.activate_locale()
        return mailer_for(self.application).message(subject, user.email, text, html=html)


class PasswordResetDoneHandler(PasswordResetBase):
    """``/admin/password_reset/done/``: what every request is answered with."""

    template = "admin/password_reset_done.html"

    def get(self):
        self.render(self.template,
                    minutes=max(1, int(self.settings.get("PASSWORD_RESET_SECONDS")
                                       or 3600) // 60))


class PasswordResetConfirmHandler(PasswordResetBase):
    """``/admin/password_reset/<uid>/<token>/``: the mailed link. A valid token goes into
    the ``bastion_reset`` cookie and the browser on to ``<uid>/set-password/``."""

    async def get(self, uid, token):
        user = await self.user_for(uid, token)
        if user is None:
            return self.invalid()
        self.set_signed_cookie(RESET_COOKIE, f"{uid}:{token}", expires_days=None,
                               max_age=self.tokens.max_age, path=PREFIX)
        self.redirect(self.reverse_url("password_reset_set_password", uid), status=302)


class SetPasswordHandler(PasswordResetBase):
    """``/admin/password_reset/<uid>/set-password/``: the new password, twice."""

    template = "admin/password_reset_confirm.html"

    async def reset_user(self, uid):
        """The user whose valid token the cookie holds for ``uid``, else ``None``."""
        raw = self.get_signed_cookie(RESET_COOKIE,
                                     max_age_days=max(1, -(-self.tokens.max_age // 86400)))
        try:
            stored_uid, _, token = (raw or b"").decode("ascii").partition(":")
        except UnicodeDecodeError:
            return None
        if stored_uid != uid:
            return None
        return await self.user_for(uid, token)

    def render_form(self, user, form):
        self.render(self.template, form=form, user=user)

    async def get(self, uid):
        user = await self.reset_user(uid)
        if user is None:
            return self.invalid()
        self.render_form(user, SetPasswordForm())

    async def post(self, uid):
        user = await self.reset_user(uid)
        if user is None:
            return self.invalid()
        form = SetPasswordForm(FormData(self))
        if not form.validate():
            return self.render_form(user, form)
        try:
            validate_password(form.new_password1.data, username=user.username,
                              email=getattr(user, "email", None))
        except PasswordError as exc:
            for message in exc.messages:
                add_error(form, "new_password1", message)
            return self.render_form(user, form)
        try:
            async with audited(self, "password_reset", obj=user, actor=user) as entry:
                async with password_slots(self.application):
                    await user.set_password(form.new_password1.data, validate=False,
                                            rounds=self.bcrypt_rounds)
                await user.save(db=self.db)        # stale: the link was used meanwhile
                ended, revoked = await user.end_access(self.db)
                entry.changes = {"password": {"before": REDACTED, "after": REDACTED}}
                entry.detail = (f"set with a password reset link; {ended} session(s) "
                                f"ended, {revoked} API token(s) revoked")
        except StaleObjectError:
            return self.invalid()
        self.clear_cookie(RESET_COOKIE, path=PREFIX)
        self.flash(DONE_FLASH)
        self.redirect(self.get_login_url(), status=303)


def password_reset_routes():
    """The named URL specs of the password reset pages (the fixed ones before the link's:
    ``reverse_url("password_reset_confirm", uid, token)`` is the mailed link's path)."""
    return [
        (PREFIX, PasswordResetHandler, {}, "password_reset"),
        (PREFIX + "done/", PasswordResetDoneHandler, {}, "password_reset_done"),
        (PREFIX + r"([^/]+)/set-password/", SetPasswordHandler, {},
         "password_reset_set_password"),
        (PREFIX + r"([^/]+)/([^/]+)/", PasswordResetConfirmHandler, {},
         "password_reset_confirm"),
    ]


async def ensure_reset_indexes(db):
    """The ``password_reset_requests`` indexes (TTL cleanup included)."""
    return await ResetThrottle(db).ensure_indexes()
