"""Model fields: declare them as class attributes of a ``Model``.

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
"""
import copy
import datetime
import itertools
import math
import re

from bson import ObjectId

from core.db import subset
from core.db.errors import UnsupportedOperation

from .catalog import get_model
from .errors import ImproperlyConfigured, ValidationError

__all__ = [
    "Field", "StringField", "TextField", "EmailField", "IntegerField", "FloatField",
    "BooleanField", "DateTimeField", "ChoiceField", "ReferenceField", "ListField",
    "utcnow",
]

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
            raise self.error(f"Select a valid choice; {value!r} is not one of the choices.",
                             code="invalid_choice")

    def is_empty(self, value):
        return any(value is e or (type(value) is type(e) and value == e)
                   for e in self.empty_values)

    def clean(self, value):
        """``to_python`` plus the ``required`` check; returns the clean value."""
        value = self.to_python(value)
        if self.required and self.is_empty(value):
            raise self.error("This field is required.", code="required")
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


# --------------------------------------------------------------------------- strings
class StringField(Field):
    """A single line of text.

    ``max_length`` / ``min_length`` bound the length after stripping; ``max_length``
    defaults to ``STRING_MAX_LENGTH`` (10,000 characters; ``max_length=None`` lifts
    it). ``strip`` (default True) removes surrounding whitespace. Numbers are
    accepted and turned into text; booleans and containers are refused.
    """

    #: the ``max_length`` when none is given
    default_max_length = STRING_MAX_LENGTH

    def __init__(self, *, max_length=NOT_PROVIDED, min_length=None, strip=True, **options):
        super().__init__(**options)
        if max_length is NOT_PROVIDED:
            max_length = self.default_max_length
        for label, bound in (("max_length", max_length), ("min_length", min_length)):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int)
                                      or bound < 0):
                raise ImproperlyConfigured(f"{label} must be a non-negative integer")
        self.max_length = max_length
        self.min_length = min_length
        self.strip = strip

    def coerce(self, value):
        if isinstance(value, str):
            pass
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        else:
            raise self.error(f"Expected text, not {_type_name(value)}.")
        if "\x00" in value:
            raise self.error("Text may not contain NUL characters.")
        return value.strip() if self.strip else value

    def validate(self, value):
        if self.max_length is not None and len(value) > self.max_length:
            raise self.error(f"Ensure this value has at most {self.max_length} characters "
                             f"(it has {len(value)}).", code="max_length")
        if self.min_length is not None and len(value) < self.min_length:
            raise self.error(f"Ensure this value has at least {self.min_length} characters "
                             f"(it has {len(value)}).", code="min_length")
        super().validate(value)

    def from_bson(self, value):
        return value


class TextField(StringField):
    """Multi-line text; rendered as a textarea. Not stripped unless ``strip=True``.

    ``max_length`` defaults to ``TEXT_MAX_LENGTH`` (100,000 characters, at most
    ~1.2 MB in a form body and well under ``API_MAX_BODY_SIZE`` for most text):
    a longer value is a ``ValidationError`` naming the field. Pass a larger
    ``max_length`` (or ``None``) deliberately: every text is read whole by a search.
    """

    default_max_length = TEXT_MAX_LENGTH

    def __init__(self, *, strip=False, **options):
        super().__init__(strip=strip, **options)


_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class EmailField(StringField):
    """An email address; the domain part is lower-cased (the local part is kept).

    ``max_length`` defaults to 254.
    """

    def __init__(self, *, max_length=254, **options):
        super().__init__(max_length=max_length, **options)

    def coerce(self, value):
        value = super().coerce(value)
        if not value or "@" not in value:
            return value  # empty, or validate() reports the missing @
        local, _, domain = value.rpartition("@")
        return f"{local}@{domain.lower()}"

    def validate(self, value):
        super().validate(value)
        local, at, domain = value.rpartition("@")
        if not (at and local and domain and _EMAIL_LOCAL.match(local) and len(local) <= 64
                and self._valid_domain(domain)):
            raise self.error("Enter a valid email address.")

    @staticmethod
    def _valid_domain(domain):
        try:
            ascii_domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return False
        labels = ascii_domain.split(".")
        return (len(labels) >= 2 and all(_DOMAIN_LABEL.match(label) for label in labels)
                and not labels[-1].isdigit())


