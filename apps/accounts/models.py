"""``User`` and ``Role``: who may log in, and the permissions dicts that gate every action.

    user = await User.create_user("alice", "alice@example.com", password="...",
                                  permissions={"blog.article": ["read"]})
    perms = await user.get_permissions(registry)     # core.permissions.Permissions
    perms.has("blog.article", "read")                # True

Usernames and emails are unique by index (``manage.py ensure_indexes``), and
unique once case, width and look-alike letters are ignored: ``clean()`` stores
each one's ``core.auth.identity.identity_key`` in ``username_key`` /
``email_key``, each under a unique index. A duplicate is a ``UniqueError``
naming ``username`` or ``email``. A new (or renamed) username that mixes
alphabets (a Cyrillic "а" in "аdmin") is refused. Documents stored before the
keys existed get them in ``User.ensure_indexes`` (start-up, ``manage.py
ensure_indexes``), or on their next save.

The password hash is stored in ``password`` and never leaves the model:
``to_json()``, ``repr()`` and the commands' output leave it out.

``language`` and ``time_zone`` are the user's preferences (their account page sets
them): a code from ``settings.LANGUAGES`` and an IANA zone name ``zoneinfo`` knows,
or empty for the site's defaults. Translating pages and showing times in the zone is
done by the pages that read them. Second factors are not stored here but in
``core.auth.twofactor``'s collection, so nothing secret rides along with a user.
"""
import logging
import re

from core.auth.identity import identity_key, mixed_script, scripts
from core.auth.passwords import (dummy_verify, hash_password, needs_rehash, validate_password,
                                 verify_password)
from core.auth.sessions import SESSIONS_COLLECTION, end_user_sessions, invalidate_auth_cache
from core.auth.tokens import TokenStore
from core.i18n import gettext_lazy as _l
from core.models import Model, UniqueError, ValidationError, fields
from core.permissions import Permissions, merge_permissions
from core.timezones import is_zone_name

from .fields import IdentityKeyField, PasswordHashField, PermissionsField

log = logging.getLogger("bastion.accounts")

USERNAME_RE = re.compile(r"^[\w.@+-]+$")
ROLE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


# Fields never shown: not in to_json, not in the commands' output.
HIDDEN_FIELDS = ("password", "username_key", "email_key")
# identity key field -> the field it is the key of (what a duplicate's error names)
IDENTITY_KEYS = {"username_key": "username", "email_key": "email"}


def language_codes():
    """The codes of ``settings.LANGUAGES`` (what a user may choose)."""
    from core.conf import settings
    return [code for code, _name in settings.get("LANGUAGES", [])]


class Role(Model):
    """A named permissions dict; users holding the role get its grants (union)."""

    name = fields.StringField(max_length=80, required=True, unique=True, verbose_name=_l("name"))
    description = fields.StringField(max_length=200, verbose_name=_l("description"))
    permissions = PermissionsField(verbose_name=_l("permissions"))

    class Meta:
        ordering = ["name"]
        verbose_name = _l("role")
        verbose_name_plural = _l("roles")

    def __str__(self):
        return self.name or "(unnamed role)"

    async def after_write(self, database, deleted):
        """A changed role changes what its holders may do: every process's auth cache
        forgets them."""
        await invalidate_auth_cache(database)

    def clean(self):
        super().clean()
        if not ROLE_NAME_RE.match(self.name):
            raise ValidationError("Role names use letters, digits and . _ - (no spaces).",
                                  field="name")

    @classmethod
    async def get_by_name(cls, name, *, db=None):
        return await cls.find_one({"name": name}, db=db) if isinstance(name, str) else None

    @classmethod
    async def load(cls, names, *, db=None):
        """``{name: permissions dict}`` for the named roles that exist (a roles loader)."""
        names = [n for n in names if isinstance(n, str)]
        if not names:
            return {}
        roles = await cls.find({"name": {"$in": names}}, db=db).to_list(None)
        return {role.name: role.permissions for role in roles}


