"""Is a stored document already what its model would store? A fast check for ``loaddata``.

``loaddata`` promises that a dumped document is loaded only if the model would store
it unchanged: ``from_bson``, ``clean()`` (every field's ``to_python`` and
``required``, then the model's own rules), ``to_bson``, and the result equal to the
line (``core.management.serialization.clean_document``). That round trip costs
most of a load. ``stored_as_cleaned(model)`` answers the same question without it
for the common case: a model whose ``clean``, ``from_bson`` and ``to_bson`` are
``Model``'s own, whose fields are all of the plain classes below (exactly these
classes: a subclass may convert or check differently), without ``choices``.

Each plain field class has a predicate ``value -> bool`` that is True only when the
field's ``clean`` would accept the value and return it unchanged, with ``to_bson``
storing it as it is. False never refuses anything: it means "not sure", and the
caller runs the full round trip, which either accepts the document or names the
error. So the fast check can only accept what the round trip accepts; when it
cannot tell, the round trip decides (tests/dumpload compare the two on tricky
values).
"""
import datetime

from bson import ObjectId

from .base import Model
from .fields import (BooleanField, DateTimeField, ListField, ReferenceField, StringField,
                     TextField)
from .fields.base import INT64_MAX, UTC

__all__ = ["stored_as_cleaned"]


def _text(field):
    """A ``StringField``/``TextField`` value: text that stripping, the NUL check and the
    length bounds leave as it is; ``None`` or ``""`` only when not required."""
    strip, required = field.strip, field.required
    low = field.min_length
    high = field.max_length

    def check(value):
        if type(value) is not str:
            return value is None and not required
        if not value:
            return not required
        if "\x00" in value or (strip and value.strip() != value):
            return False
        size = len(value)
        return (high is None or size <= high) and (low is None or size >= low)
    return check


def _empty_or(kind):
    """A value of exactly type ``kind``, or ``None`` when the field is not required."""
    def factory(field):
        required = field.required

        def check(value):
            return type(value) is kind or (value is None and not required)
        return check
    return factory


def _datetime(field):
    """An aware UTC moment at millisecond precision (what ``_normalize`` leaves as it is)."""
    required = field.required

    def check(value):
        if type(value) is not datetime.datetime:
            return value is None and not required
        return value.tzinfo is UTC and value.microsecond % 1000 == 0
    return check


def _string_list(field):
    """A list of text items none of which ``ListField`` would drop or change, within
    ``min_items``/``max_items`` (a list of other items: no fast check)."""
    item = field.item_field
    if type(item) not in (StringField, TextField) or item.choices is not None \
            or field.unique_items:
        return None
    item_check = _text(item)
    low, high, required = field.min_items, field.max_items, field.required

    def check(value):
        if type(value) is not list:
            return False
        size = len(value)
        if (high is not None and size > high) or (low is not None and size < low) \
                or (required and not size):
            return False
        for text in value:
            if not text or not item_check(text):   # "" and None are dropped: a change
                return False
        return True
    return check


#: the plain field classes (exact types) and how to build each one's predicate
_PREDICATES = {
    StringField: _text,
    TextField: _text,
    BooleanField: _empty_or(bool),
    ReferenceField: _empty_or(ObjectId),
    DateTimeField: _datetime,
    ListField: _string_list,
}

_cache = {}


def stored_as_cleaned(model):
    """A function ``document -> bool`` for ``model``, or ``None`` when the model has no
    fast check (its own ``clean``/``from_bson``/``to_bson``, or a field of another class).

    The function is True when the document (``_id`` and ``version`` already checked by
    the caller) holds ``_id``, ``version`` (optional) and every declared field in the
    model's order and nothing else, each value one its field stores unchanged: then the
    model's round trip would return an equal document, and the caller may take the
    document as it is. False: run the round trip."""
    if model in _cache:
        return _cache[model]
    _cache[model] = check = _build(model)
    return check


def _defined_by(model, name):
    """The class of ``model``'s MRO whose body defines ``name``."""
    return next(klass for klass in model.__mro__ if name in vars(klass))


def _build(model):
    if any(_defined_by(model, name) is not Model for name in ("clean", "from_bson", "to_bson")):
        return None
    fields = model._meta.fields
    checks = []
    for name, field in fields.items():
        factory = _PREDICATES.get(type(field))
        if factory is None or field.choices is not None or name in ("_id", "version"):
            return None
        check = factory(field)
        if check is None:
            return None
        checks.append((name, check))
    with_version = ["_id", "version", *fields]
    without_version = ["_id", *fields]

    def document_check(document):
        keys = list(document)
        if keys != without_version and (keys != with_version or not (
                type(document["version"]) is int and 1 <= document["version"] <= INT64_MAX)):
            return False      # (to_bson drops a null version; storing refuses a huge one)
        for name, check in checks:
            if not check(document[name]):
                return False
        return True
    return document_check
