"""Fields that hold other values: sub-documents, lists and dicts.

    class Line(SubDocument):
        sku = StringField(required=True)
        quantity = IntegerField(min_value=1, default=1)

    class Order(Model):
        lines = ListField(EmbeddedField(Line), max_items=100)
        attributes = DictField()

Each container cleans its parts and names a part's error by its dotted path
inside the document: ``lines.2.quantity`` (list positions count from 0, as in
MongoDB paths), ``address.city``, ``attributes.colour``.
"""
import copy
import json
import math

from core.db import subset
from core.i18n import gettext

from ..errors import ImproperlyConfigured, ValidationError
from .base import (
    INT64_MAX, INT64_MIN, Field, _type_name, copy_field, fill_fields, join_path, nested_error,
)
from .scalar import ReferenceField, StringField

#: deepest nesting a free-form ``DictField`` value may have (MongoDB allows 100)
DICT_MAX_DEPTH = 20
#: default ``max_size`` of a ``DictField``: characters of its compact JSON text
DICT_MAX_SIZE = 64 * 1024


# --------------------------------------------------------------------------- sub-documents
def _check_key(key, where):
    """Raise ``ImproperlyConfigured`` unless ``key`` may name a stored field."""
    problem = subset.key_problem(key)
    if problem or key.startswith("_"):
        raise ImproperlyConfigured(f"{where}.{key}: {problem or 'may not start with _'}")


class SubDocumentBase(type):
    """Collects a ``SubDocument``'s declared fields (inherited ones first) into ``_fields``."""

    def __new__(mcs, name, bases, attrs, **kwargs):
        meta = attrs.pop("Meta", None)
        own = [(key, value) for key, value in attrs.items() if isinstance(value, Field)]
        cls = super().__new__(mcs, name, bases, attrs, **kwargs)
        fields = {}
        for base in reversed(cls.__mro__[1:]):
            for key, field in base.__dict__.get("_fields", {}).items():
                if key in attrs and not isinstance(attrs[key], Field):
                    fields.pop(key, None)       # ``key = None`` drops an inherited field
                    continue
                clone = copy_field(field)
                clone.contribute_to_class(cls, key)
                setattr(cls, key, clone)
                fields[key] = clone
        for key, field in own:
            _check_key(key, name)
            if getattr(field, "top_level_only", False):
                raise TypeError(f"{name}.{key}: a {type(field).__name__} cannot be declared "
                                "on a SubDocument; a file belongs to a model's own field "
                                "(declare it on the model).")
            fields.pop(key, None)
            field.contribute_to_class(cls, key)
            fields[key] = field
        cls._fields = fields
        words = "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
        cls.verbose_name = getattr(meta, "verbose_name", None) or words
        cls.verbose_name_plural = (getattr(meta, "verbose_name_plural", None)
                                   or cls.verbose_name + "s")
        return cls


class SubDocument(metaclass=SubDocumentBase):
    """A document stored inside another one: declared like a model, with no collection.

    Declare fields as class attributes and, for rules across fields, override
    ``clean()`` (call ``super().clean()`` first, then raise
    ``ValidationError({"field": "message"})``); it runs whenever the owning
    object is validated. ``__str__`` is its label (default: its non-empty values).
    Stored keys the class does not declare are kept as they are.
    """

    _fields = {}

    def __init__(self, **data):
        """A new sub-document; missing fields take their defaults."""
        self._data = {}
        self._extra = {}
        fill_fields(self, self._fields, data)

    @classmethod
    def from_input(cls, data):
        """A sub-document from user input (a dict); an unknown key is a ``ValidationError``."""
        unknown = [key for key in data if key not in cls._fields]
        if unknown:
            raise ValidationError({str(key)[:100]: gettext("Unknown field.") for key in unknown})
        return cls(**data)

    @classmethod
    def from_bson(cls, doc):
        """The sub-document of a stored dict (undeclared keys are kept)."""
        obj = cls.__new__(cls)
        obj._data = {name: field.from_bson(doc[name]) if name in doc else field.get_default()
                     for name, field in cls._fields.items()}
        obj._extra = {key: value for key, value in doc.items() if key not in cls._fields}
        return obj

    def to_bson(self):
        """The stored dict: every field, then the undeclared keys kept from the store."""
        doc = {name: field.to_bson(self._data.get(name)) for name, field in self._fields.items()}
        for key, value in self._extra.items():
            doc.setdefault(key, value)
        return doc

    def to_json(self):
        return {name: field.to_json(self._data.get(name)) for name, field in self._fields.items()}

    def clean(self):
        """Validate and convert every field in place; errors are keyed by field name."""
        errors = {}
        codes = []
        for name, field in self._fields.items():
            try:
                self._data[name] = field.clean(self._data.get(name))
            except ValidationError as exc:
                errors.update(exc.errors)
                codes.append(exc.code)
        if errors:
            raise ValidationError(errors, code=codes[0] if len(codes) == 1 else None)

    def get_display(self, name):
        return self._fields[name].display(self._data.get(name))

    def __str__(self):
        shown = [self.get_display(name) for name in self._fields]
        return ", ".join(text for text in shown if text) or self.verbose_name

    def __repr__(self):
        return f"<{type(self).__name__}: {self}>"

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self.to_bson() == other.to_bson()

    __hash__ = None


