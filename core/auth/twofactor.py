"""Second factors: TOTP (RFC 6238), single-use recovery codes, passkeys; the login step between.

    store = factor_store(application)                  # FactorStore over ``auth_factors``
    secret = await store.start_totp(user.id)           # unconfirmed until a code is shown
    if await store.confirm_totp(user.id, code):        # the factor is on from now
        codes = await store.new_recovery_codes(user.id)    # ten, shown once
    await store.verify_totp(user.id, code)             # at login: True once per 30 s step
    await store.use_recovery_code(user.id, code)       # True once per code
    await store.summary(user.id)                       # {"totp": True, "passkeys": 0, ...}

Everything lives in one collection, ``auth_factors``, one document per factor, never in
the user document: the admin, the API, ``dumpdata`` and audit snapshots of a user never
see a secret. A document is ``{"user_id", "kind", "created_at", ...}`` with ``kind``:

``totp``      ``secret`` (base32), ``confirmed`` (False while enrolling), ``last_step``
              (the last 30-second step accepted: a code is never accepted twice, and
              the confirming code is not a login code). At most one per user.
``recovery``  ``code_hash``: one document per unused code; using it deletes it, so
              ``delete_one`` deciding "deleted 1" is what makes a code single-use even
              under concurrent requests.
``passkey``   a WebAuthn credential (``credential_id``, ``public_key``, ``sign_count``,
              ``name``); see ``core.auth.passkeys``. While one is being registered,
              a ``passkey_challenge`` document holds the challenge (used once).

Recovery codes are 16 random base32 characters (80 bits), shown as ``xxxx-xxxx-xxxx-
xxxx``. They are stored as HMAC-SHA256 under a pepper derived from ``COOKIE_SECRET``,
not bcrypt: bcrypt's cost protects guessable passwords, but 80 random bits cannot be
guessed offline at any hash speed, and the pepper keeps a copy of the database alone
from checking guesses at all. A fast hash also keeps the login step off the password
slots. Rotating ``COOKIE_SECRET`` voids the unused codes (users make new ones on their
account page).

The login step (``LoginChallengeStore``, collection ``login_challenges``): after a right
password, a user with a factor (or one ``REQUIRE_2FA`` obliges to enrol) gets no
session. They get a random id in a signed cookie whose stored document (keyed by the
id's SHA-256) names the user, the purpose (``verify`` or ``enrol``), where to go next
and a fingerprint of the password hash, and dies after ``LOGIN_CHALLENGE_SECONDS``
(TTL index) or on first successful use. A password changed meanwhile voids it.
"""
import base64
import datetime
import hashlib
import hmac
import io
import re
import secrets

import pyotp
import segno

from .sessions import utcnow

__all__ = ["CHALLENGES_COLLECTION", "FACTORS_COLLECTION", "FactorStore", "LoginChallenge",
           "LoginChallengeStore", "REQUIRE_2FA_CHOICES", "RECOVERY_CODE_COUNT",
           "factor_store", "password_fingerprint", "qr_svg_data_uri", "requires_second_factor",
           "totp_uri"]

FACTORS_COLLECTION = "auth_factors"
CHALLENGES_COLLECTION = "login_challenges"
TOTP, RECOVERY, PASSKEY = "totp", "recovery", "passkey"
PASSKEY_CHALLENGE = "passkey_challenge"
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_CHARS = 16
TOTP_DIGITS = 6
TOTP_INTERVAL = 30
#: accepted clock drift, in steps either side of now
TOTP_DRIFT_STEPS = 1
REQUIRE_2FA_CHOICES = ("off", "staff", "superusers")
_NOT_CODE = re.compile(r"[\s-]+")


# -- policy -----------------------------------------------------------------------------------

def requires_second_factor(policy, permissions):
    """Must the user whose ``core.permissions.Permissions`` is ``permissions`` have a second
    factor under ``REQUIRE_2FA = policy``?

    ``off``: nobody. ``superusers``: active superusers. ``staff``: active superusers and
    every active user who holds any grant at all, directly or through a role — anyone the
    admin shows data to. A user holding nothing (a fresh self-registered account) is not
    staff. An unknown policy is refused at start-up (``core.conf``); here it counts as
    ``staff``, the safer reading.
    """
    policy = (policy or "off").lower()
    if policy == "off" or permissions is None or not permissions.is_active:
        return False
    if permissions.is_superuser:
        return True
    if policy == "superusers":
        return False
    return bool(permissions.effective())


