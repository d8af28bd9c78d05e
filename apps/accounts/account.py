"""The account page: what a logged-in user sees and changes about themselves.

=============================================== ========= ===================================
``/admin/account/``                             GET/POST  permissions (with sources), the
                                                          preferences form (language, time
                                                          zone), second factors, sessions
``/admin/account/totp/``                        GET/POST  enrol TOTP: QR code + secret, one
                                                          code to confirm, then the recovery
                                                          codes (shown once)
``/admin/account/totp/disable/``                POST      turn TOTP off (password or code)
``/admin/account/recovery-codes/``              POST      ten new recovery codes (password)
``/admin/account/sessions/``                    POST      log out everywhere else
``/admin/account/sessions/<handle>/end/``       POST      end one of your sessions
``/admin/account/passkeys/options/``            POST      JSON: WebAuthn creation options
``/admin/account/passkeys/``                    POST      JSON: register the browser's answer
``/admin/account/passkeys/<id>/delete/``        POST      remove one of your passkeys
                                                          (password)
=============================================== ========= ===================================

Every page needs a logged-in user (anonymous: the login page, or 401 JSON) and acts on
that user only: nothing here takes a user id, and a session handle that is not one of
yours is a 404. Every POST carries ``_xsrf``. Enrolling, turning off a factor, new
recovery codes and ended sessions are audited. Turning a factor off or making new
recovery codes asks for the password (or, for turning off, a current code); wrong ones
count in the login throttle like wrong passwords.

A session's *handle* is a digest of its stored key (itself a digest of the cookie's id):
enough to name it on the page, useless for logging in.
"""
import hashlib
import logging

import wtforms
from bson import ObjectId
from bson.errors import InvalidId
from wtforms import validators

from core.admin.widgets import MATRIX_COLUMNS
from core.audit import audited, diff
from core.auth.handlers import AuthHandler, CodeForm
from core.auth.passkeys import (PasskeyError, RelyingParty, challenge_expired, passkey_for_log,
                                passkey_label, passkey_name)
from core.auth.sessions import SESSIONS_COLLECTION, Session
from core.auth.twofactor import factor_store, is_totp_code, qr_svg_data_uri, totp_uri
from core.forms import Form, FormData, add_error
from core.handlers.base import HTTPError
from core.i18n import gettext_lazy as _l
from core.models.errors import StaleObjectError, ValidationError

from .handlers import effective_matrix, matrix_sources

__all__ = ["AccountHandler", "EndSessionHandler", "EndOtherSessionsHandler",
           "PasskeyDeleteHandler", "PasskeyOptionsHandler", "PasskeyRegisterHandler",
           "RecoveryCodesHandler", "TotpDisableHandler", "TotpEnrolHandler", "account_routes"]

log = logging.getLogger("bastion.auth")

ACCOUNT_URL = "/admin/account/"
SESSIONS_SHOWN = 50
DONE_MESSAGES = {
    "preferences": _l("Your preferences were saved."),
    "totp-off": _l("Two-factor login with an authenticator app is off."),
    "passkey-removed": _l("The passkey was removed."),
    "passkey-added": _l("The passkey was added."),
    "others-ended": _l("Your other sessions were ended."),
    "session-ended": _l("The session was ended."),
}


def session_handle(key):
    """The public name of a stored session (its key's digest, cut): what the page shows."""
    return hashlib.sha256(f"session-handle:{key}".encode()).hexdigest()[:24]


class PreferencesForm(Form):
    language = wtforms.SelectField(_l("Language"), choices=[], validate_choice=True)
    time_zone = wtforms.StringField(
        _l("Time zone"), [validators.Length(max=64)],
        description=_l("A zone name such as Europe/Paris or America/New_York; empty for the "
                       "site's."))

    def __init__(self, formdata=None, languages=(), **kwargs):
        super().__init__(formdata, **kwargs)
        choices = [tuple(item) for item in languages]
        self.language.choices = [("", _l("The site's language"))] + choices


class ConfirmForm(Form):
    """Your password (or, where allowed, a current code) before a factor changes."""

    password = wtforms.PasswordField(_l("Your password"), [validators.Length(max=1024)])
    code = wtforms.StringField(_l("Or a current code"), [validators.Length(max=64)],
                               description=_l("The 6-digit code of your authenticator app."))


