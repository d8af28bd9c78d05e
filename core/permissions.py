"""The permission engine: may this user do ACTION on MODEL (and on this object)?

A permissions dict maps a model key to the entries granted on it::

    {"blog.article": ["read", "write:own", "delete:own"],
     "shop.customer": ["read", "write", "-read:notes", "-write:email"],
     "blog.comment": ["write@2026-12-31T18:00Z"]}

Each entry is one string (docs/permissions.md, "Scopes, fields and expiry"):

* ``action`` — the action on every object of the model;
* ``action:scope`` — only on the objects the model admin's scope ``scope`` matches
  (``ModelAdmin.scopes``); the engine knows scopes by name only;
* ``-read:field`` hides a field from this dict's ``read`` (hidden fields cannot be
  written either), ``-write:field`` freezes it for this dict's ``write``;
* ``...@YYYY-MM-DDTHH:MM[:SS]Z`` — a grant that stops applying at that instant (UTC).

A user holds one dict directly (``user.permissions``) and may hold roles (named
dicts, ``user.roles``). Their union is what the user may do: an unscoped grant
beats a scoped one, a field is hidden (frozen) only when every dict granting
``read`` (``write``) hides (freezes) it. A superuser may do everything; an
inactive user nothing. Actions are ``read``, ``write``, ``delete`` and the extra
actions a model declares (``Meta.extra_actions``, listed in ``Model._meta.actions``).

One object answers every check, computed once per request (expiry is compared
with ``now``, the time it was built)::

    perms = await Permissions.for_user(user, roles_loader, registry=registry)
    perms.has("blog.article", "write")                       # model level
    perms.reach("blog.article", "write")    # UNSCOPED, frozenset({"own"}) or None
    perms.has("blog.article", "delete", obj=article,         # and this object
              object_rule=lambda user, action, obj: obj.author_id == user.id,
              scope_match=lambda scope, obj: ...)
    perms.hidden_fields("shop.customer")    # frozenset({"notes"})
    perms.effective()   # {"blog.article": ["read", "write:own"]}
    perms.sources()     # {"blog.article": {"read": ["user"], "write:own": ["role:editors"]}}
    perms.grant_table() # one row per model and action: reach and every source

The engine works on plain data: ``user`` is any object (or dict) with
``is_active``, ``is_superuser``, ``permissions`` and ``roles``; a
``roles_loader`` is any callable (plain or async) taking role names and
returning ``{name: permissions dict}``; a ``registry`` is a
``core.registry.Registry`` or a mapping ``{model key: Model class or actions}``.
Core never imports the accounts app: the app hands its role loader in.
"""
import copy
import datetime
import functools
import inspect
import re
from collections.abc import Mapping
from typing import NamedTuple, Optional

from core.i18n import gettext
from core.i18n import gettext_lazy as _l
from core.models.options import DEFAULT_ACTIONS

__all__ = [
    "ACTION_RE", "DEFAULT_ACTIONS", "Entry", "GrantError", "MODEL_KEY_RE", "PermissionDenied",
    "Permissions", "UNSCOPED", "describe_grants", "format_until", "merge_permissions",
    "model_actions", "normalize_permissions", "parse_entry", "parse_until", "validate_grant",
]

MODEL_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
ACTION_RE = re.compile(r"^[a-z][a-z0-9_]*$")
ENTRY_RE = re.compile(r"^(?P<minus>-)?(?P<action>[a-z][a-z0-9_]*)"
                      r"(?::(?P<qualifier>[a-z_][a-z0-9_]*))?$")
#: a field restriction naming a path into a sub-document (refused: see ``_parse_entry``)
NESTED_FIELD_RE = re.compile(r"^-(?:read|write):[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+$")
UNTIL_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?Z$")

SOURCE_USER = "user"
SOURCE_SUPERUSER = "superuser"
ROLE_PREFIX = "role:"
#: the words of a source a page shows in its language (``source_label(translate=...)``;
#: listed for the catalogs)
SOURCE_WORDS = (_l("user"), _l("superuser"), _l("role:%(name)s"), _l("scope %(scope)s"),
                _l("until %(until)s"))