# -- TOTP and its QR code ---------------------------------------------------------------------

def totp_uri(secret, account, issuer):
    """The ``otpauth://totp/...`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL).provisioning_uri(
        name=account, issuer_name=issuer)


def qr_svg_data_uri(text):
    """``text`` as a QR code: an SVG ``data:`` URI for an ``<img src>`` (the CSP allows
    ``img-src data:``), drawn here by ``segno``; no script, no outside service."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False,
                                     svgns=True, title="Scan with your authenticator app")
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def clean_code(text):
    """A typed code without spaces or dashes, lower case (``""`` for anything not text)."""
    if not isinstance(text, str):
        return ""
    return _NOT_CODE.sub("", text).lower()[:64]


def is_totp_code(text):
    code = clean_code(text)
    return len(code) == TOTP_DIGITS and code.isdigit()


def matching_step(secret, code, now=None):
    """The 30-second step (an int) whose TOTP code is ``code``, within the drift; else None."""
    code = clean_code(code)
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL)
    now = now or utcnow()
    step = int(now.timestamp()) // TOTP_INTERVAL
    for candidate in range(step + TOTP_DRIFT_STEPS, step - TOTP_DRIFT_STEPS - 1, -1):
        if hmac.compare_digest(totp.at(candidate * TOTP_INTERVAL), code):
            return candidate
    return None


def password_fingerprint(password_hash):
    """A short digest of a password hash: a login step dies when the password changes."""
    return hashlib.sha256((password_hash or "").encode("utf-8")).hexdigest()[:32]


# -- the factors ------------------------------------------------------------------------------

