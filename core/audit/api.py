"""Recording what happened: ``record``, ``record_request``, ``diff``; reading it back.

    from core.audit import diff, record, record_request, snapshot

    before = snapshot(article)                     # {field: value}, secrets masked
    article.title = "New title"
    await article.save()
    await record_request(handler, "update", obj=article,
                         changes=diff(before, snapshot(article)))

    await record(action="permission_change", actor="manage.py", model_key="accounts.user",
                 object_id=str(user.id), object_label=user.username,
                 detail="manage.py grant")

The log is append-only: there is no function here to change or delete an entry
(``AuditEntry.save`` refuses to rewrite one, ``AuditEntry.delete`` always refuses).

Document fields (sub-documents, lists of sub-documents, dicts) are diffed part by
part: a change names its dotted path (``lines.1.quantity: 2 → 3``,
``address.city: Lyon → Paris``, ``lines.2`` for a line added or removed).

Secrets never reach the log: any field whose name contains one of
``SECRET_FIELDS`` (``password``, ``secret``, ``token``...), or whose model field
says ``hidden = True``, is written as ``"••••"`` (or left empty when it was
empty) — by ``diff`` and ``snapshot``, and again by ``record`` for changes built
by hand.
"""
import hashlib
import hmac
import os

from core.models import fields as model_fields, parse_id

from .models import ACTION_RE, AuditEntry, storable

__all__ = [
    "Masked", "REDACTED", "SECRET_FIELDS", "build_entry",
    "diff", "entry_write", "history", "is_secret", "latest_change",
    "record", "record_request", "redact", "snapshot",
]

#: what a secret value is written as
REDACTED = "••••"
#: a field whose lower-cased name contains one of these is a secret
SECRET_FIELDS = ("password", "passwd", "secret", "token", "api_key", "apikey",
                 "private_key", "credential")
#: never part of a diff: identity and bookkeeping
IGNORED_FIELDS = ("id", "_id", "version")

_LIMITS = {"actor": 150, "object_id": 200, "object_label": 300, "ip": 64, "detail": 4000}


def is_secret(name, secret_fields=SECRET_FIELDS):
    """True when the field ``name`` holds a secret (by its name)."""
    lowered = str(name).lower()
    return any(word in lowered for word in secret_fields)


# keys the fingerprints of secrets in snapshots; never leaves the process
_SNAPSHOT_KEY = os.urandom(32)


class Masked:
    """A secret in a ``snapshot``: shows as ``"••••"``, yet two snapshots tell whether it
    changed (it compares by a keyed fingerprint that is never stored or shown)."""

    __slots__ = ("_fingerprint",)

    def __init__(self, value):
        self._fingerprint = hmac.new(_SNAPSHOT_KEY, repr(value).encode("utf-8", "replace"),
                                     hashlib.sha256).digest()

    def __eq__(self, other):
        return isinstance(other, Masked) and hmac.compare_digest(self._fingerprint,
                                                                 other._fingerprint)

    def __hash__(self):
        return hash(self._fingerprint)

    def __str__(self):
        return REDACTED

    __repr__ = __str__


def _mask(value):
    if isinstance(value, Masked):
        return REDACTED
    return value if value is None or value == "" else REDACTED


def redact(value, secret_fields=SECRET_FIELDS):
    """``value`` with every secret-named key inside it (at any depth) masked."""
    if isinstance(value, dict):
        return {key: (_mask(item) if is_secret(key, secret_fields)
                      else redact(item, secret_fields))
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(item, secret_fields) for item in value]
    return value


def _hidden_fields(model):
    meta = getattr(model, "_meta", None)
    if meta is None:
        return set()
    return {name for name, field in meta.fields.items() if getattr(field, "hidden", False)}


class Parts(dict):
    """A document field's value in a ``snapshot``: ``diff`` compares it part by part."""


class PartList(list):
    """A list of sub-documents in a ``snapshot``: ``diff`` compares it item by item."""


def has_parts(field):
    """Does ``diff`` name the changes of this model field by their dotted paths?"""
    if isinstance(field, (model_fields.EmbeddedField, model_fields.DictField)):
        return True
    return isinstance(field, model_fields.ListField) and isinstance(
        field.item_field, (model_fields.EmbeddedField, model_fields.DictField))


def _mask_secrets(value, secret_fields):
    """``value`` with each secret-named key's value ``Masked`` (at any depth), so ``diff``
    can tell that it changed without ever holding it."""
    if isinstance(value, dict):
        return {key: (Masked(item) if is_secret(key, secret_fields) and item not in (None, "")
                      else _mask_secrets(item, secret_fields))
                for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_secrets(item, secret_fields) for item in value]
    return value