class AccountBase(AuthHandler):
    """Base of the account pages: a logged-in user, acting on themselves."""

    login_required = True
    template = "admin/accounts/account.html"

    @property
    def factors(self):
        return factor_store(self.application)

    def done(self, key):
        """Back to the account page, saying ``DONE_MESSAGES[key]``."""
        if self.wants_json():
            return self.write_json({"status": str(DONE_MESSAGES[key])})
        self.redirect(f"{ACCOUNT_URL}?done={key}", status=303)

    async def confirmed(self, form, allow_code=False):
        """True when the form holds the user's right password (or, with ``allow_code``, a
        current TOTP code); otherwise the form gets the error. Throttled like a login."""
        user = self.current_user
        password, code = form.password.data or "", (form.code.data or "").strip()
        if not password and not (allow_code and code):
            add_error(form, "password", "Enter your password to confirm."
                      if not allow_code else "Enter your password or a current code.")
            return False

        async def check():
            if password:
                return await user.check_password(password, self.bcrypt_rounds)
            return is_totp_code(code) and await self.factors.verify_totp(user.id, code)

        verdict, right = await self.throttled_check(user.username, check)
        if verdict.blocked:
            self.set_status(429)
            self.set_header("Retry-After", str(verdict.retry_after))
            add_error(form, "password", verdict.message)
            return False
        if not right:
            add_error(form, "password" if password else "code",
                      "Your password was entered incorrectly." if password else
                      "That code is not right (or was used already).")
            return False
        return True

    def preferences_form(self, formdata=None):
        user = self.current_user
        return PreferencesForm(formdata, languages=self.settings.get("LANGUAGES", ()),
                               data={"language": user.language or "",
                                     "time_zone": user.time_zone or ""})

    async def render_page(self, form=None, confirm_form=None, confirm_for=None, status=None):
        """The account page (``form``: the preferences form with errors; ``confirm_form``:
        the password form that ``confirm_for``, "disable" or "recovery", refused)."""
        if status:
            self.set_status(status)
        groups, others = effective_matrix(self.registry,
                                          matrix_sources(self.permissions, self.gettext))
        done = DONE_MESSAGES.get(self.get_query_argument("done", ""))
        self.render(self.template, form=form or self.preferences_form(),
                    confirm_form=confirm_form or ConfirmForm(), confirm_for=confirm_for,
                    blank_confirm_form=ConfirmForm(), done=done,
                    effective_groups=groups, other_grants=others,
                    matrix_columns=MATRIX_COLUMNS,
                    matrix_caption=self.gettext("Your effective permissions"),
                    is_superuser=self.permissions.is_superuser,
                    factors=await self.factors.summary(self.current_user.id),
                    passkeys=await self.factors.passkeys(self.current_user.id),
                    passkey_label=passkey_label,
                    sessions=await self.sessions())

    async def refuse_confirmation(self, form, confirm_for):
        """The password (or code) was missing, wrong or throttled: say so."""
        status = 429 if self.get_status() == 429 else 400
        if self.wants_json():
            raise HTTPError(status, " ".join(form.password.errors + form.code.errors))
        await self.render_page(confirm_form=form, confirm_for=confirm_for, status=status)

    async def sessions(self):
        """The user's live sessions, last seen first: ``[{"handle", "created_at", ...}]``."""
        docs = await self.db[SESSIONS_COLLECTION].find(
            {"user_id": self.current_user.id}, sort=[("last_seen", -1)],
            limit=SESSIONS_SHOWN).to_list(None)
        out = []
        for doc in docs:
            session = Session.from_document(doc)
            if self.session_store.is_expired(session):
                continue
            out.append({"handle": session_handle(session.key),
                        "current": self.session is not None and session.key == self.session.key,
                        "created_at": session.created_at, "last_seen": session.last_seen,
                        "address": session.data.get("address") or "unknown",
                        "user_agent": session.data.get("user_agent") or "unknown",
                        "key": session.key})
        return out


class AccountHandler(AccountBase):
    """``/admin/account/``: the page; POST saves the preferences."""

    async def get(self):
        if self.wants_json():
            return self.write_json({
                "username": self.current_user.username,
                "language": self.current_user.language or "",
                "time_zone": self.current_user.time_zone or "",
                "effective": self.permissions.effective(), "sources": self.permissions.sources(),
                "factors": await self.factors.summary(self.current_user.id),
                "sessions": [{k: v for k, v in s.items() if k != "key"}
                             for s in await self.sessions()]})
        await self.render_page()

    async def post(self):
        form = self.preferences_form(FormData(self))
        if not form.validate():
            return await self.render_page(form, status=400)
        user = self.current_user
        before = {"language": user.language, "time_zone": user.time_zone}
        for _attempt in range(3):
            try:
                async with audited(self, "update", obj=user,
                                   detail="preferences set on the account page") as entry:
                    user.language = form.language.data or ""
                    user.time_zone = (form.time_zone.data or "").strip()
                    user.clean()
                    await user.save(db=self.db)
                    entry.changes = diff(before, {"language": user.language,
                                                  "time_zone": user.time_zone})
                break
            except ValidationError as exc:
                for name, message in exc.errors.items():
                    add_error(form, name if name in ("language", "time_zone") else "__all__",
                              message)
                return await self.render_page(form, status=400)
            except StaleObjectError:            # changed meanwhile (an admin): redo on top
                await user.reload(db=self.db)
        else:
            raise HTTPError(409, self.gettext("Your account was changed meanwhile; try again."))
        self.done("preferences")