#: the kinds of entry: a grant, a hidden field, a frozen field
GRANT, HIDE, FREEZE = "grant", "hide", "freeze"


class _Unscoped:
    """The answer of ``Permissions.reach`` for an action on every object."""

    def __repr__(self):
        return "UNSCOPED"


UNSCOPED = _Unscoped()


class PermissionDenied(Exception):
    """The user may not do this; handlers answer 403 (``check`` raises it)."""

    def __init__(self, message="You do not have permission to do this.", model_key=None,
                 action=None):
        super().__init__(message)
        self.model_key = model_key
        self.action = action


class GrantError(ValueError):
    """A grant names an unknown model, an action the model does not declare, a scope its
    admin does not declare or a field it does not have.

    The message is one line, fit for ``manage.py``'s ``error: ...``.
    """


# -- entries ---------------------------------------------------------------------------------

def _utc(value):
    if value.tzinfo is None:
        return value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc)


def format_until(moment):
    """An expiry as stored: ``2026-12-31T18:00Z`` (seconds only when there are some)."""
    moment = _utc(moment).replace(microsecond=0)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ" if moment.second else "%Y-%m-%dT%H:%MZ")


def parse_until(text):
    """``2026-12-31T18:00`` (UTC), ``...Z`` or ``...+02:00`` → an aware UTC datetime.

    Raises ``ValueError`` with a message naming the expected form.
    """
    raw = text.strip() if isinstance(text, str) else ""
    try:
        moment = datetime.datetime.fromisoformat(raw[:-1] + "+00:00" if raw[-1:] in "zZ" and raw
                                                 else raw)
    except ValueError:
        raise ValueError(gettext("%(text)s is not a time (expected YYYY-MM-DDTHH:MM, UTC, or "
                                 "with an offset such as +02:00)") % {"text": repr(text)}) \
            from None
    return _utc(moment).replace(microsecond=0)


class Entry(NamedTuple):
    """One parsed entry of a permissions dict (``parse_entry``)."""

    text: str                  # the canonical string, as stored
    kind: str                  # GRANT, HIDE or FREEZE
    action: str
    scope: Optional[str]       # a grant's scope name, or None (every object)
    field: Optional[str]       # the hidden or frozen field
    until: Optional[datetime.datetime]

    def active(self, now):
        """Does the entry apply at ``now``?"""
        return self.until is None or now < self.until


def parse_entry(text):
    """``"write:own@2026-12-31T18:00Z"`` → an ``Entry``; ``ValueError`` if it is not one.

    Answers are cached (entries repeat across requests and users: the engine parses
    every entry of every dict on each request)."""
    if not isinstance(text, str):
        raise ValueError(gettext("a permission entry must be text, not %(type)s") % {
            "type": type(text).__name__})
    return _parse_entry(text)


