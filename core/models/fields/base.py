"""``Field``, the base of every model field, and what all fields share.

Each field converts in three directions:

``to_python(value)``
    user, form or JSON input → the Python value, or ``ValidationError`` naming
    the field. Containers never reach a scalar field, so operator injection such
    as ``{"$gt": ""}`` is rejected here.
``to_bson(value)`` / ``from_bson(value)``
    Python value ↔ what is stored in the document.

``clean(value)`` is ``to_python`` plus the ``required`` check; ``Model.clean()``
runs it for every field. Subclass a field and override ``coerce`` (type
conversion) or ``validate`` (rules on an already converted, non-empty value).

Error keys are paths relative to the field's container: a field named ``city``
raises ``{"city": ...}``; a field with no name (the item field of a list) raises
a non-field error; containers (``EmbeddedField``, ``ListField``, ``DictField``)
prefix what their parts raise with ``nested_error``, so a model's error names
the dotted path: ``lines.2.quantity``.
"""
import copy
import datetime
import itertools

from bson import ObjectId

from core.db import subset
from core.db.errors import UnsupportedOperation
from core.i18n import gettext

from ..errors import NON_FIELD_ERRORS, ImproperlyConfigured, ValidationError

UTC = datetime.timezone.utc
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
NOT_PROVIDED = object()
#: default ``max_length`` of a ``StringField`` / ``TextField`` (``max_length=None`` lifts it)
STRING_MAX_LENGTH = 10_000
TEXT_MAX_LENGTH = 100_000
_counter = itertools.count()


def utcnow():
    """The current time, timezone-aware UTC, at the millisecond precision stored."""
    now = datetime.datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _type_name(value):
    return {dict: "an object", list: "a list", tuple: "a list", set: "a set"}.get(
        type(value), f"a {type(value).__name__}")


class Field:
    """Base class of every field; also usable directly for an untyped scalar.

    Options common to all fields:

    ``required``      the value may not be empty (``None``, ``""``, ``[]``).
    ``default``       value used when none is given; a callable is called each time.
    ``verbose_name``  human label (default: the attribute name with spaces).
    ``help_text``     extra help shown next to the form input.
    ``editable``      ``False`` keeps the field out of forms (still stored).
    ``unique``        declare a unique index on the field (duplicates → ``UniqueError``).
    ``index``         declare a plain index on the field.
    ``choices``       ``[(value, label), ...]`` (or plain values): the value must be one.
    """

    #: what the empty value looks like after ``to_python``
    empty_values = (None, "", [], ())
    #: container values are refused unless a field says otherwise (``ListField``)
    accepts_containers = False

    def __init__(self, *, required=False, default=NOT_PROVIDED, verbose_name=None,
                 help_text="", editable=True, unique=False, index=False, choices=None):
        self.required = bool(required)
        self.default = default
        self._verbose_name = verbose_name
        self.help_text = help_text
        self.editable = bool(editable)
        self.unique = bool(unique)
        self.index = bool(index)
        self.choices = _normalize_choices(choices) if choices is not None else None
        self.name = None
        self.model = None
        self.creation_counter = next(_counter)

    # -- declaration ------------------------------------------------------
    def contribute_to_class(self, model, name):
        """Called by the model metaclass when the class is built: binds name and model."""
        self.name = name
        self.model = model

    @property
    def verbose_name(self):
        if self._verbose_name is not None:
            return self._verbose_name
        return (self.name or "").replace("_", " ")

    @verbose_name.setter
    def verbose_name(self, value):
        self._verbose_name = value

    def __repr__(self):
        where = f"{self.model.__name__}.{self.name}" if self.model else self.name
        return f"<{type(self).__name__} {where}>"

    # -- instance attribute access -----------------------------------------
    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return instance._data.get(self.name)

    def __set__(self, instance, value):
        instance._data[self.name] = value

    # -- defaults ----------------------------------------------------------
    def has_default(self):
        return self.default is not NOT_PROVIDED

    def get_default(self):
        """The value for a new object that was given none (callables are called)."""
        if not self.has_default():
            return None
        if callable(self.default):
            return self.default()
        return copy.deepcopy(self.default)

    def pre_save(self, instance, add):
        """Called by ``Model.save()`` before validation; ``add`` is True on insert.

        Returns the value to store; ``DateTimeField`` uses it for ``auto_now``.
        """
        return getattr(instance, self.name)

    # -- conversion --------------------------------------------------------
    def error(self, message, code="invalid"):
        """A ``ValidationError`` about this field."""
        return ValidationError(message, field=self.name, code=code)

    def to_python(self, value):
        """Convert input to the Python value, or raise ``ValidationError`` naming the field.

        Rejects containers for scalar fields, then calls ``coerce`` and, for a
        non-empty result, ``validate``. Does not check ``required`` (``clean`` does).
        """
        if value is None:
            return None
        if isinstance(value, (dict, list, tuple, set, frozenset)) and not self.accepts_containers:
            raise self.error(f"Expected a single value, not {_type_name(value)}.")
        value = self.coerce(value)
        if not self.is_empty(value):
            self.validate(value)
        return value

    def coerce(self, value):
        """Type conversion for a non-None scalar input (override in subclasses)."""
        try:
            return subset.check_scalar(value, self.name or "value")
        except (UnsupportedOperation, OverflowError):
            raise self.error(f"Unsupported value of type {type(value).__name__}.") from None

    def validate(self, value):
        """Rules on a converted non-empty value; raise ``self.error(...)`` to refuse it.

        The base checks ``choices``; subclasses call ``super().validate(value)``.
        """
        if self.choices is not None and value not in [c for c, _ in self.choices]:
            raise self.error(gettext("Select a valid choice; %(value)r is not one of the "
                                     "choices.") % {"value": value}, code="invalid_choice")

    def is_empty(self, value):
        return any(value is e or (type(value) is type(e) and value == e)
                   for e in self.empty_values)

    def clean(self, value):
        """``to_python`` plus the ``required`` check; returns the clean value."""
        value = self.to_python(value)
        if self.required and self.is_empty(value):
            raise self.error(gettext("This field is required."), code="required")
        return value

    def to_bson(self, value):
        """The Python value → what is stored in the document."""
        if isinstance(value, (dict, list, tuple, set)) and not self.accepts_containers:
            raise self.error(f"Expected a single value, not {_type_name(value)}.")
        return value

    def from_bson(self, value):
        """The stored value → the Python value (lenient: stored data is trusted)."""
        return value

    def to_json(self, value):
        """The Python value → a JSON-serialisable value (for the JSON API)."""
        if isinstance(value, ObjectId):
            return str(value)
        if isinstance(value, datetime.datetime):
            return value.isoformat()
        return value

    def display(self, value):
        """Human text for ``value``: the choice label when there are choices."""
        if self.choices is not None:
            for choice, label in self.choices:
                if choice == value:
                    return str(label)
        return "" if value is None else str(value)


