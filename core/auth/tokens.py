"""API tokens for ``Authorization: Bearer <token>`` (collection ``api_tokens``).

    store = TokenStore(db)
    raw, doc = await store.create(user.id, name="ci", expires_days=30)   # raw shown once
    doc = await store.authenticate(raw)        # None: unknown, revoked or expired
    await store.revoke(doc["_id"])             # or revoke_named(...)

A token is ``bst_`` plus ``secrets.token_urlsafe(32)`` (256 random bits). The
database never sees it: a token document keeps its SHA-256 (``key``), so a copy
of ``api_tokens`` lets nobody in. A token document::

    {"_id": ObjectId, "key": "<sha256 hex>", "user_id": ObjectId, "name": "ci",
     "created_at": datetime, "expires_at": datetime or None, "last_used_at": datetime or None}

Revoking deletes the document. ``last_used_at`` is written at most once per
``touch_seconds`` (60). Whether the token's user is still active is the caller's
check (``core.api`` answers 401 for an inactive user, like an unknown token).
"""
import datetime
import hashlib
import hmac
import re
import secrets

from bson import ObjectId

from .sessions import utcnow

__all__ = ["TOKENS_COLLECTION", "TOKEN_PREFIX", "TokenStore", "hash_token", "new_token"]

TOKENS_COLLECTION = "api_tokens"
TOKEN_PREFIX = "bst_"
TOUCH_SECONDS = 60
MAX_TOKEN_LENGTH = 128
MAX_NAME_LENGTH = 100
NAME_RE = re.compile(r"^[\w.@:+-]{1,100}$")


def _aware(value):
    if isinstance(value, datetime.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=datetime.timezone.utc)
    return value


def new_token():
    """A fresh random token (what the client sends)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(raw):
    """The stored key for ``raw``: its SHA-256, hex."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class TokenError(ValueError):
    """A token cannot be made or found as asked (one line, fit for ``manage.py``)."""


class TokenStore:
    """The ``api_tokens`` collection of ``db`` with the expiry and touch rules."""

    def __init__(self, db, touch_seconds=TOUCH_SECONDS, collection=TOKENS_COLLECTION):
        self.db = db
        self.collection = db[collection]
        self.touch = datetime.timedelta(seconds=touch_seconds)

    async def ensure_indexes(self):
        """A unique index on ``key`` and one on ``user_id``; returns their names."""
        return [
            await self.collection.create_index("key", unique=True, name="key_unique"),
            await self.collection.create_index("user_id", name="user_id"),
        ]

    async def create(self, user_id, name=None, expires_days=None, now=None):
        """Store a new token for ``user_id``: ``(raw token, document)``.

        ``name`` defaults to ``token-<6 hex>``; ``expires_days`` (> 0, may be a
        fraction) sets ``expires_at``, ``None`` means it never expires.
        """
        now = now or utcnow()
        if name is None or name == "":
            name = f"token-{secrets.token_hex(3)}"
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise TokenError("token names are 1-100 letters, digits or . _ @ : + -")
        if ObjectId.is_valid(name) and len(name) == 24:
            raise TokenError("a token name may not look like a token id (24 hex digits)")
        expires_at = None
        if expires_days is not None:
            if not expires_days > 0:
                raise TokenError("--expires takes a number of days greater than 0")
            try:
                expires_at = now + datetime.timedelta(days=expires_days)
            except OverflowError:
                raise TokenError("--expires is too far in the future") from None
        if await self.collection.find_one({"user_id": user_id, "name": name}, {"_id": 1}):
            raise TokenError(f"this user already has a token named {name!r}")
        raw = new_token()
        doc = {"_id": ObjectId(), "key": hash_token(raw), "user_id": user_id, "name": name,
               "created_at": now, "expires_at": expires_at, "last_used_at": None}
        await self.collection.insert_one(doc)
        return raw, doc

    def is_expired(self, doc, now=None):
        expires_at = _aware(doc.get("expires_at"))
        return expires_at is not None and (now or utcnow()) >= expires_at

    async def authenticate(self, raw, now=None):
        """The live token document for ``raw``, else ``None`` (touches ``last_used_at``)."""
        if not isinstance(raw, str) or not raw.startswith(TOKEN_PREFIX) or \
                len(raw) > MAX_TOKEN_LENGTH:
            return None
        key = hash_token(raw)
        doc = await self.collection.find_one({"key": key})
        if doc is None or not hmac.compare_digest(doc.get("key", ""), key):
            return None
        now = now or utcnow()
        if self.is_expired(doc, now):
            return None
        last = _aware(doc.get("last_used_at"))
        if last is None or now - last >= self.touch:
            await self.collection.update_one({"_id": doc["_id"]},
                                             {"$set": {"last_used_at": now}})
            doc["last_used_at"] = now
        return doc

    async def list(self, user_id=None):
        """Token documents (all, or ``user_id``'s), oldest first; never the token itself."""
        flt = {} if user_id is None else {"user_id": user_id}
        return await self.collection.find(flt).sort([("created_at", 1), ("_id", 1)]) \
            .to_list(None)

    async def find(self, id_or_name):
        """The documents ``id_or_name`` names: the token with that id, else those so named."""
        if isinstance(id_or_name, str) and len(id_or_name) == 24 and \
                ObjectId.is_valid(id_or_name):
            doc = await self.collection.find_one({"_id": ObjectId(id_or_name)})
            return [doc] if doc is not None else []
        if not isinstance(id_or_name, str) or not id_or_name:
            return []
        return await self.collection.find({"name": id_or_name}).to_list(None)

    async def revoke(self, token_id):
        """Delete the token ``token_id``; True if there was one."""
        result = await self.collection.delete_one({"_id": token_id})
        return bool(result.deleted_count)

    async def revoke_for_user(self, user_id):
        """Delete every token of ``user_id``; returns how many."""
        result = await self.collection.delete_many({"user_id": user_id})
        return result.deleted_count