class FactorStore:
    """The second factors of every user, in ``db[auth_factors]``.

    ``pepper`` (bytes or text, normally ``COOKIE_SECRET``) keys the recovery codes' HMAC;
    a store without one can count and remove factors but not make or check codes.
    """

    def __init__(self, db, pepper=None, collection=FACTORS_COLLECTION):
        self.db = db
        self.collection = db[collection]
        if isinstance(pepper, str):
            pepper = pepper.encode("utf-8")
        self._key = hashlib.sha256(b"bastion-recovery-codes\x00" + pepper).digest() \
            if pepper else None

    @classmethod
    def from_settings(cls, db, settings):
        return cls(db, settings.get("COOKIE_SECRET") or settings.get("cookie_secret"))

    async def ensure_indexes(self):
        """The look-up indexes (per user and kind; passkeys by credential id)."""
        return [
            await self.collection.create_index([("user_id", 1), ("kind", 1)],
                                               name="user_kind"),
            await self.collection.create_index("credential_id", name="credential_id"),
        ]

    # -- reading -------------------------------------------------------------------------------
    async def summary(self, user_id):
        """``{"totp": bool, "passkeys": n, "recovery_codes": n}`` (confirmed factors only)."""
        docs = await self.collection.find({"user_id": user_id},
                                          {"kind": 1, "confirmed": 1}).to_list(None)
        return {"totp": any(d.get("kind") == TOTP and d.get("confirmed") for d in docs),
                "passkeys": sum(1 for d in docs if d.get("kind") == PASSKEY),
                "recovery_codes": sum(1 for d in docs if d.get("kind") == RECOVERY)}

    @staticmethod
    def factor_names(summary):
        """The factor names of a ``summary``: ``["totp", "passkey"]`` (what the CLI shows)."""
        return [name for name, on in ((TOTP, summary["totp"]), (PASSKEY, summary["passkeys"]))
                if on]

    async def has_factor(self, user_id):
        """True when the user has a confirmed TOTP or a passkey (what login asks for)."""
        found = await self.collection.find_one(
            {"user_id": user_id, "$or": [{"kind": TOTP, "confirmed": True}, {"kind": PASSKEY}]},
            {"_id": 1})
        return found is not None

    async def _totp(self, user_id, confirmed=True):
        return await self.collection.find_one({"user_id": user_id, "kind": TOTP,
                                               "confirmed": confirmed})

    # -- TOTP ----------------------------------------------------------------------------------
    async def start_totp(self, user_id):
        """The secret being enrolled for ``user_id``: the pending one, else a new one."""
        pending = await self._totp(user_id, confirmed=False)
        if pending is not None:
            return pending["secret"]
        secret = pyotp.random_base32()
        await self.collection.insert_one({"user_id": user_id, "kind": TOTP, "secret": secret,
                                          "confirmed": False, "last_step": 0,
                                          "created_at": utcnow()})
        return secret

    async def confirm_totp(self, user_id, code, now=None):
        """Turn the pending TOTP on if ``code`` is its current code; True if it did.

        Any TOTP confirmed before is replaced. The confirming step is recorded as used.
        """
        pending = await self._totp(user_id, confirmed=False)
        if pending is None:
            return False
        step = matching_step(pending["secret"], code, now)
        if step is None:
            return False
        result = await self.collection.update_one(
            {"_id": pending["_id"], "confirmed": False},
            {"$set": {"confirmed": True, "last_step": step, "created_at": utcnow()}})
        if not result.modified_count:
            return False
        await self.collection.delete_many({"user_id": user_id, "kind": TOTP,
                                           "_id": {"$ne": pending["_id"]}})
        return True

    async def verify_totp(self, user_id, code, now=None):
        """True when ``code`` is the user's TOTP code for a step not used before.

        The step is claimed with one conditional update (``last_step < step``), so two
        requests racing with the same code cannot both win.
        """
        factor = await self._totp(user_id)
        if factor is None:
            return False
        step = matching_step(factor["secret"], code, now)
        if step is None:
            return False
        claimed = await self.collection.update_one(
            {"_id": factor["_id"], "last_step": {"$lt": step}}, {"$set": {"last_step": step}})
        return bool(claimed.modified_count)

    async def remove_totp(self, user_id):
        """Turn TOTP off (and drop the recovery codes when no passkey remains); how many."""
        removed = (await self.collection.delete_many({"user_id": user_id,
                                                      "kind": TOTP})).deleted_count
        if not (await self.summary(user_id))["passkeys"]:
            await self.collection.delete_many({"user_id": user_id, "kind": RECOVERY})
        return removed

    # -- recovery codes ------------------------------------------------------------------------
    def _hash_code(self, code):
        if self._key is None:
            raise RuntimeError("this FactorStore has no pepper (COOKIE_SECRET)")
        return hmac.new(self._key, clean_code(code).encode("utf-8"), hashlib.sha256).hexdigest()

    async def new_recovery_codes(self, user_id, count=RECOVERY_CODE_COUNT):
        """Replace the user's recovery codes by ``count`` new ones; returns them (shown once)."""
        alphabet = "abcdefghijkmnpqrstuvwxyz23456789"      # 32 letters: 5 bits each
        codes = ["".join(secrets.choice(alphabet) for _ in range(RECOVERY_CODE_CHARS))
                 for _ in range(count)]
        await self.collection.delete_many({"user_id": user_id, "kind": RECOVERY})
        now = utcnow()
        await self.collection.insert_many([
            {"user_id": user_id, "kind": RECOVERY, "code_hash": self._hash_code(code),
             "created_at": now} for code in codes])
        return ["-".join(code[i:i + 4] for i in range(0, RECOVERY_CODE_CHARS, 4))
                for code in codes]

    async def use_recovery_code(self, user_id, code):
        """True (once) when ``code`` is one of the user's unused recovery codes."""
        if len(clean_code(code)) != RECOVERY_CODE_CHARS:
            return False
        result = await self.collection.delete_one({"user_id": user_id, "kind": RECOVERY,
                                                   "code_hash": self._hash_code(code)})
        return bool(result.deleted_count)

    # -- passkeys (core.auth.passkeys verifies them) --------------------------------------------
    async def passkeys(self, user_id):
        """The user's passkey documents, oldest first."""
        return await self.collection.find({"user_id": user_id, "kind": PASSKEY},
                                          sort=[("created_at", 1), ("_id", 1)]).to_list(None)

    async def add_passkey(self, user_id, passkey):
        """Store a verified passkey (a ``RelyingParty.verify_registration`` document)."""
        doc = dict(passkey, user_id=user_id, kind=PASSKEY)
        await self.collection.insert_one(doc)
        return doc

    async def remove_passkey(self, user_id, factor_id):
        """Remove one passkey of the user (another user's id removes nothing); how many.
        The recovery codes go when no factor remains."""
        removed = (await self.collection.delete_one({"_id": factor_id, "user_id": user_id,
                                                     "kind": PASSKEY})).deleted_count
        summary = await self.summary(user_id)
        if removed and not (summary["totp"] or summary["passkeys"]):
            await self.collection.delete_many({"user_id": user_id, "kind": RECOVERY})
        return removed

    async def claim_sign_count(self, passkey, new_count):
        """Record a use of ``passkey`` (its sign count moving to ``new_count``); False when
        another request used it meanwhile with the same count (a replay)."""
        result = await self.collection.update_one(
            {"_id": passkey["_id"], "sign_count": passkey.get("sign_count", 0)},
            {"$set": {"sign_count": new_count, "last_used": utcnow()}})
        return bool(result.matched_count)

    async def set_passkey_challenge(self, user_id, challenge):
        """Remember the registration challenge (bytes) sent to the user's browser."""
        await self.collection.delete_many({"user_id": user_id, "kind": PASSKEY_CHALLENGE})
        await self.collection.insert_one({
            "user_id": user_id, "kind": PASSKEY_CHALLENGE, "created_at": utcnow(),
            "challenge": base64.urlsafe_b64encode(challenge).decode("ascii")})

    async def take_passkey_challenge(self, user_id):
        """The user's registration challenge (bytes) and its time, used once: ``(bytes,
        created_at)``, or ``(None, None)`` when there is none (or another request took it)."""
        doc = await self.collection.find_one({"user_id": user_id, "kind": PASSKEY_CHALLENGE})
        if doc is None:
            return None, None
        taken = await self.collection.delete_one({"_id": doc["_id"]})
        if not taken.deleted_count:
            return None, None
        return base64.urlsafe_b64decode(doc["challenge"]), doc.get("created_at")

    # -- everything ----------------------------------------------------------------------------
    async def remove_all(self, user_id):
        """Every factor and recovery code of the user (``manage.py reset2fa``); how many."""
        return (await self.collection.delete_many({"user_id": user_id})).deleted_count