class EmbeddedField(Field):
    """A ``SubDocument`` stored inline: ``address = EmbeddedField(Address)``.

    Accepts an instance of the class or a dict of its fields (from a form or
    JSON); errors name the sub-field's path (``address.city``). ``required``
    refuses a missing sub-document; give ``default=Address`` to always have one.
    """

    accepts_containers = True
    empty_values = (None,)

    def __init__(self, document, **options):
        if not (isinstance(document, type) and issubclass(document, SubDocument)):
            raise ImproperlyConfigured("EmbeddedField(document) takes a SubDocument subclass")
        super().__init__(**options)
        self.document = document

    def coerce(self, value):
        if not isinstance(value, (self.document, dict)):
            raise self.error(f"Expected an object, not {_type_name(value)}.")
        try:
            sub = value if isinstance(value, self.document) else self.document.from_input(value)
            sub.clean()
        except ValidationError as exc:
            raise nested_error(exc, self.name) from None
        return sub

    def to_bson(self, value):
        if isinstance(value, SubDocument):
            return value.to_bson()
        return copy.deepcopy(value)

    def from_bson(self, value):
        return self.document.from_bson(value) if isinstance(value, dict) else value

    def to_json(self, value):
        if isinstance(value, SubDocument):
            return value.to_json()
        return value

    def display(self, value):
        return "" if value is None else str(value)


# --------------------------------------------------------------------------- lists
def _as_field(spec):
    """``ListField``/``DictField`` parts may be given as a SubDocument class."""
    if isinstance(spec, type) and issubclass(spec, SubDocument):
        return EmbeddedField(spec)
    if not isinstance(spec, Field):
        raise ImproperlyConfigured(f"expected a field or a SubDocument class, not {spec!r}")
    if getattr(spec, "top_level_only", False):
        raise TypeError(f"{type(spec).__name__} cannot be an item of a list or a dict: "
                        "a file belongs to a model's own field (declare it on the model).")
    return spec


def _is_scalar_field(field):
    return not isinstance(field, (EmbeddedField, ListField, DictField))


