"""``AuditEntry``: one thing someone did, kept for good (collection ``audit_log``).

Entries are append-only: ``save()`` inserts a new entry and refuses to rewrite
a stored one, ``delete()`` always refuses, and nothing in ``core.audit.api``
edits or removes entries. The model key is ``audit.entry`` (so the permission
to read the log is ``{"audit.entry": ["read"]}``).

``changes`` is ``{field: {"before": ..., "after": ...}}``. Values are kept in a
storable form (``storable``) and secrets are never among them
(``core.audit.api.diff`` and ``record`` redact them before anything is built).
"""
import datetime
import logging
import re

from bson import ObjectId
from bson.decimal128 import Decimal128

from core.db import subset
from core.db.errors import UnsupportedOperation
from core.i18n import gettext_lazy as _l
from core.models import Index, Model, fields

__all__ = ["ACTIONS", "AuditEntry", "Entry", "RECORDED_LISTENERS", "ReadOnlyEntryError",
           "register_action", "storable"]

log = logging.getLogger("core.audit")

#: callables ``listener(entry)``, run (on the loop, so quick) after an entry is stored
#: by this process; the live feed adds one that wakes it (``core.live.hub``), so a
#: process's own writes reach its sockets without waiting for the next poll
RECORDED_LISTENERS = []

#: the actions Bastion records, with their labels; apps may add theirs (``register_action``)
ACTIONS = [
    ("create", _l("Create")),
    ("update", _l("Update")),
    ("delete", _l("Delete")),
    ("bulk_action", _l("Bulk action")),
    ("export", _l("Export")),
    ("login", _l("Log in")),
    ("login_failed", _l("Failed login")),
    ("logout", _l("Log out")),
    ("password_change", _l("Password change")),
    ("permission_change", _l("Permission change")),
    ("role_change", _l("Role change")),
]
ACTION_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MODEL_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")

# dict keys the store refuses (a dot, a leading $) are escaped, reversibly
_ESCAPES = (("\\", "\\\\"), (".", "\\d"), ("$", "\\s"))


def register_action(name, label=None):
    """Add an action name to the ones the admin offers as a filter (idempotent)."""
    if not isinstance(name, str) or not ACTION_RE.match(name):
        raise ValueError(f"audit actions are lower-case identifiers, not {name!r}")
    if name not in [value for value, _ in ACTIONS]:
        ACTIONS.append((name, label or name.replace("_", " ").capitalize()))
    return name


class ReadOnlyEntryError(TypeError):
    """An audit entry was asked to change or disappear; the log is append-only."""


def _escape_key(key):
    key = str(key)
    for raw, escaped in _ESCAPES:
        key = key.replace(raw, escaped)
    return key or "\\e"


def _unescape_key(key):
    if key == "\\e":
        return ""
    out, i = [], 0
    while i < len(key):
        if key[i] == "\\" and i + 1 < len(key):
            out.append({"\\": "\\", "d": ".", "s": "$"}.get(key[i + 1], key[i + 1]))
            i += 2
        else:
            out.append(key[i])
            i += 1
    return "".join(out)


def storable(value):
    """``value`` as something the store keeps: subset scalars stay, containers are walked,
    anything else (a ``Decimal``, a model object...) becomes its text."""
    if isinstance(value, dict):
        return {str(k): storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((storable(v) for v in value), key=repr)
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day,
                                 tzinfo=datetime.timezone.utc)
    if isinstance(value, Decimal128):
        return str(value)                  # readable, and storable on every backend
    if isinstance(value, bytes):
        return f"({len(value)} bytes)"     # a log keeps no file contents
    try:
        return subset.check_scalar(value)
    except (UnsupportedOperation, OverflowError):
        return str(value)


def changed_paths(stored_changes):
    """The field paths (``title``, ``lines.1.quantity``) of an entry's ``changes`` as
    stored (keys escaped), sorted; ``[]`` when there are none."""
    if not isinstance(stored_changes, dict):
        return []
    return sorted(_unescape_key(key) for key in stored_changes)


