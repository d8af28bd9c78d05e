"""``User`` and ``Role``: who may log in, and the permissions dicts that gate every action.

    user = await User.create_user("alice", "alice@example.com", password="...",
                                  permissions={"blog.article": ["read"]})
    perms = await user.get_permissions(registry)     # core.permissions.Permissions
    perms.has("blog.article", "read")                # True

Usernames and emails are unique by index (``manage.py ensure_indexes``); a
duplicate is a ``UniqueError`` naming the field. The password hash is stored in
``password`` and never leaves the model: ``to_json()``, ``repr()`` and the
commands' output leave it out.
"""
import re

from core.auth.passwords import (dummy_verify, hash_password, validate_password,
                                 verify_password)
from core.auth.tokens import TokenStore
from core.models import Model, ValidationError, fields
from core.permissions import Permissions, merge_permissions

from .fields import PasswordHashField, PermissionsField

USERNAME_RE = re.compile(r"^[\w.@+-]+$")
ROLE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

# The sessions collection and its user field: the contract with the login app.
SESSIONS_COLLECTION = "sessions"
SESSION_USER_FIELD = "user_id"

# Fields never shown: not in to_json, not in the commands' output.
HIDDEN_FIELDS = ("password",)


class Role(Model):
    """A named permissions dict; users holding the role get its grants (union)."""

    name = fields.StringField(max_length=80, required=True, unique=True)
    description = fields.StringField(max_length=200)
    permissions = PermissionsField()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name or "(unnamed role)"

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
                                  help_text="Letters, digits and @ . + - _ only.")
    email = fields.EmailField(required=True, unique=True)
    password = PasswordHashField(help_text="The bcrypt hash; never shown.")
    is_active = fields.BooleanField(default=True)
    is_superuser = fields.BooleanField(default=False)
    permissions = PermissionsField()
    roles = fields.ListField(fields.StringField(max_length=80))
    date_joined = fields.DateTimeField(auto_now_add=True, editable=False)
    last_login = fields.DateTimeField(editable=False)

    class Meta:
        ordering = ["username"]

    def __str__(self):
        return self.username or "(unnamed user)"

    def __repr__(self):
        return f"<User: {self.username}{' (superuser)' if self.is_superuser else ''}>"

    def clean(self):
        super().clean()
        if not USERNAME_RE.match(self.username):
            raise ValidationError("Enter a valid username: letters, digits and @ . + - _ only.",
                                  field="username")
        seen = []
        for name in self.roles:
            if name not in seen:
                seen.append(name)
        self.roles = seen

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

    async def set_password(self, raw, validate=True):
        """Validate ``raw`` (``PasswordError``) and store its bcrypt hash; does not save."""
        if validate:
            validate_password(raw, username=self.username, email=self.email)
        self.password = await hash_password(raw)

    async def check_password(self, raw):
        """True when ``raw`` is the user's password (bcrypt, off the event loop)."""
        if not self.has_usable_password:
            await dummy_verify()
            return False
        return await verify_password(raw, self.password)

    @classmethod
    async def authenticate(cls, username, password, *, db=None):
        """The active user with this username and password, else ``None``.

        Costs one bcrypt check whether or not the username exists, so timing
        does not reveal which usernames exist.
        """
        user = await cls.get_by_username(username, db=db)
        if user is None:
            await dummy_verify()
            return None
        if not await user.check_password(password) or not user.is_active:
            return None
        return user

    # -- look-ups ---------------------------------------------------------------------------
    @classmethod
    async def get_by_username(cls, username, *, db=None):
        if not isinstance(username, str) or not username:
            return None
        return await cls.find_one({"username": username}, db=db)

    @classmethod
    async def create_user(cls, username, email, password=None, *, db=None, validate=True,
                          **extra):
        """A new saved user; ``password`` is validated and hashed (``None``: no login)."""
        user = cls(username=username, email=email, **extra)
        user.clean()
        if password is not None:
            await user.set_password(password, validate=validate)
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
        result = await db[SESSIONS_COLLECTION].delete_many({SESSION_USER_FIELD: self.id})
        return getattr(result, "deleted_count", 0)