def _snapshot_value(field, value):
    if field is None or not has_parts(field):
        return storable(value)
    try:
        stored = storable(field.to_bson(value))
    except (TypeError, ValueError):       # an unclean value: compared whole
        return storable(value)
    if isinstance(stored, dict):
        return Parts(stored)
    return PartList(stored) if isinstance(stored, list) else stored


def snapshot(obj, fields=None, secret_fields=SECRET_FIELDS):
    """``{field: value}`` of a model object, ready for ``diff`` (secrets masked).

    ``fields`` limits it to those names. Fields marked ``hidden`` (a password
    hash) and secret-named fields become ``Masked``: shown as ``"••••"``, but
    ``diff`` of two snapshots still sees whether the secret changed.
    """
    hidden = _hidden_fields(obj)
    names = list(fields) if fields is not None else list(obj._meta.fields)
    model_fields_by_name = getattr(getattr(obj, "_meta", None), "fields", {})
    out = {}
    for name in names:
        value = _snapshot_value(model_fields_by_name.get(name), getattr(obj, name, None))
        if name in hidden or is_secret(name, secret_fields):
            out[name] = value if value is None or value == "" else Masked(value)
        elif isinstance(value, (Parts, PartList)):
            out[name] = type(value)(_mask_secrets(value, secret_fields))
        else:
            out[name] = redact(value, secret_fields)
    return out


def diff(before, after, secret_fields=SECRET_FIELDS, *, hidden=()):
    """The changes from ``before`` to ``after`` (dicts; ``None`` means empty):
    ``{field: {"before": old, "after": new}}`` for the fields whose value differs.

    A field present on one side only counts as changed from/to ``None``. ``id``
    and ``version`` are left out. Secret fields (``is_secret``, or named in
    ``hidden``) appear masked, ``"••••"``, never with their value — so a new
    password shows as a change, not what it is.
    """
    before = dict(before or {})
    after = dict(after or {})
    changes = {}
    for name in list(before) + [key for key in after if key not in before]:
        if name in IGNORED_FIELDS:
            continue
        old, new = before.get(name), after.get(name)
        if isinstance(old, Masked) or isinstance(new, Masked):
            if old == new:
                continue
            changes[name] = {"before": _mask(old), "after": _mask(new)}
            continue
        if isinstance(old, (Parts, PartList)) or isinstance(new, (Parts, PartList)):
            if not (name in hidden or is_secret(name, secret_fields)):
                _diff_parts(changes, str(name), old, new, secret_fields)
                continue
        old, new = storable(old), storable(new)
        if old == new and type(old) is type(new):
            continue
        if name in hidden or is_secret(name, secret_fields):
            changes[name] = {"before": _mask(old), "after": _mask(new)}
        else:
            changes[name] = {"before": redact(old, secret_fields),
                             "after": redact(new, secret_fields)}
    return changes