def _to_store(value):
    if isinstance(value, dict):
        return {_escape_key(k): _to_store(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_store(v) for v in value]
    return value


def _from_store(value):
    if isinstance(value, dict):
        return {_unescape_key(k): _from_store(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_store(v) for v in value]
    return value


class OpenChoiceField(fields.ChoiceField):
    """Text with suggested choices (for filters and labels) that accepts any value
    matching ``pattern``: the audit log records actions and models it has not heard of."""

    pattern = ACTION_RE

    def __init__(self, *, choices, pattern=None, max_length=100, **options):
        super().__init__(choices=choices, **options)
        if pattern is not None:
            self.pattern = pattern
        self.max_length = max_length

    def coerce(self, value):
        if not isinstance(value, str):
            raise self.error("Expected text.")
        return value.strip() or None

    def validate(self, value):
        if len(value) > self.max_length or not self.pattern.match(value):
            raise self.error(f"{value!r} is not a valid {self.verbose_name}.")


class ActionField(OpenChoiceField):
    """The action: one of ``ACTIONS`` (kept current as apps register more) or any identifier."""

    @property
    def choices(self):
        return list(ACTIONS)

    @choices.setter
    def choices(self, value):
        pass  # always the live ACTIONS list


class ModelKeyField(OpenChoiceField):
    """A model key (``blog.article``); the choices are the models defined so far."""

    pattern = MODEL_KEY_RE

    @property
    def choices(self):
        from core.models import all_models
        return [(key, key) for key in sorted(m._meta.key for m in all_models())]

    @choices.setter
    def choices(self, value):
        pass


class ObjectIdField(fields.Field):
    """An ``ObjectId`` (or its 24-hex text), or nothing."""

    def coerce(self, value):
        if isinstance(value, ObjectId):
            return value
        if isinstance(value, str) and ObjectId.is_valid(value) and len(value) == 24:
            return ObjectId(value)
        raise self.error("Expected an id.")

    def display(self, value):
        return "" if value is None else str(value)


class ChangesField(fields.Field):
    """``{field: {"before": value, "after": value}}``; defaults to ``{}``."""

    accepts_containers = True
    empty_values = (None, {})

    def __init__(self, **options):
        options.setdefault("default", dict)
        super().__init__(**options)

    def coerce(self, value):
        if not isinstance(value, dict):
            raise self.error("Expected {field: {'before': ..., 'after': ...}}.")
        clean = {}
        for name, change in value.items():
            if not isinstance(change, dict) or set(change) - {"before", "after"}:
                raise self.error(f"The change of {name!r} needs 'before' and 'after'.")
            clean[str(name)] = {"before": storable(change.get("before")),
                                "after": storable(change.get("after"))}
        return clean

    def to_bson(self, value):
        return _to_store(value or {})

    def from_bson(self, value):
        return _from_store(value) if isinstance(value, dict) else {}

    def to_json(self, value):
        def plain(item):
            if isinstance(item, dict):
                return {k: plain(v) for k, v in item.items()}
            if isinstance(item, list):
                return [plain(v) for v in item]
            return super(ChangesField, self).to_json(item)
        return plain(value or {})

    def display(self, value):
        return "; ".join(f"{name}: {change.get('before')!r} → {change.get('after')!r}"
                         for name, change in (value or {}).items())


class Entry(Model):
    """One recorded action: who, when, what, on which object, which fields changed."""

    at = fields.DateTimeField(default=fields.utcnow, editable=False,
                              verbose_name=_l("time"))
    actor_id = ObjectIdField(editable=False, verbose_name=_l("actor id"))
    actor = fields.StringField(max_length=150, editable=False, verbose_name=_l("actor"),
                               help_text=_l("The username, kept if the user is deleted."))
    action = ActionField(choices=ACTIONS, required=True, editable=False, max_length=40,
                         verbose_name=_l("action"))
    model_key = ModelKeyField(choices=[("", "")], editable=False, verbose_name=_l("model"))
    object_id = fields.StringField(max_length=200, editable=False,
                                   verbose_name=_l("object id"))
    object_label = fields.StringField(max_length=300, editable=False,
                                      verbose_name=_l("object"))
    changes = ChangesField(editable=False, verbose_name=_l("changes"))
    ip = fields.StringField(max_length=64, editable=False, verbose_name=_l("IP address"))
    detail = fields.TextField(editable=False, verbose_name=_l("detail"))

    class Meta:
        app_label = "audit"
        collection = "audit_log"
        ordering = ["-at", "-id"]
        verbose_name = _l("audit entry")
        verbose_name_plural = _l("audit entries")
        indexes = [
            Index([("model_key", 1), ("object_id", 1), ("at", -1)]),
            Index([("at", -1)]),
            Index([("actor_id", 1), ("at", -1)]),
            Index([("action", 1), ("at", -1)]),
        ]

    def __str__(self):
        when = self.at.strftime("%Y-%m-%d %H:%M:%S") if self.at else "?"
        what = f" {self.model_key} {self.object_label or self.object_id}" if self.model_key else ""
        return f"{when} {self.actor or 'anonymous'} {self.action}{what}"

    async def save(self, *, db=None):
        """Insert the entry; a stored entry is never rewritten (``ReadOnlyEntryError``)."""
        self._refuse_stored()
        result = await super().save(db=db)
        self._heard()
        return result

    def _refuse_stored(self):
        if self._persisted:
            raise ReadOnlyEntryError("audit entries are append-only; a stored entry "
                                     "cannot be changed")

    def _heard(self):
        """Tell ``RECORDED_LISTENERS`` that this entry is stored."""
        for listener in list(RECORDED_LISTENERS):
            try:
                listener(self)
            except Exception:        # a listener's failure never fails the write
                log.exception("audit: a listener of recorded entries failed")

    def document_to_insert(self):
        """The document ``save`` would insert — the fields' ``pre_save`` and ``clean`` run,
        the id is chosen — for a caller that writes it together with its own writes
        (``Database.write_each``); it calls ``inserted`` once the document is stored."""
        self._refuse_stored()
        for field in self._meta.fields.values():
            field.pre_save(self, True)
        self.clean()
        if self.id is None:
            self.id = ObjectId()
        self.version = 1
        return self.to_bson()

    def inserted(self, db=None):
        """The document of ``document_to_insert`` is stored (in ``db``): the entry is saved
        from now on, and the listeners of recorded entries hear of it, as after ``save``."""
        self._persisted = True
        if db is not None:
            self._db = db
        self._heard()

    async def delete(self, *, db=None):
        """Always refused: the audit log is append-only (``ReadOnlyEntryError``)."""
        raise ReadOnlyEntryError("audit entries are append-only; they cannot be deleted")


#: the name to import: ``from core.audit import AuditEntry`` (the class is ``Entry`` so the
#: model key is ``audit.entry``)
AuditEntry = Entry