# --------------------------------------------------------------------------- numbers
_INT_TEXT = re.compile(r"^[+-]?\d+$")
_FLOAT_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class _BoundedNumber(Field):
    kind = "number"

    def __init__(self, *, min_value=None, max_value=None, **options):
        super().__init__(**options)
        self.min_value = min_value
        self.max_value = max_value

    def validate(self, value):
        if self.min_value is not None and value < self.min_value:
            raise self.error(f"Ensure this value is greater than or equal to {self.min_value}.",
                             code="min_value")
        if self.max_value is not None and value > self.max_value:
            raise self.error(f"Ensure this value is less than or equal to {self.max_value}.",
                             code="max_value")
        super().validate(value)


class IntegerField(_BoundedNumber):
    """A whole number (64-bit); ``min_value`` / ``max_value`` bound it.

    Accepts ints, integral floats (``3.0``) and digit strings (``" 42 "``);
    refuses booleans, fractions, numbers outside int64 (``code="out_of_range"``)
    and anything else.
    """

    def coerce(self, value):
        if isinstance(value, bool):
            raise self.error("Enter a whole number.")
        if isinstance(value, int):
            result = value
        elif isinstance(value, float):
            if not value.is_integer():
                raise self.error("Enter a whole number.")
            result = int(value)
        elif isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            if not _INT_TEXT.match(text):
                raise self.error("Enter a whole number.")
            if len(text.lstrip("+-").lstrip("0")) > len(str(INT64_MAX)):
                raise self.error("The number is too large.", code="out_of_range")
            result = int(text)
        else:
            raise self.error(f"Enter a whole number, not {_type_name(value)}.")
        if not INT64_MIN <= result <= INT64_MAX:
            raise self.error("The number is too large.", code="out_of_range")
        return result


class FloatField(_BoundedNumber):
    """A finite floating-point number; ``min_value`` / ``max_value`` bound it.

    NaN, infinities and ints too big for a float are refused.
    """

    def coerce(self, value):
        if isinstance(value, bool):
            raise self.error("Enter a number.")
        if isinstance(value, (int, float)):
            try:
                result = float(value)
            except OverflowError:                  # an int beyond the float range
                raise self.error("The number is too large.", code="out_of_range") from None
        elif isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            if not _FLOAT_TEXT.match(text):
                raise self.error("Enter a number.")
            result = float(text)
        else:
            raise self.error(f"Enter a number, not {_type_name(value)}.")
        if not math.isfinite(result):
            raise self.error("Enter a finite number.")
        return result


# --------------------------------------------------------------------------- booleans
_TRUE = frozenset(("true", "1", "yes", "on", "y", "t"))
_FALSE = frozenset(("false", "0", "no", "off", "n", "f"))


class BooleanField(Field):
    """True or False; defaults to False unless another ``default`` is given.

    Accepts booleans, 0/1 and the usual form words (``"on"``, ``"true"``,
    ``"no"``...). ``required`` only refuses a missing value, not ``False``.
    """

    empty_values = (None,)

    def __init__(self, **options):
        options.setdefault("default", False)
        super().__init__(**options)

    def coerce(self, value):
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            text = value.strip().lower()
            if not text:
                return None
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        raise self.error("Enter true or false.")


# --------------------------------------------------------------------------- dates
class DateTimeField(Field):
    """A moment in time, always timezone-aware UTC with millisecond precision.

    Accepts ``datetime`` (naive means UTC), ``date`` (midnight UTC) and ISO 8601
    text (``2024-05-01T12:30``, ``…Z``, ``…+02:00``). ``auto_now_add`` sets it
    when the object is first saved (if empty); ``auto_now`` on every save. Both
    make the field non-editable.
    """

    def __init__(self, *, auto_now=False, auto_now_add=False, **options):
        if auto_now or auto_now_add:
            options.setdefault("editable", False)
        super().__init__(**options)
        self.auto_now = auto_now
        self.auto_now_add = auto_now_add

    def pre_save(self, instance, add):
        value = getattr(instance, self.name)
        if self.auto_now or (self.auto_now_add and add and value is None):
            value = utcnow()
            setattr(instance, self.name, value)
        return value

    def coerce(self, value):
        if isinstance(value, datetime.datetime):
            moment = value
        elif isinstance(value, datetime.date):
            moment = datetime.datetime(value.year, value.month, value.day)
        elif isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            try:
                moment = datetime.datetime.fromisoformat(text)
            except ValueError:
                raise self.error("Enter a valid date/time (ISO 8601, e.g. "
                                 "2024-05-01T12:30).") from None
        else:
            raise self.error(f"Enter a date/time, not {_type_name(value)}.")
        return self._normalize(moment)

    @staticmethod
    def _normalize(moment):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        else:
            moment = moment.astimezone(UTC)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    def from_bson(self, value):
        if isinstance(value, datetime.datetime):
            return self._normalize(value)
        return value


