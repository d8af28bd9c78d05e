"""The permission engine: may this user do ACTION on MODEL (and on this object)?

A permissions dict maps a model key to the actions granted on it::

    {"blog.article": ["read", "write"], "accounts.user": ["read"]}

A user holds one directly (``user.permissions``) and may hold roles (named
dicts, ``user.roles``). Their union is what the user may do. A superuser may do
everything; an inactive user nothing. Actions are ``read``, ``write``,
``delete`` and the extra actions a model declares (``Meta.extra_actions``,
listed in ``Model._meta.actions``).

One object answers every check, computed once per request::

    perms = await Permissions.for_user(user, roles_loader, registry=registry)
    perms.has("blog.article", "write")                       # model level
    perms.has("blog.article", "delete", obj=article,         # and this object
              object_rule=lambda user, action, obj: obj.author_id == user.id)
    perms.effective()   # {"blog.article": ["read", "write"]}
    perms.sources()     # {"blog.article": {"read": ["user"], "write": ["role:editors"]}}

The engine works on plain data: ``user`` is any object (or dict) with
``is_active``, ``is_superuser``, ``permissions`` and ``roles``; a
``roles_loader`` is any callable (plain or async) taking role names and
returning ``{name: permissions dict}``; a ``registry`` is a
``core.registry.Registry`` or a mapping ``{model key: Model class or actions}``.
Core never imports the accounts app: the app hands its role loader in.
"""
import inspect
import re
from collections.abc import Mapping

from core.models.options import DEFAULT_ACTIONS

__all__ = [
    "ACTION_RE", "DEFAULT_ACTIONS", "GrantError", "MODEL_KEY_RE", "PermissionDenied",
    "Permissions", "describe_grants", "merge_permissions", "model_actions",
    "normalize_permissions", "validate_grant",
]

MODEL_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
ACTION_RE = re.compile(r"^[a-z][a-z0-9_]*$")

SOURCE_USER = "user"
SOURCE_SUPERUSER = "superuser"
ROLE_PREFIX = "role:"


class PermissionDenied(Exception):
    """The user may not do this; handlers answer 403 (``check`` raises it)."""

    def __init__(self, message="You do not have permission to do this.", model_key=None,
                 action=None):
        super().__init__(message)
        self.model_key = model_key
        self.action = action


class GrantError(ValueError):
    """A grant names an unknown model or an action the model does not declare.

    The message is one line, fit for ``manage.py``'s ``error: ...``.
    """


# -- plain-data helpers ---------------------------------------------------------------------

def normalize_permissions(data):
    """A clean copy of a permissions dict: lower-case keys, sorted unique actions.

    Keys with no actions are dropped. Raises ``ValueError`` for anything that
    is not ``{"app.model": [action, ...]}``.
    """
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ValueError(f"permissions must be a dict of model key to actions, not "
                         f"{type(data).__name__}")
    clean = {}
    for key, actions in data.items():
        if not isinstance(key, str) or not MODEL_KEY_RE.match(key.strip().lower()):
            raise ValueError(f"{key!r} is not a model key (expected 'app_label.model_name')")
        key = key.strip().lower()
        if isinstance(actions, str):
            actions = actions.split(",")
        if not isinstance(actions, (list, tuple, set, frozenset)):
            raise ValueError(f"the actions for {key} must be a list of names, not "
                             f"{type(actions).__name__}")
        names = set()
        for action in actions:
            if not isinstance(action, str):
                raise ValueError(f"the actions for {key} must be names, not "
                                 f"{type(action).__name__}")
            action = action.strip().lower()
            if not action:
                continue
            if not ACTION_RE.match(action):
                raise ValueError(f"{action!r} is not an action name (for {key})")
            names.add(action)
        if names:
            clean[key] = sorted(set(clean.get(key, ())) | names)
    return clean


def merge_permissions(*dicts):
    """The union of several permissions dicts (a new, normalised dict)."""
    merged = {}
    for data in dicts:
        for key, actions in normalize_permissions(data).items():
            merged.setdefault(key, set()).update(actions)
    return {key: sorted(actions) for key, actions in sorted(merged.items())}