def fill_fields(instance, fields, data):
    """Set ``instance._data`` from the keyword arguments ``data`` (consumed), each missing
    field taking its default; an unknown name is a ``TypeError`` (``Model()``,
    ``SubDocument()``)."""
    for name, field in fields.items():
        instance._data[name] = data.pop(name) if name in data else field.get_default()
    if data:
        raise TypeError(f"{type(instance).__name__}() got unknown field(s): "
                        f"{', '.join(sorted(data))}")


def _normalize_choices(choices):
    out = []
    for choice in choices:
        if isinstance(choice, (list, tuple)):
            if len(choice) != 2:
                raise ImproperlyConfigured(f"choices take (value, label) pairs, not {choice!r}")
            out.append((choice[0], choice[1]))
        else:
            out.append((choice, str(choice)))
    return out


def join_path(*parts):
    """The dotted path of the non-empty ``parts``: ``("lines", 2, "sku")`` → ``lines.2.sku``."""
    return ".".join(str(part) for part in parts if part is not None and part != "")


def nested_error(exc, prefix):
    """``exc`` with its keys put under ``prefix``: the part's own error (a non-field
    error) becomes ``prefix``, ``"quantity"`` becomes ``"<prefix>.quantity"``."""
    if not prefix:
        return exc
    errors = {}
    for key, message in exc.errors.items():
        errors[prefix if key == NON_FIELD_ERRORS else f"{prefix}.{key}"] = message
    return ValidationError(errors, code=exc.code)


def copy_field(field):
    """A shallow clone of ``field`` (and of the fields it holds), for a subclass to own."""
    clone = object.__new__(type(field))
    clone.__dict__.update(field.__dict__)
    for part in ("item_field", "value_field"):
        inner = getattr(field, part, None)
        if isinstance(inner, Field):
            setattr(clone, part, copy_field(inner))
    return clone