class ListField(Field):
    """A list of values of one field: ``ListField(IntegerField(min_value=0))``,
    ``ListField(EmbeddedField(Line))`` (or just ``ListField(Line)``).

    With no field it is a list of strings (tags): comma-separated text from a
    form (``"a, b"``) is split and empty items are dropped. A list of other
    scalars also takes comma-separated text. ``min_items`` / ``max_items`` bound
    the length, ``unique_items=True`` refuses repeated items, ``choices`` apply to
    each item, ``required`` refuses an empty list. An item's error names its
    position from 0: ``lines.2.quantity``. Defaults to an empty list.
    """

    accepts_containers = True

    def __init__(self, item_field=None, *, min_items=None, max_items=None, unique_items=False,
                 **options):
        options.setdefault("default", list)
        super().__init__(**options)
        self.item_field = _as_field(item_field) if item_field is not None else StringField()
        for label, bound in (("min_items", min_items), ("max_items", max_items)):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int)
                                      or bound < 0):
                raise ImproperlyConfigured(f"{label} must be a non-negative integer")
        self.min_items = min_items
        self.max_items = max_items
        self.unique_items = bool(unique_items)

    def contribute_to_class(self, model, name):
        super().contribute_to_class(model, name)
        self.item_field.contribute_to_class(model, None)   # an item's errors are positional

    @property
    def holds_strings(self):
        return isinstance(self.item_field, StringField)

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and self.min_items is not None and len(value) < self.min_items:
            raise self.error(gettext("Ensure this list has at least %(limit)d items "
                                     "(it has %(count)d).")
                             % {"limit": self.min_items, "count": len(value)},
                             code="min_items")
        return value

    def coerce(self, value):
        if isinstance(value, str) and _is_scalar_field(self.item_field):
            value = [piece for piece in value.split(",") if piece.strip()]
        elif not isinstance(value, (list, tuple)):
            raise self.error(f"Expected a list, not {_type_name(value)}.")
        items, errors, codes = [], {}, []
        for position, item in enumerate(value):
            try:
                if item is None and not self.holds_strings:
                    raise self.item_field.error(gettext("This item may not be empty."),
                                                code="required")
                item = self.item_field.to_python(item)
            except ValidationError as exc:
                errors.update(nested_error(exc, join_path(self.name, position)).errors)
                codes.append(exc.code)
                continue
            if not (self.holds_strings and (item is None or item == "")):
                items.append(item)
        if errors:
            raise ValidationError(errors, code=codes[0] if len(set(codes)) == 1 else None)
        return items

    def validate(self, value):
        if self.max_items is not None and len(value) > self.max_items:
            raise self.error(gettext("Ensure this list has at most %(limit)d items "
                                     "(it has %(count)d).")
                             % {"limit": self.max_items, "count": len(value)},
                             code="max_items")
        if self.choices is not None:
            allowed = [c for c, _ in self.choices]
            for position, item in enumerate(value):
                if item not in allowed:
                    raise ValidationError(
                        gettext("Select a valid choice; %(value)r is not one of the "
                                "choices.") % {"value": item},
                        field=join_path(self.name, position) or None, code="invalid_choice")
        if self.unique_items:
            seen = []
            for position, item in enumerate(value):
                stored = self.item_field.to_bson(item)
                if stored in seen:
                    raise ValidationError(
                        gettext("This item repeats item %(position)d.")
                        % {"position": seen.index(stored)},
                        field=join_path(self.name, position) or None, code="unique_items")
                seen.append(stored)

    def to_bson(self, value):
        if value is None:
            return []
        if not isinstance(value, (list, tuple)):
            raise self.error(f"Expected a list, not {_type_name(value)}.")
        return [self.item_field.to_bson(item) for item in value]

    def from_bson(self, value):
        if value is None:
            return []
        items = value if isinstance(value, (list, tuple)) else [value]
        return [self.item_field.from_bson(item) for item in items]

    def to_json(self, value):
        return [self.item_field.to_json(item) for item in (value or [])]

    def display(self, value):
        """``"a, b"`` for scalars; a count for sub-documents and containers (``"3 lines"``)."""
        value = value or []
        if _is_scalar_field(self.item_field):
            return ", ".join(self.item_field.display(item) for item in value)
        if isinstance(self.item_field, EmbeddedField):
            document = self.item_field.document
            noun = document.verbose_name if len(value) == 1 else document.verbose_name_plural
        else:
            noun = "item" if len(value) == 1 else "items"
        return f"{len(value)} {noun}"


# --------------------------------------------------------------------------- dicts
def _json_position_error(exc):
    return gettext("Invalid JSON at line %(line)d, column %(column)d: %(reason)s.") % {
        "line": exc.lineno, "column": exc.colno, "reason": exc.msg}


class DictField(Field):
    """A JSON object: free-form (``DictField()``) or typed (``DictField(IntegerField())``).

    Keys are non-empty text without a leading ``$``, a ``.`` or NUL (MongoDB
    field names), at any depth of a free-form value; free-form values are JSON
    (null, booleans, 64-bit integers, finite numbers, text, lists, objects, at
    most ``DICT_MAX_DEPTH`` deep). A typed dict runs each value through its field;
    an error names the key: ``prices.eur``. ``max_size`` bounds the compact JSON
    text (default 64 KiB). JSON text is accepted too (a form's textarea); a
    syntax error names its line and column. Defaults to an empty dict.
    """

    accepts_containers = True
    empty_values = (None, "", {})

    def __init__(self, value_field=None, *, max_size=DICT_MAX_SIZE, **options):
        options.setdefault("default", dict)
        super().__init__(**options)
        self.value_field = _as_field(value_field) if value_field is not None else None
        self.max_size = max_size

    def contribute_to_class(self, model, name):
        super().contribute_to_class(model, name)
        if self.value_field is not None:
            self.value_field.contribute_to_class(model, None)

    def coerce(self, value):
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise self.error(_json_position_error(exc)) from None
            except RecursionError:
                raise self.error(gettext("The object is nested more than %(limit)d levels "
                                         "deep.") % {"limit": DICT_MAX_DEPTH}) from None
        if not isinstance(value, dict):
            raise self.error(f"Expected an object, not {_type_name(value)}.")
        if self.value_field is None:
            self._check_free(value, self.name, 1)
            return copy.deepcopy(value)
        out, errors = {}, {}
        for key, item in value.items():
            self._check_key(key, self.name)
            try:
                out[key] = self.value_field.to_python(item)
            except ValidationError as exc:
                errors.update(nested_error(exc, join_path(self.name, key)).errors)
        if errors:
            raise ValidationError(errors)
        return out

    def _fail(self, path, message):
        raise ValidationError(message, field=path or None)

    def _check_key(self, key, path):
        if not isinstance(key, str):
            self._fail(path, f"Keys must be text, not {_type_name(key)}.")
        problem = subset.key_problem(key)
        if problem:
            self._fail(path, f"Key {key[:50]!r} {problem}.")

    def _check_free(self, value, path, depth):
        if depth > DICT_MAX_DEPTH:
            self._fail(path, f"The object is nested more than {DICT_MAX_DEPTH} levels deep.")
        if isinstance(value, dict):
            for key, item in value.items():
                self._check_key(key, path)
                self._check_free(item, join_path(path, key), depth + 1)
        elif isinstance(value, (list, tuple)):
            for position, item in enumerate(value):
                self._check_free(item, join_path(path, position), depth + 1)
        elif isinstance(value, bool) or value is None or isinstance(value, str):
            if isinstance(value, str) and "\x00" in value:
                self._fail(path, "Text may not contain NUL characters.")
        elif isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                self._fail(path, "The number is too large.")
        elif isinstance(value, float):
            if not math.isfinite(value):
                self._fail(path, "Enter a finite number.")
        else:
            self._fail(path, f"{_type_name(value).capitalize()} is not a JSON value.")

    def validate(self, value):
        size = len(json.dumps(self.to_json(value), ensure_ascii=False, separators=(",", ":")))
        if self.max_size is not None and size > self.max_size:
            raise self.error(gettext("Ensure this object is at most %(limit)d characters as "
                                     "JSON (it has %(count)d).")
                             % {"limit": self.max_size, "count": size}, code="max_size")
        super().validate(value)

    def to_bson(self, value):
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(f"Expected an object, not {_type_name(value)}.")
        if self.value_field is None:
            return copy.deepcopy(value)
        return {key: self.value_field.to_bson(item) for key, item in value.items()}

    def from_bson(self, value):
        if not isinstance(value, dict):
            return {} if value is None else value
        if self.value_field is None:
            return value
        return {key: self.value_field.from_bson(item) for key, item in value.items()}

    def to_json(self, value):
        if not isinstance(value, dict):
            return value
        if self.value_field is None:
            return value
        return {key: self.value_field.to_json(item) for key, item in value.items()}

    def display(self, value):
        """The value as indented JSON (what its form textarea edits)."""
        if not value:
            return ""
        return json.dumps(self.to_json(value), ensure_ascii=False, indent=2, default=str)


