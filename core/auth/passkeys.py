"""Passkeys (WebAuthn) as a second factor, with the ``webauthn`` package.

    rp = RelyingParty.for_request(handler)              # rp_id + origin of this site
    options, challenge = rp.registration_options(user, existing)   # JSON for the browser
    passkey = rp.verify_registration(credential_json, challenge)   # a dict to store
    options, challenge = rp.authentication_options(passkeys)       # at the login step
    new_count = rp.verify_authentication(credential_json, challenge, passkey)

The relying party is the site itself: ``rp_id`` is ``WEBAUTHN_RP_ID`` or the request's
host name, the expected origin ``SITE_URL``'s (or the request's scheme and host). A
passkey is bound to its ``rp_id`` by the authenticator: moving the site to another
domain voids every passkey. Browsers refuse IP addresses as ``rp_id``: use a name
(``localhost`` in development).

Challenges are 32 random bytes (``webauthn`` makes them), kept server-side with the
pending step (login) or as a ``passkey_challenge`` factor document (account page), used
once. The stored passkey is ``{"kind": "passkey", "credential_id", "public_key",
"sign_count", "name", "created_at", "last_used"}`` in ``auth_factors`` (ids and keys as
base64url text). ``name`` is what the user typed, or ``""``: an unnamed passkey is shown
as "Passkey" in each page's language (``passkey_label``), never stored in one. A sign
count that does not grow (when the authenticator keeps one) is refused: a cloned authenticator.
"""
import datetime
import functools
import json
from types import SimpleNamespace
from urllib.parse import urlsplit

from core.i18n import gettext, gettext_lazy as _l

from .sessions import utcnow

__all__ = ["PasskeyError", "RelyingParty", "from_base64url", "passkey_for_log",
           "passkey_label", "passkey_name", "to_base64url"]

MAX_CREDENTIAL_JSON = 64 * 1024
CHALLENGE_SECONDS = 300


@functools.cache
def _lib():
    """The parts of ``webauthn`` this module uses, imported at the first passkey request:
    the package pulls in cryptography and pyasn1, about a fifth of every ``manage.py``
    command's start-up, and no command needs them."""
    import webauthn
    from webauthn import helpers
    from webauthn.helpers import exceptions, structs
    return SimpleNamespace(webauthn=webauthn, helpers=helpers, exceptions=exceptions,
                           structs=structs)


def to_base64url(data):
    """``data`` (bytes) as base64url text, as WebAuthn writes ids and challenges."""
    return _lib().helpers.bytes_to_base64url(data)


def from_base64url(text):
    """The bytes of base64url ``text``."""
    return _lib().helpers.base64url_to_bytes(text)


class PasskeyError(ValueError):
    """A passkey response that is malformed or does not verify. ``str()`` is the message
    for the user, in the language active when it is shown; ``reason`` is the ``webauthn``
    package's own (English) words, for the log, or ``None``."""

    def __init__(self, message, reason=None):
        super().__init__(message)
        self.reason = reason

    def for_log(self):
        """The untranslated message, with ``reason`` when there is one (for operators)."""
        text = getattr(self.args[0], "msgid", str(self.args[0]))
        return f"{text} ({self.reason})" if self.reason else text


#: what a passkey saved without a name was stored as before: English, so read as no name
OLD_UNNAMED = "Passkey"


def passkey_name(passkey):
    """The name the user gave ``passkey`` (a stored passkey document), or ``""``."""
    name = passkey.get("name") or ""
    return "" if name == OLD_UNNAMED else name


def passkey_label(passkey):
    """How a page names ``passkey``: its name, else "Passkey" in the active language."""
    return passkey_name(passkey) or gettext("Passkey")


def passkey_for_log(passkey):
    """``passkey “name”`` or ``an unnamed passkey``, for audit details and logs (English)."""
    name = passkey_name(passkey)
    return f"passkey “{name}”" if name else "an unnamed passkey"


def parse_credential(raw):
    """The browser's credential (JSON text or a dict) as a dict; ``PasskeyError`` if not."""
    if isinstance(raw, (bytes, str)):
        if len(raw) > MAX_CREDENTIAL_JSON:
            raise PasskeyError(_l("The passkey response is too large."))
        try:
            raw = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise PasskeyError(_l("The passkey response is not valid JSON.")) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or \
            not isinstance(raw.get("response"), dict):
        raise PasskeyError(_l("The passkey response is not a WebAuthn credential."))
    return raw