def model_actions(registry):
    """``{model key: (action, ...)}`` for every model ``registry`` knows.

    ``registry`` is a ``core.registry.Registry`` (its ``models``), or a mapping
    of model key to a Model class (its ``_meta.actions``) or to an iterable of
    action names (for plain-data use and tests).
    """
    if registry is None:
        return {}
    models = getattr(registry, "models", registry)
    if not isinstance(models, Mapping):
        raise TypeError(f"expected a Registry or a mapping of models, not "
                        f"{type(registry).__name__}")
    out = {}
    for key, value in models.items():
        meta = getattr(value, "_meta", None)
        actions = tuple(meta.actions) if meta is not None else tuple(value)
        out[key.lower()] = actions
    return out


def validate_grant(registry, model_key, actions=()):
    """Check a grant against the installed models; return ``(key, [actions])``.

    ``model_key`` is matched case-insensitively; ``actions`` may be empty (a
    revoke of everything on the model). Raises ``GrantError`` for an unknown
    model key or an action the model does not declare, naming what is allowed.
    """
    known = model_actions(registry)
    key = model_key.strip().lower() if isinstance(model_key, str) else model_key
    if key not in known:
        installed = ", ".join(sorted(known)) or "none"
        raise GrantError(f"unknown model {model_key!r} (installed models: {installed})")
    allowed = known[key]
    clean = []
    for action in actions:
        name = action.strip().lower() if isinstance(action, str) else action
        if name not in allowed:
            raise GrantError(f"model {key} has no action {action!r} (its actions: "
                             f"{', '.join(allowed)})")
        if name not in clean:
            clean.append(name)
    return key, clean


def describe_grants(grants):
    """``"blog.article: delete, publish; notes.note: read"``: a permissions dict as text."""
    return "; ".join(f"{key}: {', '.join(actions)}" for key, actions in sorted(grants.items()))


def _get(user, name, default=None):
    if user is None:
        return default
    if isinstance(user, Mapping):
        return user.get(name, default)
    return getattr(user, name, default)


async def _maybe_await(value):
    if inspect.isawaitable(value):
        return await value
    return value


# -- the engine ------------------------------------------------------------------------------