def _diff_parts(changes, path, old, new, secret_fields):
    """Add to ``changes`` each part of ``old`` → ``new`` that differs, by dotted path:
    objects key by key, lists item by item (an item only one side has is added or
    removed whole: ``lines.2: None → {...}``)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [key for key in new if key not in old]:
            sub = f"{path}.{key}"
            before, after = old.get(key), new.get(key)
            if is_secret(key, secret_fields) or isinstance(before, Masked) \
                    or isinstance(after, Masked):
                if before != after:
                    changes[sub] = {"before": _mask(before), "after": _mask(after)}
                continue
            _diff_parts(changes, sub, before, after, secret_fields)
        return
    if isinstance(old, list) and isinstance(new, list) and (
            any(isinstance(item, dict) for item in old + new)):
        for index in range(max(len(old), len(new))):
            _diff_parts(changes, f"{path}.{index}", old[index] if index < len(old) else None,
                        new[index] if index < len(new) else None, secret_fields)
        return
    old, new = storable(old), storable(new)
    if old == new and type(old) is type(new):
        return
    changes[path] = {"before": redact(old, secret_fields), "after": redact(new, secret_fields)}


def _clean_changes(changes, hidden, secret_fields):
    """Hand-built changes, checked and redacted again (defence in depth)."""
    if not changes:
        return {}
    if not isinstance(changes, dict):
        raise TypeError("changes must be {field: {'before': ..., 'after': ...}}")
    clean = {}
    for name, change in changes.items():
        if not isinstance(change, dict):
            raise TypeError(f"the change of {name!r} must be {{'before': ..., 'after': ...}}")
        old, new = storable(change.get("before")), storable(change.get("after"))
        if name in hidden or is_secret(name, secret_fields):
            clean[str(name)] = {"before": _mask(old), "after": _mask(new)}
        else:
            clean[str(name)] = {"before": redact(old, secret_fields),
                                "after": redact(new, secret_fields)}
    return clean


def _actor_parts(actor):
    """``(actor_id, actor text)`` from a user object, a text, or ``None``."""
    if actor is None:
        return None, ""
    if isinstance(actor, str):
        return None, actor
    actor_id = parse_id(getattr(actor, "id", None))
    name = getattr(actor, "username", None)
    return actor_id, str(name if name is not None else actor)


def _cut(name, value):
    if value is None:
        return None
    value = str(value)
    limit = _LIMITS[name]
    return value if len(value) <= limit else value[:limit - 1] + "…"


async def record(*, action, actor=None, model_key=None, obj=None,
                 object_id=None, object_label=None, changes=None, ip=None, detail=None,
                 bulk_action=None, db=None):
    """Append one entry to the audit log; returns the saved ``AuditEntry``.

    ``action``  what happened: ``create``, ``update``, ``delete``, ``bulk_action``,
                ``login``... (any lower-case identifier)
    ``actor``   the user object (its id and username are kept), a text such as
                ``"manage.py"``, or ``None`` (anonymous)
    ``obj``     the model object acted on: fills ``model_key``, ``object_id`` and
                ``object_label`` unless they are given
    ``changes`` ``{field: {"before": ..., "after": ...}}``, usually from ``diff``;
                secrets are masked here too
    ``detail``  free text (``bulk_action``, a bulk action's name, goes there if unset)
    ``db``      the database (default: the one the models are bound to)

    Raises ``ValueError`` for an action that is not a lower-case identifier.
    """
    entry = build_entry(action=action, actor=actor, model_key=model_key, obj=obj,
                        object_id=object_id, object_label=object_label, changes=changes,
                        ip=ip, detail=detail, bulk_action=bulk_action)
    await entry.save(db=db)
    return entry


def build_entry(*, action, actor=None, model_key=None, obj=None, object_id=None,
                object_label=None, changes=None, ip=None, detail=None, bulk_action=None):
    """The unsaved ``AuditEntry`` ``record`` would save (same arguments but ``db``)."""
    if not isinstance(action, str) or not ACTION_RE.match(action):
        raise ValueError(f"audit actions are lower-case identifiers, not {action!r}")
    if bulk_action and not detail:
        detail = f"bulk action {bulk_action}"
    secret_fields = SECRET_FIELDS
    hidden = set()
    if obj is not None:
        hidden = _hidden_fields(obj)
        if model_key is None:
            model_key = obj._meta.key
        if object_id is None and getattr(obj, "id", None) is not None:
            object_id = obj.id
        if object_label is None:
            object_label = str(obj)
    actor_id, actor_name = _actor_parts(actor)
    entry = AuditEntry(
        action=action, actor_id=actor_id, actor=_cut("actor", actor_name),
        model_key=model_key.lower() if isinstance(model_key, str) else None,
        object_id=_cut("object_id", object_id), object_label=_cut("object_label", object_label),
        changes=_clean_changes(changes, hidden, secret_fields), ip=_cut("ip", ip),
        detail=_cut("detail", detail))
    return entry


def entry_write(**kw):
    """``record``'s entry (same arguments but ``db``), not stored yet: ``(entry, write)``,
    ``write`` the ``Database.write_each`` item that stores it. For a request that records
    its entry in the same database call as its own writes (logging in); once the write is
    done, ``entry.inserted(db)``. Raises as ``record`` does."""
    entry = build_entry(**kw)
    document = entry.document_to_insert()
    return entry, (entry._concrete()._meta.collection, "insert_one", document)


def _request_ip(handler):
    request = getattr(handler, "request", None)
    return getattr(request, "remote_ip", None)


async def record_request(handler, action, **kw):
    """``record`` for a request: the actor is ``handler.current_user``, the IP the
    client's address, the database the handler's (each may be given instead)."""
    kw.setdefault("actor", getattr(handler, "current_user", None))
    kw.setdefault("ip", _request_ip(handler))
    kw.setdefault("db", getattr(handler, "db", None))
    return await record(action=action, **kw)


def _object_filter(model_key, object_id):
    return {"model_key": str(model_key).lower(), "object_id": str(object_id)}


async def history(model_key, object_id, limit=50, *, db=None):
    """The object's entries, newest first (at most ``limit``; 0: all)."""
    cursor = AuditEntry.find(_object_filter(model_key, object_id), sort=["-at", "-id"],
                             db=db)
    if limit:
        cursor.limit(limit)
    return await cursor.to_list(None)


async def latest_change(model_key, object_id, *, db=None):
    """The object's newest entry, or ``None`` — for "changed by X at T" on a stale save."""
    found = await history(model_key, object_id, limit=1, db=db)
    return found[0] if found else None