@functools.lru_cache(maxsize=8192)
def _parse_entry(text):
    body, at, stamp = text.strip().partition("@")
    match = ENTRY_RE.match(body.lower())
    if match is None and NESTED_FIELD_RE.match(body.lower()):
        top = body.partition(":")[2].partition(".")[0]
        raise ValueError(gettext("%(text)s: a field restriction names a top-level field; "
                                 "restrict %(field)s whole (a sub-document's parts are not "
                                 "restricted one by one: its label, search, filters and "
                                 "history would show them)") % {"text": repr(text),
                                                                "field": repr(top)})
    if match is None:
        raise ValueError(gettext("%(text)s is not a permission entry (expected %(forms)s, "
                                 "optionally with %(expiry)s)") % {
            "text": repr(text), "forms": "'action', 'action:scope', '-read:field' or "
                                         "'-write:field'", "expiry": "'@YYYY-MM-DDTHH:MMZ'"})
    until = None
    if at:
        if not UNTIL_RE.match(stamp.upper()):
            raise ValueError(gettext("%(text)s has no valid expiry (expected %(expiry)s, UTC)")
                             % {"text": repr(text), "expiry": "'@YYYY-MM-DDTHH:MMZ'"})
        until = parse_until(stamp.upper())
    action, qualifier = match["action"], match["qualifier"]
    if match["minus"]:
        if action not in ("read", "write") or qualifier is None:
            raise ValueError(gettext("%(text)s: only %(read)s and %(write)s restrict fields")
                             % {"text": repr(text), "read": "'-read:field'",
                                "write": "'-write:field'"})
        if until is not None:
            raise ValueError(gettext("%(text)s: a field restriction cannot expire (it would "
                                     "widen access when it did)") % {"text": repr(text)})
        kind = HIDE if action == "read" else FREEZE
        return Entry(f"-{action}:{qualifier}", kind, action, None, qualifier, None)
    canonical = action + (f":{qualifier}" if qualifier else "") + \
        (f"@{format_until(until)}" if until else "")
    return Entry(canonical, GRANT, action, qualifier, None, until)


# -- plain-data helpers ---------------------------------------------------------------------

def normalize_permissions(data):
    """A clean copy of a permissions dict: lower-case keys, canonical sorted unique entries.

    Keys with no entries are dropped. Raises ``ValueError`` for anything that
    is not ``{"app.model": [entry, ...]}``.
    """
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ValueError(gettext("permissions must be a dict of model key to actions, not "
                                 "%(type)s") % {"type": type(data).__name__})
    clean = {}
    for key, actions in data.items():
        if not isinstance(key, str) or not MODEL_KEY_RE.match(key.strip().lower()):
            raise ValueError(gettext("%(key)s is not a model key (expected %(form)s)") % {
                "key": repr(key), "form": "'app_label.model_name'"})
        key = key.strip().lower()
        if isinstance(actions, str):
            actions = actions.split(",")
        if not isinstance(actions, (list, tuple, set, frozenset)):
            raise ValueError(gettext("the actions for %(key)s must be a list of names, not "
                                     "%(type)s") % {"key": key, "type": type(actions).__name__})
        names = set()
        for action in actions:
            if not isinstance(action, str):
                raise ValueError(f"the actions for {key} must be names, not "
                                 f"{type(action).__name__}")
            if not action.strip():
                continue
            try:
                names.add(parse_entry(action).text)
            except ValueError as exc:
                raise ValueError(f"{exc} (for {key})") from None
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


def _model_fields(registry, key):
    """The field names of ``key``'s model, or ``None`` when the registry holds no class."""
    models = getattr(registry, "models", registry)
    meta = getattr(models.get(key), "_meta", None) if isinstance(models, Mapping) else None
    return None if meta is None else set(meta.fields)


def validate_grant(registry, model_key, actions=(), scopes=None):
    """Check a grant against the installed models; return ``(key, [entries])``.

    ``model_key`` is matched case-insensitively; ``actions`` are entries
    (``"write"``, ``"write:own"``, ``"-read:notes"``, ``"read@...Z"``) and may be
    empty (a revoke of everything on the model). ``scopes`` maps a model key to the
    scope names its admin declares (``core.admin.site_scopes``); a scope not
    declared there is refused. Raises ``GrantError`` for an unknown model, an action
    the model does not declare, an unknown scope or field, naming what is allowed.
    """
    known = model_actions(registry)
    key = model_key.strip().lower() if isinstance(model_key, str) else model_key
    if key not in known:
        installed = ", ".join(sorted(known)) or gettext("none")
        raise GrantError(gettext("unknown model %(model)s (installed models: %(installed)s)")
                         % {"model": repr(model_key), "installed": installed})
    allowed = known[key]
    declared = sorted((scopes or {}).get(key, ()))
    clean = []
    for action in actions:
        try:
            entry = parse_entry(action)
        except ValueError as exc:
            raise GrantError(str(exc)) from None
        if entry.action not in allowed:
            raise GrantError(gettext("model %(model)s has no action %(action)s (its actions: "
                                     "%(allowed)s)") % {"model": key,
                                                        "action": repr(entry.action),
                                                        "allowed": ", ".join(allowed)})
        if entry.scope is not None and entry.scope not in declared:
            raise GrantError(gettext("model %(model)s has no scope %(scope)s (its scopes: "
                                     "%(declared)s)") % {
                "model": key, "scope": repr(entry.scope),
                "declared": ", ".join(declared) or gettext("none")})
        if entry.field is not None:
            fields = _model_fields(registry, key)
            if fields is not None and entry.field not in fields:
                raise GrantError(gettext("model %(model)s has no field %(field)s") % {
                    "model": key, "field": repr(entry.field)})
        if entry.text not in clean:
            clean.append(entry.text)
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


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _parsed(perms):
    """``{key: [Entry]}`` of a normalised dict (entries that do not parse are skipped)."""
    out = {}
    for key, texts in perms.items():
        entries = []
        for text in texts:
            try:
                entries.append(parse_entry(text))
            except ValueError:
                continue
        out[key] = entries
    return out