__all__ = ["SubDocument", "EmbeddedField", "ListField", "DictField"]


# --------------------------------------------------------------------------- dotted paths
class FieldPath:
    """The fields a dotted path walks through: ``address.country``, ``lines.sku``.

    ``fields`` holds them outermost first and ``field`` is the last one; ``many`` says
    the path crosses a list (``lines.sku`` holds one value per line, so a filter on it
    matches any line and the list cannot sort by it); ``verbose_name`` joins the parts'
    names (``address country``); ``value(data)`` reads the path out of a model's
    ``_data`` (a list of values when it crosses a list).
    """

    def __init__(self, path, fields):
        self.path = path
        self.fields = tuple(fields)
        self.field = self.fields[-1]
        self.many = any(isinstance(f, ListField) for f in self.fields[:-1])

    @property
    def verbose_name(self):
        return " ".join(str(f.verbose_name) for f in self.fields)

    def value(self, data):
        values, parts = [data], self.path.split(".")
        for position, part in enumerate(parts):
            found = []
            for value in values:
                value = value._data if isinstance(value, SubDocument) else value
                value = value.get(part) if isinstance(value, dict) else None
                if isinstance(value, list) and position < len(parts) - 1:
                    found.extend(value)
                else:
                    found.append(value)
            values = found
        if self.many:
            return [value for value in values if value is not None]
        return values[0]

    def __repr__(self):
        return f"<FieldPath {self.path}>"


def resolve_path(fields, path, owner):
    """The ``FieldPath`` of ``path`` in ``fields`` (a model's or sub-document's
    ``{name: Field}``); ``KeyError(sentence, kind)`` when a part is no field (kind
    ``"missing"``) or the path would go on through a reference, a dict or a scalar
    (``"through"``); ``owner`` names the model in the sentence."""
    walked, parts = [], path.split(".")
    for position, part in enumerate(parts):
        field = fields.get(part) if fields is not None else None
        if field is None:
            where = ".".join(parts[:position]) or owner
            raise KeyError(f"{where} has no field {part!r}", "missing")
        walked.append(field)
        if position == len(parts) - 1:
            break
        inner = field.item_field if isinstance(field, ListField) else field
        if isinstance(inner, EmbeddedField):
            fields = inner.document._fields
            continue
        name = ".".join(parts[:position + 1])
        if isinstance(inner, ReferenceField):
            raise KeyError(f"{name} is a reference: a path cannot go on into the "
                           "referenced object (filter or sort on that model's own list)",
                           "through")
        raise KeyError(f"{name} is {type(field).__name__}, not a sub-document: a path "
                       "cannot go on into it", "through")
    return FieldPath(path, walked)