class Permissions:
    """What one user may do, computed once (per request) from plain data.

    Build it with ``await Permissions.for_user(user, roles_loader, registry=...)``
    or directly with the role dicts already loaded. ``has`` is the one question
    every handler asks; ``check`` raises ``PermissionDenied`` instead of
    returning ``False``.

    ``object_rules`` maps a model key to callables ``rule(user, action, obj) ->
    bool`` that every object-level check on that model must pass (add more with
    ``add_object_rule``). An active superuser may do everything, object rules
    included (as in Django): the rules narrow what ordinary grants allow, they do
    not lock out the operator of last resort.
    """

    def __init__(self, user=None, roles=None, registry=None, *, object_rules=None):
        self.user = user
        self.is_active = bool(_get(user, "is_active", True)) if user is not None else False
        self.is_superuser = bool(_get(user, "is_superuser", False))
        self.direct = normalize_permissions(_get(user, "permissions", None) or {})
        wanted = list(_get(user, "roles", None) or [])
        roles = roles or {}
        # only the roles the user holds, in the user's order; unknown names grant nothing
        self.roles = {name: normalize_permissions(roles[name]) for name in wanted
                      if name in roles}
        self.models = model_actions(registry) if registry is not None else None
        self.object_rules = {}
        for key, rules in (object_rules or {}).items():
            for rule in (rules if isinstance(rules, (list, tuple)) else [rules]):
                self.add_object_rule(key, rule)
        self._sources = self._compute_sources()

    @classmethod
    async def for_user(cls, user, roles_loader=None, registry=None, *, object_rules=None):
        """Load the user's roles with ``roles_loader(names)`` and build the permissions.

        ``roles_loader`` may be plain or async and returns ``{name: permissions
        dict}`` (or an iterable of objects with ``name`` and ``permissions``).
        Neither an inactive user nor a superuser needs their roles loaded.
        """
        names = list(_get(user, "roles", None) or [])
        roles = {}
        active = user is not None and bool(_get(user, "is_active", True))
        if names and roles_loader is not None and active and not _get(user, "is_superuser"):
            loaded = await _maybe_await(roles_loader(names))
            if isinstance(loaded, Mapping):
                roles = dict(loaded)
            else:
                roles = {_get(role, "name"): _get(role, "permissions") or {}
                         for role in loaded or ()}
        return cls(user, roles, registry, object_rules=object_rules)

    # -- computing -----------------------------------------------------------------------
    def _compute_sources(self):
        if not self.is_active:
            return {}
        if self.is_superuser:
            return {key: {action: [SOURCE_SUPERUSER] for action in actions}
                    for key, actions in sorted((self.models or {}).items())}
        sources = {}
        layers = [(SOURCE_USER, self.direct)]
        layers += [(ROLE_PREFIX + name, perms) for name, perms in self.roles.items()]
        for source, perms in layers:
            for key, actions in perms.items():
                per_model = sources.setdefault(key, {})
                for action in actions:
                    holders = per_model.setdefault(action, [])
                    if source not in holders:
                        holders.append(source)
        return {key: dict(sorted(per_model.items())) for key, per_model in sorted(sources.items())}

    # -- questions -----------------------------------------------------------------------
    def effective(self):
        """``{model key: [actions, sorted]}`` the user may do (model level).

        A superuser's lists every registered model with all its actions (when
        built with a registry); an inactive user's is empty.
        """
        return {key: sorted(per_model) for key, per_model in self._sources.items()}

    def sources(self):
        """``{model key: {action: [sources]}}``: ``"user"``, ``"role:NAME"`` or ``"superuser"``."""
        return {key: {action: list(holders) for action, holders in per_model.items()}
                for key, per_model in self._sources.items()}

    def actions(self, model_key):
        """The actions the user may do on ``model_key`` (a sorted list)."""
        if self.is_active and self.is_superuser and self.models is not None:
            return sorted(self.models.get(model_key.lower(), ()))
        return sorted(self._sources.get(model_key.lower(), {}))

    def add_object_rule(self, model_key, rule):
        """Every object-level check on ``model_key`` must also pass ``rule(user, action, obj)``."""
        if not callable(rule):
            raise TypeError(f"an object rule must be callable, not {rule!r}")
        self.object_rules.setdefault(model_key.lower(), []).append(rule)
        return rule

    def has(self, model_key, action, obj=None, object_rule=None):
        """May the user do ``action`` on ``model_key`` (and, given ``obj``, on that object)?

        Inactive → no. Active superuser → yes, whatever the rules. Otherwise the
        action must be in the union of the user's and roles' grants. With
        ``obj``, every object rule registered for the model and the
        ``object_rule`` given here must return true.
        """
        if not self.is_active or not isinstance(model_key, str) or not isinstance(action, str):
            return False
        key = model_key.lower()
        if self.is_superuser:
            return True
        if action not in self._sources.get(key, {}):
            return False
        if obj is not None:
            rules = list(self.object_rules.get(key, ()))
            if object_rule is not None:
                rules.append(object_rule)
            for rule in rules:
                if not rule(self.user, action, obj):
                    return False
        return True

    def check(self, model_key, action, obj=None, object_rule=None):
        """``has``, raising ``PermissionDenied`` when the answer is no."""
        if not self.has(model_key, action, obj=obj, object_rule=object_rule):
            raise PermissionDenied(f"You may not {action} {model_key}"
                                   f"{' (this object)' if obj is not None else ''}.",
                                   model_key=model_key, action=action)

    def filter_objects(self, model_key, action, objects, object_rule=None):
        """The objects the user may ``action`` (bulk actions check each object)."""
        return [obj for obj in objects
                if self.has(model_key, action, obj=obj, object_rule=object_rule)]

    # -- what an editor may hand out or take away (the escalation rules) ----------------
    def lacks(self, grants):
        """``{key: [actions]}`` of ``grants`` (a permissions dict) this user does not hold.

        The one question the accounts admin asks to keep editors from escalating: a
        grant, role or user is beyond an editor when ``editor.lacks(its grants)`` is
        not empty. A superuser lacks nothing.
        """
        missing = {}
        for key, actions in (grants or {}).items():
            for action in actions:
                if not self.has(key, action):
                    missing.setdefault(key, []).append(action)
        return missing

    def holds_all(self, grants):
        """True when this user holds every grant of ``grants``."""
        return not self.lacks(grants)

    def readable_models(self):
        """Model keys the user may read, sorted (the admin index lists these)."""
        if self.is_active and self.is_superuser and self.models is not None:
            return sorted(self.models)
        return sorted(key for key, per_model in self._sources.items() if "read" in per_model)

    def as_json(self):
        """The ``manage.py perms --json`` shape (without the username)."""
        return {"is_superuser": self.is_superuser, "is_active": self.is_active,
                "effective": self.effective(), "sources": self.sources()}

    def __repr__(self):
        who = _get(self.user, "username", None)
        return f"<Permissions {who or '?'}: {self.effective()}>"