def _dict_fields(entries, now):
    """``(hidden, frozen, grants_read, grants_write)`` of one dict's entries on one model."""
    hidden = {e.field for e in entries if e.kind == HIDE}
    frozen = {e.field for e in entries if e.kind == FREEZE} | hidden
    granted = {e.action for e in entries if e.kind == GRANT and e.active(now)}
    return hidden, frozen, "read" in granted, "write" in granted


def _covers(until, wanted):
    """Does a grant lasting until ``until`` (None: for ever) cover one until ``wanted``?"""
    return until is None or (wanted is not None and wanted <= until)


def source_label(source, scope=None, until=None, translate=None):
    """``"role:editors (scope own, until 2026-12-31T18:00Z)"``: one source as text, the
    stable English form (CLI ``--json``, exports). With ``translate`` (a page's ``_`` or
    ``gettext``) it is for people: ``"rôle editors (portée own, jusqu'au …)"``."""
    if isinstance(until, datetime.datetime):
        until = format_until(until)
    if translate is None:
        notes = ([f"scope {scope}"] if scope else []) + ([f"until {until}"] if until else [])
        return f"{source} ({', '.join(notes)})" if notes else source
    if source in (SOURCE_USER, SOURCE_SUPERUSER):
        name = translate(source)
    elif source.startswith(ROLE_PREFIX):
        name = translate("role:%(name)s") % {"name": source[len(ROLE_PREFIX):]}
    else:
        name = source
    notes = ([translate("scope %(scope)s") % {"scope": scope}] if scope else []) + \
        ([translate("until %(until)s") % {"until": until}] if until else [])
    return f"{name} ({', '.join(notes)})" if notes else name


# -- the engine ------------------------------------------------------------------------------