class RelyingParty:
    """This site as a WebAuthn relying party: its id, name and expected origin."""

    def __init__(self, rp_id, origin, name="Bastion"):
        self.rp_id = rp_id
        self.origin = origin
        self.name = name

    @classmethod
    def for_request(cls, handler):
        """``WEBAUTHN_RP_ID`` / ``SITE_URL`` from the settings, else the request's host."""
        settings, request = handler.settings, handler.request
        site_url = settings.get("SITE_URL")
        if site_url:
            parts = urlsplit(site_url)
            origin = f"{parts.scheme}://{parts.netloc}"
            host = parts.hostname
        else:
            origin = f"{request.protocol}://{request.host}"
            host = urlsplit(origin).hostname
        return cls(settings.get("WEBAUTHN_RP_ID") or host, origin,
                   settings.get("TOTP_ISSUER") or "Bastion")

    # -- registering a passkey (the account page) ---------------------------------------------
    def registration_options(self, user, existing=()):
        """``(options JSON text, challenge bytes)`` to create a passkey for ``user``;
        ``existing`` passkeys are excluded (one authenticator, one passkey)."""
        lib, structs = _lib(), _lib().structs
        options = lib.webauthn.generate_registration_options(
            rp_id=self.rp_id, rp_name=self.name, user_name=user.username,
            user_id=str(user.id).encode("utf-8"), user_display_name=user.username,
            authenticator_selection=structs.AuthenticatorSelectionCriteria(
                resident_key=structs.ResidentKeyRequirement.PREFERRED,
                user_verification=structs.UserVerificationRequirement.PREFERRED),
            exclude_credentials=[structs.PublicKeyCredentialDescriptor(
                id=from_base64url(p["credential_id"])) for p in existing])
        return lib.webauthn.options_to_json(options), options.challenge

    def verify_registration(self, credential, challenge, name):
        """The passkey document to store, from the browser's ``credential``."""
        lib, credential = _lib(), parse_credential(credential)
        try:
            verified = lib.webauthn.verify_registration_response(
                credential=credential, expected_challenge=challenge,
                expected_rp_id=self.rp_id, expected_origin=self.origin)
        except lib.exceptions.InvalidRegistrationResponse as exc:
            raise PasskeyError(_l("The passkey could not be registered."), str(exc)) from None
        except (KeyError, TypeError, ValueError) as exc:
            raise PasskeyError(_l("The passkey response is malformed."), str(exc)) from None
        return {"kind": "passkey", "credential_id": to_base64url(verified.credential_id),
                "public_key": to_base64url(verified.credential_public_key),
                "sign_count": verified.sign_count, "name": name, "created_at": utcnow(),
                "last_used": None}

    # -- using one (the login step) -------------------------------------------------------------
    def authentication_options(self, passkeys):
        """``(options JSON text, challenge bytes)`` asking for one of ``passkeys``."""
        lib, structs = _lib(), _lib().structs
        options = lib.webauthn.generate_authentication_options(
            rp_id=self.rp_id, user_verification=structs.UserVerificationRequirement.PREFERRED,
            allow_credentials=[structs.PublicKeyCredentialDescriptor(
                id=from_base64url(p["credential_id"])) for p in passkeys])
        return lib.webauthn.options_to_json(options), options.challenge

    def verify_authentication(self, credential, challenge, passkey):
        """The new sign count when ``credential`` is ``passkey``'s answer to ``challenge``."""
        lib, credential = _lib(), parse_credential(credential)
        try:
            verified = lib.webauthn.verify_authentication_response(
                credential=credential, expected_challenge=challenge,
                expected_rp_id=self.rp_id, expected_origin=self.origin,
                credential_public_key=from_base64url(passkey["public_key"]),
                credential_current_sign_count=int(passkey.get("sign_count") or 0))
        except lib.exceptions.InvalidAuthenticationResponse as exc:
            raise PasskeyError(_l("The passkey was not accepted."), str(exc)) from None
        except (KeyError, TypeError, ValueError) as exc:
            raise PasskeyError(_l("The passkey response is malformed."), str(exc)) from None
        return verified.new_sign_count


def challenge_expired(created_at, now=None):
    """True when a challenge made at ``created_at`` is older than ``CHALLENGE_SECONDS``."""
    if created_at is None:
        return True
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=datetime.timezone.utc)
    return (now or utcnow()) - created_at > datetime.timedelta(seconds=CHALLENGE_SECONDS)