def factor_store(application):
    """The application's ``FactorStore`` (made once, keyed by its cookie secret)."""
    store = getattr(application, "factor_store", None)
    if store is None or store.db is not application.db:
        store = FactorStore(application.db, application.settings.get("cookie_secret"))
        application.factor_store = store
    return store


# -- the login step between the password and the session ------------------------------------

class LoginChallenge:
    """One pending login step (a loaded ``login_challenges`` document)."""

    def __init__(self, doc):
        self.key = doc["_id"]
        self.user_id = doc["user_id"]
        self.purpose = doc["purpose"]
        self.next_url = doc.get("next_url") or "/admin/"
        self.fingerprint = doc.get("fingerprint")
        self.data = dict(doc.get("data") or {})


class LoginChallengeStore:
    """Pending login steps in ``db[login_challenges]``, each living ``seconds``."""

    PURPOSES = ("verify", "enrol")

    def __init__(self, db, seconds=300, collection=CHALLENGES_COLLECTION):
        self.db = db
        self.collection = db[collection]
        self.lifetime = datetime.timedelta(seconds=int(seconds))

    async def ensure_indexes(self):
        return [await self.collection.create_index("expires_at", expireAfterSeconds=0,
                                                   name="expires_at_ttl")]

    @staticmethod
    def _key(raw_id):
        return hashlib.sha256(raw_id.encode("utf-8")).hexdigest()

    async def create(self, user_id, purpose, next_url, fingerprint):
        """A new step for ``user_id``; returns the raw id (for the signed cookie)."""
        if purpose not in self.PURPOSES:
            raise ValueError(f"unknown login step purpose {purpose!r}")
        raw_id = secrets.token_urlsafe(32)
        now = utcnow()
        await self.collection.insert_one({
            "_id": self._key(raw_id), "user_id": user_id, "purpose": purpose,
            "next_url": next_url, "fingerprint": fingerprint, "data": {},
            "created_at": now, "expires_at": now + self.lifetime})
        return raw_id

    async def load(self, raw_id, purpose):
        """The live step of this purpose for ``raw_id``, else None (expired ones deleted)."""
        if not isinstance(raw_id, str) or not raw_id or len(raw_id) > 128:
            return None
        key = self._key(raw_id)
        doc = await self.collection.find_one({"_id": key})
        if doc is None or doc.get("purpose") != purpose:
            return None
        expires = doc.get("expires_at")
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=datetime.timezone.utc)
        if expires is None or expires <= utcnow():
            await self.collection.delete_one({"_id": key})
            return None
        return LoginChallenge(doc)

    async def set_data(self, challenge, **values):
        """Store ``values`` on the step (e.g. a WebAuthn challenge)."""
        challenge.data.update(values)
        await self.collection.update_one({"_id": challenge.key},
                                         {"$set": {"data": challenge.data}})

    async def consume(self, challenge):
        """Delete the step; True only for the one request that did (single use)."""
        return bool((await self.collection.delete_one({"_id": challenge.key})).deleted_count)