class TotpEnrolHandler(AccountBase):
    """``/admin/account/totp/``: turn on (or replace) TOTP; the recovery codes follow."""

    def render_form(self, form, secret, error=None):
        issuer = self.settings.get("TOTP_ISSUER") or "Bastion"
        self.render("admin/totp_enrol.html", form=form, error=error, secret=secret,
                    qr_data_uri=qr_svg_data_uri(totp_uri(secret, self.current_user.username,
                                                         issuer)),
                    action=self.request.path, at_login=False)

    async def get(self):
        secret = await self.factors.start_totp(self.current_user.id)
        self.render_form(CodeForm(), secret)

    async def post(self):
        user = self.current_user
        secret = await self.factors.start_totp(user.id)
        form = CodeForm(FormData(self))
        if not form.validate():
            return self.render_form(form, secret)
        verdict, confirmed = await self.throttled_check(
            user.username, lambda: self.factors.confirm_totp(user.id, form.code.data))
        if verdict.blocked:
            if not self.refuse_throttled(verdict):
                self.render_form(form, secret, error=verdict.message)
            return
        if not confirmed:
            add_error(form, "code",
                      self.gettext("That code is not right. Enter the code the app shows now."))
            self.set_status(400)
            return self.render_form(form, secret)
        codes = await self.factors.new_recovery_codes(user.id)
        await self.audit("twofactor_enrol", obj=user,
                         detail=f"TOTP turned on at the account page; {len(codes)} recovery "
                                "codes made")
        self.render("admin/recovery_codes.html", codes=codes, next_url=ACCOUNT_URL,
                    at_login=False)


class TotpDisableHandler(AccountBase):
    """``/admin/account/totp/disable/``: POST with the password or a current code."""

    async def post(self):
        form = ConfirmForm(FormData(self))
        if not form.validate() or not await self.confirmed(form, allow_code=True):
            return await self.refuse_confirmation(form, "disable")
        user = self.current_user
        removed = await self.factors.remove_totp(user.id)
        if removed:
            await self.audit("twofactor_disable", obj=user,
                             detail="TOTP turned off at the account page")
        self.done("totp-off")


class RecoveryCodesHandler(AccountBase):
    """``/admin/account/recovery-codes/``: POST with the password: ten new codes, the old
    ones dead. Only for a user with a second factor."""

    async def post(self):
        user = self.current_user
        summary = await self.factors.summary(user.id)
        if not (summary["totp"] or summary["passkeys"]):
            raise HTTPError(409, self.gettext("Turn on two-factor login first; recovery codes "
                                              "come with it."))
        form = ConfirmForm(FormData(self))
        if not form.validate() or not await self.confirmed(form):
            return await self.refuse_confirmation(form, "recovery")
        codes = await self.factors.new_recovery_codes(user.id)
        await self.audit("twofactor_recovery_codes", obj=user,
                         detail=f"{len(codes)} new recovery codes made; the old ones are void")
        self.render("admin/recovery_codes.html", codes=codes, next_url=ACCOUNT_URL,
                    at_login=False)


class EndOtherSessionsHandler(AccountBase):
    """``/admin/account/sessions/``: POST logs you out everywhere else."""

    async def post(self):
        ended = await self.session_store.delete_for_user(self.current_user.id,
                                                         keep=self.session)
        await self.audit("logout", obj=self.current_user,
                         detail=f"log out everywhere else: {ended} other session(s) ended")
        self.done("others-ended")


class EndSessionHandler(AccountBase):
    """``/admin/account/sessions/<handle>/end/``: POST ends that session of yours (404 for
    anyone else's); ending the current one logs you out."""

    async def post(self, handle):
        found = next((s for s in await self.sessions() if s["handle"] == handle), None)
        if found is None:
            raise HTTPError(404, self.gettext("No such session of yours (it may have ended "
                                              "already)."))
        result = await self.db[SESSIONS_COLLECTION].delete_one(
            {"_id": found["key"], "user_id": self.current_user.id})
        if not result.deleted_count:
            raise HTTPError(404, self.gettext("No such session of yours (it may have ended "
                                              "already)."))
        await self.audit("logout", obj=self.current_user,
                         detail=f"ended one session (from {found['address']}) on the account "
                                "page")
        if found["current"]:
            self.clear_session_cookie()
            if self.wants_json():
                return self.write_json({"status": "logged out"})
            return self.redirect(self.get_login_url(), status=303)
        self.done("session-ended")