class Permissions:
    """What one user may do, computed once (per request) from plain data.

    Build it with ``await Permissions.for_user(user, roles_loader, registry=...)``
    or directly with the role dicts already loaded. ``has`` is the one question
    every handler asks; ``check`` raises ``PermissionDenied`` instead of
    returning ``False``. ``now`` (default: the current time) is the instant
    expiring grants are compared with.

    ``object_rules`` maps a model key to callables ``rule(user, action, obj) ->
    bool`` that every object-level check on that model must pass (add more with
    ``add_object_rule``). An active superuser may do everything, object rules
    included (as in Django): the rules narrow what ordinary grants allow, they do
    not lock out the operator of last resort.
    """

    def __init__(self, user=None, roles=None, registry=None, *, object_rules=None, now=None):
        self.user = user
        self.now = _utc(now) if now is not None else _now()
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
        self._compute()

    @classmethod
    async def for_user(cls, user, roles_loader=None, registry=None, *, object_rules=None,
                       now=None):
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
        return cls(user, roles, registry, object_rules=object_rules, now=now)

    # -- computing -----------------------------------------------------------------------
    def layers(self):
        """``[(source, permissions dict)]``: the user's own dict, then each role's."""
        return [(SOURCE_USER, self.direct)] + \
            [(ROLE_PREFIX + name, perms) for name, perms in self.roles.items()]

    def _compute(self):
        #: {key: {action: {scope or None: [(source, until)]}}} of the grants in force
        self._grants = {}
        #: {key: [(source, entry text)]} of the grants that have expired
        self._expired = {}
        self._hidden, self._frozen = {}, {}
        #: the first moment a grant in force here expires (``None``: none does): until
        #: then these answers hold, so a cache may hand this object to later requests
        self.valid_until = None
        if not self.is_active or self.is_superuser:
            return
        reads, writes = {}, {}
        for source, perms in self.layers():
            for key, entries in _parsed(perms).items():
                for entry in entries:
                    if entry.until is not None and entry.active(self.now) and (
                            self.valid_until is None or entry.until < self.valid_until):
                        self.valid_until = entry.until      # a grant or field rule ends
                    if entry.kind != GRANT:
                        continue
                    if not entry.active(self.now):
                        self._expired.setdefault(key, []).append((source, entry.text))
                        continue
                    holders = self._grants.setdefault(key, {}).setdefault(
                        entry.action, {}).setdefault(entry.scope, [])
                    holders.append((source, entry.until))
                hidden, frozen, grants_read, grants_write = _dict_fields(entries, self.now)
                if grants_read:
                    reads.setdefault(key, []).append(hidden)
                if grants_write:
                    writes.setdefault(key, []).append(frozen)
        # a field is hidden (frozen) only when every dict granting read (write) says so
        for key, sets in reads.items():
            self._hidden[key] = frozenset(set.intersection(*sets))
        for key, sets in writes.items():
            self._frozen[key] = frozenset(set.intersection(*sets))

    def holds_at(self, moment=None):
        """Whether the answers computed at ``self.now`` still hold at ``moment`` (default:
        now): no grant in force has expired since."""
        return self.valid_until is None or (_now() if moment is None else moment) < \
            self.valid_until

    def fork(self, user):
        """This object for another request of the same user (the auth cache's reuse):
        the computed grants are shared (nothing changes them after ``__init__``; ask
        ``holds_at`` first), ``user`` and ``now`` are this request's, and the object
        rules are its own copy, so a rule a request adds (``add_object_rule``) reaches
        no other request."""
        twin = copy.copy(self)
        twin.user, twin.now = user, _now()
        twin.object_rules = {key: list(rules) for key, rules in self.object_rules.items()}
        return twin

    # -- questions -----------------------------------------------------------------------
    def reach(self, model_key, action):
        """How far ``action`` on ``model_key`` reaches: ``UNSCOPED`` (every object), a
        frozenset of scope names (only the objects those scopes match), or ``None``."""
        if not self.is_active or not isinstance(model_key, str) or not isinstance(action, str):
            return None
        if self.is_superuser:
            return UNSCOPED
        scopes = self._grants.get(model_key.lower(), {}).get(action)
        if not scopes:
            return None
        if None in scopes:
            return UNSCOPED
        return frozenset(scopes)

    def hidden_fields(self, model_key):
        """Fields of ``model_key`` this user may not see (nor write): a frozenset."""
        return self._hidden.get(model_key.lower(), frozenset()) if self.is_active else \
            frozenset()

    def models_hiding_fields(self):
        """The model keys on which this user has hidden fields (a frozenset)."""
        return frozenset(key for key, hidden in self._hidden.items() if hidden) \
            if self.is_active else frozenset()

    def frozen_fields(self, model_key):
        """Fields of ``model_key`` this user may see but not write (hidden ones included)."""
        return self._frozen.get(model_key.lower(), frozenset()) | \
            self.hidden_fields(model_key) if self.is_active else frozenset()

    def effective(self):
        """``{model key: [actions, sorted]}`` the user may do (model level); a scoped-only
        action is listed with its scopes (``"write:own"``).

        A superuser's lists every registered model with all its actions (when
        built with a registry); an inactive user's is empty.
        """
        return {key: sorted(per_label) for key, per_label in self.sources().items()}

    def sources(self):
        """``{model key: {action: [sources]}}``: ``"user"``, ``"role:NAME"`` or
        ``"superuser"``; a scoped grant is keyed ``"action:scope"`` (unless the action
        is also granted unscoped), an expiring source reads ``"user (until ...Z)"``
        (``source_label``'s stable English form; pages label sources themselves)."""
        if not self.is_active:
            return {}
        if self.is_superuser:
            label = source_label(SOURCE_SUPERUSER)
            return {key: {action: [label] for action in sorted(actions)}
                    for key, actions in sorted((self.models or {}).items())}
        out = {}
        for key, per_action in sorted(self._grants.items()):
            labelled = {}
            for action, scopes in per_action.items():
                if None in scopes:
                    labelled[action] = _labels(scopes[None])
                else:
                    for scope, holders in scopes.items():
                        labelled[f"{action}:{scope}"] = _labels(holders)
            out[key] = dict(sorted(labelled.items()))
        return out

    def expired(self):
        """``{model key: [{"entry", "source"}]}``: grants that no longer apply."""
        return {key: [{"entry": text, "source": source} for source, text in items]
                for key, items in sorted(self._expired.items())}

    def grant_table(self):
        """One row per model and action the user may do, the whole answer of the engine::

            {"model": "blog.article", "action": "delete", "reach": ["own"] or "all",
             "sources": [{"source": "role:editors", "scope": "own", "until": None}]}

        ``whocan``, ``permmatrix`` and the admin's matrix page print these rows.
        """
        rows = []
        if not self.is_active:
            return rows
        if self.is_superuser:
            for key, actions in sorted((self.models or {}).items()):
                for action in sorted(actions):
                    rows.append({"model": key, "action": action, "reach": "all",
                                 "sources": [{"source": SOURCE_SUPERUSER, "scope": None,
                                              "until": None}]})
            return rows
        for key, per_action in sorted(self._grants.items()):
            for action, scopes in sorted(per_action.items()):
                reach = self.reach(key, action)
                sources = [{"source": source, "scope": scope,
                            "until": format_until(until) if until else None}
                           for scope, holders in sorted(scopes.items(),
                                                        key=lambda item: item[0] or "")
                           for source, until in holders]
                rows.append({"model": key, "action": action,
                             "reach": "all" if reach is UNSCOPED else sorted(reach),
                             "sources": sources})
        return rows

    def actions(self, model_key):
        """The actions the user may do on ``model_key``, scoped or not (a sorted list)."""
        if self.is_active and self.is_superuser and self.models is not None:
            return sorted(self.models.get(model_key.lower(), ()))
        return sorted(self._grants.get(model_key.lower(), {}))

    def add_object_rule(self, model_key, rule):
        """Every object-level check on ``model_key`` must also pass ``rule(user, action, obj)``."""
        if not callable(rule):
            raise TypeError(f"an object rule must be callable, not {rule!r}")
        self.object_rules.setdefault(model_key.lower(), []).append(rule)
        return rule

    def has(self, model_key, action, obj=None, object_rule=None, scope_match=None):
        """May the user do ``action`` on ``model_key`` (and, given ``obj``, on that object)?

        Inactive → no. Active superuser → yes, whatever the rules. Otherwise the
        action must be granted (scoped or not) by the user's or a role's dict, in
        force now. With ``obj``: a scoped grant needs ``scope_match(scope, obj)``
        true for one of its scopes (no ``scope_match``: no), and every object rule
        registered for the model and the ``object_rule`` given here must return true.
        """
        reach = self.reach(model_key, action)
        if reach is None:
            return False
        if self.is_superuser:
            return True
        if obj is not None:
            if reach is not UNSCOPED and (scope_match is None or not any(
                    scope_match(scope, obj) for scope in sorted(reach))):
                return False
            rules = list(self.object_rules.get(model_key.lower(), ()))
            if object_rule is not None:
                rules.append(object_rule)
            for rule in rules:
                if not rule(self.user, action, obj):
                    return False
        return True

    def check(self, model_key, action, obj=None, object_rule=None, scope_match=None):
        """``has``, raising ``PermissionDenied`` when the answer is no."""
        if not self.has(model_key, action, obj=obj, object_rule=object_rule,
                        scope_match=scope_match):
            raise PermissionDenied(f"You may not {action} {model_key}"
                                   f"{' (this object)' if obj is not None else ''}.",
                                   model_key=model_key, action=action)

    def filter_objects(self, model_key, action, objects, object_rule=None, scope_match=None):
        """The objects the user may ``action`` (bulk actions check each object)."""
        return [obj for obj in objects
                if self.has(model_key, action, obj=obj, object_rule=object_rule,
                            scope_match=scope_match)]

    # -- what an editor may hand out or take away (the escalation rules) ----------------
    def lacks(self, grants):
        """``{key: [entries]}`` of ``grants`` (a permissions dict) this user may not hand out.

        The one question the accounts admin asks to keep editors from escalating: a
        grant, role or user is beyond an editor when ``editor.lacks(its grants)`` is
        not empty. A grant entry is beyond the editor unless they hold the action
        unscoped, or with the same scope, for at least as long; a ``read`` (``write``)
        grant is beyond them when ``grants`` leaves visible (writable) a field
        hidden (frozen) for them. Field restrictions only narrow: never lacking. A
        superuser lacks nothing.
        """
        if self.is_active and self.is_superuser:
            return {}
        missing = {}
        for key, entries in _parsed(normalize_permissions(grants or {})).items():
            hidden, frozen, _, _ = _dict_fields(entries, self.now)
            held = self._grants.get(key, {}) if self.is_active else {}
            for entry in entries:
                if entry.kind != GRANT:
                    continue
                scopes = held.get(entry.action, {})
                holders = scopes.get(None, []) + \
                    (scopes.get(entry.scope, []) if entry.scope is not None else [])
                ok = any(_covers(until, entry.until) for _, until in holders)
                if ok and entry.action == "read" and not self.hidden_fields(key) <= hidden:
                    ok = False
                if ok and entry.action == "write" and not self.frozen_fields(key) <= frozen:
                    ok = False
                if not ok:
                    missing.setdefault(key, []).append(entry.text)
        return missing

    def holds_all(self, grants):
        """True when this user holds every grant of ``grants``."""
        return not self.lacks(grants)

    def readable_models(self):
        """Model keys the user may read (scoped or not), sorted (the admin index lists these)."""
        if self.is_active and self.is_superuser and self.models is not None:
            return sorted(self.models)
        return sorted(key for key, per_action in self._grants.items() if "read" in per_action)

    def as_json(self):
        """The ``manage.py perms --json`` shape (without the username): ``effective`` and
        ``sources``, plus ``fields`` (``{key: {"hidden": [...], "frozen": [...]}}``) and
        ``expired`` (``{key: [{"entry", "source"}]}``)."""
        fields = {}
        for key in sorted(set(self._hidden) | set(self._frozen)):
            hidden, frozen = sorted(self.hidden_fields(key)), sorted(self.frozen_fields(key))
            if hidden or frozen:
                fields[key] = {"hidden": hidden, "frozen": frozen}
        return {"is_superuser": self.is_superuser, "is_active": self.is_active,
                "effective": self.effective(), "sources": self.sources(),
                "fields": fields, "expired": self.expired()}

    def __repr__(self):
        who = _get(self.user, "username", None)
        return f"<Permissions {who or '?'}: {self.effective()}>"


def _labels(holders):
    labels = []
    for source, until in holders:
        label = source_label(source, until=until)
        if label not in labels:
            labels.append(label)
    return labels