# --------------------------------------------------------------------------- choices
class ChoiceField(Field):
    """One of ``choices=[(value, label), ...]``; the value keeps its type.

    Form input is matched by the text of a value too (``"2"`` selects ``2``).
    """

    def __init__(self, *, choices, **options):
        if not choices:
            raise ImproperlyConfigured("ChoiceField needs a non-empty choices list")
        super().__init__(choices=choices, **options)

    def coerce(self, value):
        values = [c for c, _ in self.choices]
        for choice in values:
            if type(choice) is type(value) and choice == value:
                return choice
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            for choice in values:
                if str(choice) == text:
                    return choice
        raise self.error(f"Select a valid choice; {value!r} is not one of the choices.",
                         code="invalid_choice")


# --------------------------------------------------------------------------- references
class ReferenceField(Field):
    """A reference to another model's object, stored as its ``ObjectId``.

    ``to`` is the model class, its key (``"accounts.user"``) or ``"self"``.
    Accepts an ``ObjectId``, its 24-hex text or a saved instance. The target is
    not fetched here; ``await obj.get_related(name)`` loads it.
    """

    def __init__(self, to, **options):
        if not (isinstance(to, str) or hasattr(to, "_meta")):
            raise ImproperlyConfigured(
                "ReferenceField(to) takes a Model class or an 'app_label.model_name' key")
        super().__init__(**options)
        self.to = to.lower() if isinstance(to, str) and to != "self" else to

    @property
    def target(self):
        """The referenced model class (resolved lazily from a key)."""
        if self.to == "self":
            return self.model
        if isinstance(self.to, str):
            return get_model(self.to)
        return self.to

    def coerce(self, value):
        if isinstance(value, ObjectId):
            return value
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            if len(text) == 24 and ObjectId.is_valid(text):
                return ObjectId(text)
            raise self.error(f"{value!r} is not a valid id.")
        if hasattr(value, "_meta") and hasattr(value, "id"):
            if value.id is None:
                raise self.error("The referenced object has not been saved yet.")
            return value.id
        raise self.error(f"Expected an id, not {_type_name(value)}.")


# --------------------------------------------------------------------------- lists
class ListField(Field):
    """A list of strings (tags, for instance); defaults to an empty list.

    Accepts a list/tuple, or comma-separated text from a form (``"a, b"``).
    Items go through ``item_field`` (default ``StringField()``); empty items are
    dropped. ``max_items`` bounds the length. ``required`` refuses an empty list.
    """

    accepts_containers = True

    def __init__(self, item_field=None, *, max_items=None, **options):
        options.setdefault("default", list)
        super().__init__(**options)
        self.item_field = item_field if item_field is not None else StringField()
        if not isinstance(self.item_field, StringField):
            raise ImproperlyConfigured("ListField holds strings: item_field must be a "
                                       "StringField (or subclass)")
        self.max_items = max_items

    def contribute_to_class(self, model, name):
        super().contribute_to_class(model, name)
        self.item_field.contribute_to_class(model, name)

    def coerce(self, value):
        if isinstance(value, str):
            value = value.split(",")
        elif not isinstance(value, (list, tuple)):
            raise self.error(f"Expected a list, not {_type_name(value)}.")
        items = []
        for position, item in enumerate(value, start=1):
            try:
                item = self.item_field.to_python(item)
            except ValidationError as exc:
                raise self.error(f"Item {position}: {exc.message}") from None
            if item is not None and item != "":
                items.append(item)
        return items

    def validate(self, value):
        if self.max_items is not None and len(value) > self.max_items:
            raise self.error(f"Ensure this list has at most {self.max_items} items "
                             f"(it has {len(value)}).", code="max_items")
        if self.choices is not None:
            allowed = [c for c, _ in self.choices]
            for item in value:
                if item not in allowed:
                    raise self.error(f"Select a valid choice; {item!r} is not one of the "
                                     "choices.", code="invalid_choice")

    def to_bson(self, value):
        if value is None:
            return []
        if not isinstance(value, (list, tuple)):
            raise self.error(f"Expected a list, not {_type_name(value)}.")
        return list(value)

    def from_bson(self, value):
        if value is None:
            return []
        return list(value) if isinstance(value, (list, tuple)) else [value]

    def to_json(self, value):
        return list(value or [])

    def display(self, value):
        return ", ".join(str(item) for item in (value or []))