class PasskeyOptionsHandler(AccountBase):
    """``/admin/account/passkeys/options/``: POST (``X-XSRFToken``) answers the WebAuthn
    creation options; the challenge waits, used once, for the answer."""

    async def post(self):
        user = self.current_user
        existing = await self.factors.passkeys(user.id)
        options, challenge = RelyingParty.for_request(self).registration_options(user, existing)
        await self.factors.set_passkey_challenge(user.id, challenge)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(options)


class PasskeyRegisterHandler(AccountBase):
    """``/admin/account/passkeys/``: POST ``{"credential": ..., "name": "..."}``: store the
    passkey the browser made (400 when it does not verify); audited. Without a name it is
    stored unnamed (``""``), and pages call it "Passkey" in their language. Answers
    ``{"status": the text to show, "name": the stored name, "" when unnamed}``."""

    async def post(self):
        user = self.current_user
        body = self.get_json_body()
        name = body.get("name") if isinstance(body.get("name"), str) else ""
        name = " ".join(name.split())[:60]
        challenge, made_at = await self.factors.take_passkey_challenge(user.id)
        if challenge is None or challenge_expired(made_at):
            raise HTTPError(409, self.gettext("The passkey request expired; start again."))
        try:
            passkey = RelyingParty.for_request(self).verify_registration(
                body.get("credential"), challenge, name)
        except PasskeyError as exc:
            log.info("passkey not registered for %s: %s", user.username, exc.for_log())
            raise HTTPError(400, str(exc)) from None
        if any(p["credential_id"] == passkey["credential_id"]
               for p in await self.factors.passkeys(user.id)):
            raise HTTPError(409, self.gettext("This passkey is registered already."))
        await self.factors.add_passkey(user.id, passkey)
        await self.audit("twofactor_enrol", obj=user,
                         detail=f"{passkey_for_log(passkey)} registered at the account page")
        self.write_json({"status": self.gettext("The passkey “%(name)s” was registered.") % {
            "name": passkey_label(passkey)}, "name": passkey_name(passkey)})


class PasskeyDeleteHandler(AccountBase):
    """``/admin/account/passkeys/<id>/delete/``: POST with the password removes one of your
    passkeys (someone else's id is a 404); audited."""

    async def post(self, factor_id):
        user = self.current_user
        try:
            oid = ObjectId(factor_id)
        except (InvalidId, TypeError):
            raise HTTPError(404, self.gettext("No such passkey of yours.")) from None
        passkey = next((p for p in await self.factors.passkeys(user.id) if p["_id"] == oid),
                       None)
        if passkey is None:
            raise HTTPError(404, self.gettext("No such passkey of yours."))
        form = ConfirmForm(FormData(self))
        if not form.validate() or not await self.confirmed(form):
            return await self.refuse_confirmation(form, f"passkey:{factor_id}")
        if await self.factors.remove_passkey(user.id, oid):
            await self.audit("twofactor_disable", obj=user,
                             detail=f"{passkey_for_log(passkey)} removed at the account page")
        self.done("passkey-removed")


def account_routes():
    """The account pages' URL specs (named), for ``AccountsApp.get_routes``."""
    return [
        (r"/admin/account/$", AccountHandler, {}, "account"),
        (r"/admin/account/totp/$", TotpEnrolHandler, {}, "account_totp"),
        (r"/admin/account/totp/disable/$", TotpDisableHandler, {}, "account_totp_disable"),
        (r"/admin/account/recovery-codes/$", RecoveryCodesHandler, {},
         "account_recovery_codes"),
        (r"/admin/account/sessions/$", EndOtherSessionsHandler, {}, "account_sessions"),
        (r"/admin/account/sessions/([0-9a-f]{24})/end/$", EndSessionHandler, {},
         "account_session_end"),
        (r"/admin/account/passkeys/options/$", PasskeyOptionsHandler, {},
         "account_passkey_options"),
        (r"/admin/account/passkeys/$", PasskeyRegisterHandler, {}, "account_passkeys"),
        (r"/admin/account/passkeys/([0-9a-f]{24})/delete/$", PasskeyDeleteHandler, {},
         "account_passkey_delete"),
    ]