class User(Model):
    """Someone who may log in to the admin, with their permissions."""

    username = fields.StringField(max_length=150, required=True, unique=True,
                                  verbose_name=_l("username"),
                                  help_text=_l("Letters, digits and @ . + - _ only."))
    email = fields.EmailField(required=True, unique=True, verbose_name=_l("email"))
    password = PasswordHashField(help_text=_l("The bcrypt hash; never shown."))
    is_active = fields.BooleanField(default=True, verbose_name=_l("is active"))
    is_superuser = fields.BooleanField(default=False, verbose_name=_l("is superuser"))
    permissions = PermissionsField(verbose_name=_l("permissions"))
    roles = fields.ListField(fields.StringField(max_length=80), verbose_name=_l("roles"))
    date_joined = fields.DateTimeField(auto_now_add=True, editable=False,
                                       verbose_name=_l("date joined"))
    last_login = fields.DateTimeField(editable=False, verbose_name=_l("last login"))
    username_key = IdentityKeyField("username")
    email_key = IdentityKeyField("email")
    language = fields.StringField(max_length=20, verbose_name=_l("language"),
                                  help_text=_l("Empty: the site's language."))
    time_zone = fields.StringField(max_length=64, verbose_name=_l("time zone"),
                                   help_text=_l("Empty: the site's time zone."))

    class Meta:
        ordering = ["username"]
        verbose_name = _l("user")
        verbose_name_plural = _l("users")

    def __str__(self):
        return self.username or "(unnamed user)"

    def __repr__(self):
        return f"<User: {self.username}{' (superuser)' if self.is_superuser else ''}>"

    def clean(self):
        super().clean()
        if not USERNAME_RE.match(self.username):
            raise ValidationError("Enter a valid username: letters, digits and @ . + - _ only.",
                                  field="username")
        self._set_identity_keys()
        self._check_preferences()
        seen = []
        for name in self.roles:
            if name not in seen:
                seen.append(name)
        self.roles = seen

    def _check_preferences(self):
        """``language`` in ``settings.LANGUAGES`` and ``time_zone`` a zone ``zoneinfo`` knows
        (either may be empty); called by ``clean``."""
        if self.language and self.language not in language_codes():
            raise ValidationError(f"Select a language from the list; {self.language!r} is not "
                                  "one of them.", field="language")
        if self.time_zone and not is_zone_name(self.time_zone):
            raise ValidationError(f"Enter a time zone such as Europe/Paris; "
                                  f"{self.time_zone!r} is not one.", field="time_zone")

    def _set_identity_keys(self):
        """Store the identity keys of the username and email (called by ``clean``).

        A username that is new or changed since the user was loaded must be
        written in one alphabet (one stored before the rule is left alone). A
        key ``ensure_indexes`` gave a legacy duplicate (``"<key> <id>"``) is kept
        while the name keeps that key.
        """
        if self.username != getattr(self, "_stored_username", None) and \
                mixed_script(self.username):
            found = " and ".join(sorted(scripts(self.username)))
            raise ValidationError(
                f"Enter a username in one alphabet: this one mixes {found} letters, "
                f"which can pass for another name.", field="username", code="invalid")
        for key_name, source in IDENTITY_KEYS.items():
            key = identity_key(getattr(self, source))
            if self.id is None or self._data.get(key_name) != f"{key} {self.id}":
                self._data[key_name] = key

    @classmethod
    def from_bson(cls, doc, db=None):
        """``Model.from_bson``, remembering the stored username (for the alphabet rule)."""
        obj = super().from_bson(doc, db)
        obj._stored_username = obj.username
        return obj

    async def after_write(self, database, deleted):
        """A saved or deleted user may do something else now: every process's auth cache
        forgets the user (the sessions a deactivation or a new password ends go too)."""
        await invalidate_auth_cache(database)

    async def reload(self, *, db=None):
        """``Model.reload``, remembering the stored username again."""
        await super().reload(db=db)
        self._stored_username = self.username
        return self

    async def save(self, *, db=None):
        """Save (``Model.save``); a taken username or email, in any case or look-alike
        spelling, is a ``UniqueError`` on ``username`` / ``email``."""
        try:
            await super().save(db=db)
        except UniqueError as exc:
            source = IDENTITY_KEYS.get(exc.field, exc.field)
            if source not in IDENTITY_KEYS.values():
                raise
            label = self._meta.fields[source].verbose_name
            raise UniqueError(f"User with this {label} already exists.", field=source,
                              index=exc.index) from None
        self._stored_username = self.username
        return self

    @classmethod
    async def ensure_indexes(cls, *, db=None):
        """Give stored users their identity keys, then create the indexes.

        Runs at start-up and in ``manage.py ensure_indexes``. A user without keys
        gets them; if an older user already holds the same key (``Alice`` and
        ``alice`` both stored before keys existed), the younger one's key becomes
        ``"<key> <id>"``: both keep working, a warning names them, and nobody can
        take either spelling again. The key is written without a new version
        (nothing a person sees changed).
        """
        collection = cls.get_collection(db)
        missing = {"$or": [{name: None} for name in IDENTITY_KEYS]}
        for doc in await collection.find(missing, sort=[("_id", 1)]).to_list(None):
            update = {}
            for key_name, source in IDENTITY_KEYS.items():
                if doc.get(key_name) is not None or not isinstance(doc.get(source), str):
                    continue
                key = identity_key(doc[source])
                other = await collection.find_one({key_name: key, "_id": {"$ne": doc["_id"]}},
                                                  {source: 1})
                if other is not None:
                    log.warning("users %r and %r have the same %s once case and look-alike "
                                "letters are ignored; rename one of them", other.get(source),
                                doc[source], source)
                    key = f"{key} {doc['_id']}"
                update[key_name] = key
            if "username_key" in update and mixed_script(doc.get("username") or ""):
                log.warning("user %r mixes alphabets in its username; consider renaming it",
                            doc.get("username"))
            if update:
                await collection.update_one({"_id": doc["_id"]}, {"$set": update})
        return await super().ensure_indexes(db=db)

    def to_json(self):
        """The user as JSON, without the password hash."""
        out = super().to_json()
        for name in HIDDEN_FIELDS:
            out.pop(name, None)
        return out

    # -- passwords -------------------------------------------------------------------------
    @property
    def has_usable_password(self):
        return bool(self.password) and self.password.startswith("$2")

    async def set_password(self, raw, validate=True, rounds=None):
        """Validate ``raw`` (``PasswordError``) and store its bcrypt hash; does not save.

        ``rounds`` is the bcrypt cost (default ``settings.BCRYPT_ROUNDS``).
        """
        if validate:
            validate_password(raw, username=self.username, email=self.email)
        self.password = await hash_password(raw, rounds)

    async def check_password(self, raw, rounds=None):
        """True when ``raw`` is the user's password (bcrypt, off the event loop).

        Costs what a check at ``rounds`` (default ``settings.BCRYPT_ROUNDS``)
        costs, whatever the stored hash's cost or a missing password.
        """
        if not self.has_usable_password:
            await dummy_verify(rounds)
            return False
        return await verify_password(raw, self.password, rounds=rounds)

    async def rehash_password(self, raw, rounds=None, *, db=None):
        """Store ``raw`` (just checked) hashed at ``rounds``, if the stored cost differs.

        Called at login. Written only if the stored hash is still the one checked,
        and without a new version: the password did not change, so nobody's open
        form goes stale. True if it rehashed.
        """
        if not self.has_usable_password or not needs_rehash(self.password, rounds):
            return False
        new = await hash_password(raw, rounds)
        result = await type(self).get_collection(db if db is not None else self._db).update_one(
            {"_id": self.id, "password": self.password}, {"$set": {"password": new}})
        if not result.matched_count:
            return False
        self.password = new
        return True

    @classmethod
    async def authenticate(cls, username, password, *, db=None, rounds=None):
        """The active user with this username and password, else ``None``.

        ``username`` matches exactly, else by identity key (any case, width or
        look-alike spelling). Costs one bcrypt check at ``rounds`` (default
        ``settings.BCRYPT_ROUNDS``) whether or not the username exists, so timing
        does not reveal which usernames exist; a right password stored at another
        cost is rehashed at ``rounds``.
        """
        user = await cls.get_by_username(username, db=db)
        if user is None:
            await dummy_verify(rounds)
            return None
        if not await user.check_password(password, rounds) or not user.is_active:
            return None
        await user.rehash_password(password, rounds, db=db)
        return user

    # -- look-ups ---------------------------------------------------------------------------
    @classmethod
    async def get_by_username(cls, username, *, db=None):
        """The user named exactly ``username``, else the one with its identity key, or None."""
        if not isinstance(username, str) or not username:
            return None
        key = identity_key(username)
        found = await cls.find({"$or": [{"username": username}, {"username_key": key}]},
                               limit=5, db=db).to_list(None)
        exact = [user for user in found if user.username == username]
        keyed = [user for user in found if user.username_key == key]
        return (exact or keyed or [None])[0]

    @classmethod
    async def get_by_email(cls, email, *, db=None):
        """The user whose email is ``email`` once case and look-alikes are ignored, or None."""
        if not isinstance(email, str) or not email:
            return None
        found = await cls.find({"$or": [{"email": email}, {"email_key": identity_key(email)}]},
                               limit=5, db=db).to_list(None)
        exact = [user for user in found if user.email == email]
        return (exact or found or [None])[0]

    @classmethod
    async def create_user(cls, username, email, password=None, *, db=None, validate=True,
                          rounds=None, **extra):
        """A new saved user; ``password`` is validated and hashed at ``rounds`` (default
        ``settings.BCRYPT_ROUNDS``; ``None`` password: no login)."""
        user = cls(username=username, email=email, **extra)
        user.clean()
        if password is not None:
            await user.set_password(password, validate=validate, rounds=rounds)
        await user.save(db=db)
        return user

    # -- permissions ------------------------------------------------------------------------
    async def get_permissions(self, registry=None, *, db=None, object_rules=None):
        """The user's ``core.permissions.Permissions`` (roles loaded from the database)."""
        async def load_roles(names):
            return await Role.load(names, db=db)
        return await Permissions.for_user(self, load_roles, registry, object_rules=object_rules)

    async def stored_grants(self, *, db=None):
        """Everything the user is *stored* to hold: direct grants plus every role's grants,
        active or not (``Permissions`` of an inactive user is empty; this is not).

        What the escalation rules compare: an account is "stronger" than an editor
        when this holds a grant the editor lacks (or the account is a superuser).
        """
        roles = await Role.load(list(self.roles or ()), db=db)
        return merge_permissions(self.permissions or {}, *roles.values())

    async def is_last_active_superuser(self, *, db=None):
        """True when this user is an active superuser and no other active one exists."""
        if not (self.is_superuser and self.is_active):
            return False
        others = await type(self).count({"is_superuser": True, "is_active": True,
                                         "_id": {"$ne": self.id}}, limit=1, db=db)
        return others == 0

    async def revoke_tokens(self, db):
        """Delete every API token of the user; returns how many (never brought back)."""
        return await TokenStore(db).revoke_for_user(self.id)

    async def end_sessions(self, db):
        """Delete the user's sessions (log them out everywhere); returns how many."""
        return await end_user_sessions(db[SESSIONS_COLLECTION], self.id)

    async def end_access(self, db):
        """End every session and revoke every API token: what a deactivation, a deletion
        or a password set by someone else does. Returns ``(sessions, tokens)`` ended."""
        return await self.end_sessions(db), await self.revoke_tokens(db)
