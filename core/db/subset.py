"""The written-down subset of MongoDB that Bastion uses, and its validator.

Every backend calls these checks before doing any work, so a query outside the
subset fails the same way on the embedded store and on a real MongoDB, and
code that passes its tests on one runs on the other.

Values
    ``None``, ``bool``, ``int`` (64-bit; a bigger one raises ``ValueOutOfRange``,
    an ``OverflowError`` as PyMongo's), finite ``float``, ``str``,
    ``bson.ObjectId``, ``datetime.datetime`` (stored in UTC with millisecond
    precision, returned timezone-aware), finite ``bson.Decimal128`` (exact; it
    compares and sorts numerically with other ``Decimal128`` values — comparing
    it with an ``int``/``float`` is outside the subset, so keep a field's numbers
    of one kind), binary data (``bytes``, read back as ``bytes``, or
    ``bson.Binary`` of another subtype, read back as ``Binary``; equality only),
    and ``list`` / ``dict`` of these in documents. A calendar date is stored as
    its midnight UTC ``datetime`` (``core.models.fields.DateField``). Field names
    are non-empty strings without ``.``, and do not start with ``$``.

Filters
    ``{path: value}`` (equality; a scalar also matches inside an array field;
    a list matches the whole array), and per path an operator document with
    ``$eq $ne $gt $gte $lt $lte $in $nin $exists $regex $options $not``.
    Top-level ``$and $or $nor`` take non-empty lists of filters. Paths are
    dotted (``author.name``, ``lines.sku``) and traverse sub-documents and
    arrays of sub-documents at any depth; numeric (positional) segments are not
    part of the subset. Equality against a whole
    sub-document is not part of the subset: query its fields by dotted path.
    Comparison is type-bracketed as in MongoDB (``{"n": {"$gt": 5}}`` never
    matches a string). ``$regex`` takes a pattern string and ``$options`` from
    ``imsx``; escape user text with ``re.escape``.

Updates
    ``$set $unset $inc $push $pull $addToSet $setOnInsert``, dotted paths
    through sub-documents (``$set`` creates the missing ones; a path through an
    array is outside the subset: set the whole array), no path named twice,
    ``_id`` never modified. ``$pull`` removes elements equal to
    a value.

Sort
    a list of ``(path, 1 | -1)`` pairs (or ``key, direction``); dotted paths
    into sub-documents sort like top-level fields. Sorting on a field that holds
    arrays (``lines.sku``) is outside the subset.

Indexes
    on any dotted path a sort or filter may use, sub-documents included; an
    index on a path through arrays (``lines.sku``) serves filters (MongoDB's
    multikey index); a unique index may not cover a path that holds arrays.

Projection
    ``{path: 1, ...}`` or ``{path: 0, ...}`` (``_id`` may be excluded from an
    inclusion), or a list of paths to include.
"""
import datetime
import math
import re

from bson import Binary, ObjectId
from bson.decimal128 import Decimal128

from .errors import UnsupportedOperation, ValueOutOfRange

INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1

QUERY_OPERATORS = frozenset(
    "$eq $ne $gt $gte $lt $lte $in $nin $exists $regex $options $not".split())
LOGICAL_OPERATORS = frozenset(("$and", "$or", "$nor"))
UPDATE_OPERATORS = frozenset(
    "$set $unset $inc $push $pull $addToSet $setOnInsert".split())
REGEX_OPTIONS = frozenset("imsx")
SCALAR_TYPES = (type(None), bool, int, float, str, ObjectId, datetime.datetime, Decimal128,
                bytes, Binary)
#: the scalar types whose every value may be stored (``check_scalar`` has nothing to check)
_ALWAYS_STORABLE = frozenset(SCALAR_TYPES) - {int, float, Decimal128}


def key_problem(key):
    """Why ``key`` cannot name a stored field (text), or ``None`` when it can."""
    if not isinstance(key, str) or not key:
        return "must be non-empty text"
    if key.startswith("$"):
        return "may not start with '$'"
    if "." in key:
        return "may not contain '.'"
    if "\x00" in key:
        return "may not contain NUL"
    return None


def check_path(path):
    """Raise unless ``path`` is a dotted field path of the subset."""
    if not isinstance(path, str) or not path:
        raise UnsupportedOperation(f"field path must be a non-empty string, not {path!r}")
    for segment in path.split("."):
        if not segment:
            raise UnsupportedOperation(f"empty segment in field path {path!r}")
        if segment.startswith("$"):
            raise UnsupportedOperation(f"operator {segment!r} used as a field name in {path!r}")
        if segment.isdigit():
            raise UnsupportedOperation(
                f"positional path {path!r} is outside the subset; query the array itself")
        if '"' in segment or "\x00" in segment:
            raise UnsupportedOperation(f"field path {path!r} contains a quote or NUL")
    return path


def check_scalar(value, where="value"):
    """Raise unless ``value`` is a scalar of the subset (no list, no dict)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueOutOfRange(f"{where}: MongoDB can only handle up to 8-byte ints")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise UnsupportedOperation(f"{where}: NaN and infinity are outside the subset")
    elif isinstance(value, Decimal128):
        if not value.to_decimal().is_finite():
            raise UnsupportedOperation(f"{where}: NaN and infinity are outside the subset")
    elif not isinstance(value, SCALAR_TYPES):
        raise UnsupportedOperation(
            f"{where}: type {type(value).__name__} is outside the subset")
    return value


def check_value(value, where="value"):
    """Raise unless ``value`` may be stored in a document field."""
    if isinstance(value, dict):
        check_document(value, where)
    elif isinstance(value, (list, tuple)):
        for item in value:
            check_value(item, where)
    else:
        check_scalar(value, where)
    return value


def check_document(doc, where="document"):
    """Raise unless ``doc`` is a storable document (field names and values)."""
    if not isinstance(doc, dict):
        raise UnsupportedOperation(f"{where} must be a dict, not {type(doc).__name__}")
    for key, value in doc.items():
        if not isinstance(key, str) or not key:
            raise UnsupportedOperation(f"{where}: field names must be non-empty strings")
        if key_problem(key):
            raise UnsupportedOperation(f"{where}: field name {key!r} is not allowed")
        # most fields hold such a value: no call, no dotted name made for an error that
        # cannot happen (half the time of checking an article)
        if type(value) not in _ALWAYS_STORABLE:
            check_value(value, f"{where}.{key}")
    return doc


def _check_equality_value(value, path):
    if isinstance(value, dict):
        raise UnsupportedOperation(
            f"equality against a sub-document at {path!r} is outside the subset; "
            "query its fields with dotted paths")
    if isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, (dict, list, tuple)):
                raise UnsupportedOperation(
                    f"nested documents or arrays in an array literal at {path!r}")
            check_scalar(item, path)
    else:
        check_scalar(value, path)


def _check_regex(pattern, options, path):
    if not isinstance(pattern, str):
        raise UnsupportedOperation(f"$regex at {path!r} must be a string")
    if not isinstance(options, str) or not set(options) <= REGEX_OPTIONS:
        raise UnsupportedOperation(f"$options at {path!r} must use only the letters 'imsx'")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise UnsupportedOperation(f"invalid regular expression at {path!r}: {exc}") from None


def _check_operator_doc(ops, path):
    if not ops:
        raise UnsupportedOperation(f"empty operator document at {path!r}")
    if "$options" in ops and "$regex" not in ops:
        raise UnsupportedOperation(f"$options without $regex at {path!r}")
    for op, arg in ops.items():
        if op not in QUERY_OPERATORS:
            raise UnsupportedOperation(f"query operator {op!r} is outside the subset")
        if op in ("$eq", "$ne"):
            _check_equality_value(arg, path)
        elif op in ("$gt", "$gte", "$lt", "$lte"):
            if isinstance(arg, (dict, list, tuple)):
                raise UnsupportedOperation(f"{op} at {path!r} takes a scalar")
            check_scalar(arg, path)
        elif op in ("$in", "$nin"):
            if not isinstance(arg, (list, tuple)):
                raise UnsupportedOperation(f"{op} at {path!r} needs a list")
            for item in arg:
                if isinstance(item, (dict, list, tuple)):
                    raise UnsupportedOperation(f"{op} at {path!r} takes a list of scalars")
                check_scalar(item, path)
        elif op == "$exists":
            if not isinstance(arg, bool):
                raise UnsupportedOperation(f"$exists at {path!r} takes true or false")
        elif op == "$regex":
            _check_regex(arg, ops.get("$options", ""), path)
        elif op == "$not":
            if not isinstance(arg, dict) or not all(k.startswith("$") for k in arg):
                raise UnsupportedOperation(f"$not at {path!r} takes an operator document")
            _check_operator_doc(arg, path)


def is_operator_doc(value):
    """True when ``value`` is ``{"$op": ...}`` rather than a literal."""
    return isinstance(value, dict) and bool(value) and all(
        isinstance(k, str) and k.startswith("$") for k in value)


#: how many filter shapes ``check_filter`` keeps as accepted (then it starts again)
MAX_ACCEPTED_SHAPES = 512
#: the most keys of a filter, and items of one of its lists, whose shape is kept
_SHAPE_KEYS = 200
_SHAPE_ITEMS = 32
#: the scalar types whose every value is in the subset (the shape holds the type alone)
_ANY_VALUE = frozenset({type(None), bool, str, ObjectId, datetime.datetime, bytes, Binary})
_COMPARED = frozenset(("$gt", "$gte", "$lt", "$lte"))
#: ``{shape: True}`` of the filters ``check_filter`` has accepted (see ``_filter_shape``)
_accepted_shapes = {}


class _NoShape(Exception):
    """The filter holds what ``_filter_shape`` does not follow: check it in full."""


def check_filter(flt):
    """Raise unless ``flt`` is a filter of the subset; return it (``None`` → ``{}``).

    The verdict depends on the filter's keys, operators and the types of its values (and
    on no value but an ``int``'s range, a ``float``'s finiteness, a pattern, a
    ``Decimal128``): a filter of a shape accepted before (``_filter_shape``, which
    takes in only values every value of their type passes) is accepted after one walk;
    any other is checked in full, and its shape kept only once it passed."""
    if flt is None:
        return {}
    try:
        shape = _filter_shape(flt, [0])
    except _NoShape:
        return _checked_filter(flt)
    if shape not in _accepted_shapes:
        _checked_filter(flt)
        if len(_accepted_shapes) >= MAX_ACCEPTED_SHAPES:
            _accepted_shapes.clear()
        _accepted_shapes[shape] = True
    return flt


def _filter_shape(flt, keys):
    """A hashable key of what ``_checked_filter``'s verdict on ``flt`` depends on;
    ``_NoShape`` for what it does not follow (a verdict of a value, more than
    ``_SHAPE_KEYS`` keys: ``keys`` is ``[how many met]``)."""
    if type(flt) is not dict:
        raise _NoShape()
    keys[0] += len(flt)
    if keys[0] > _SHAPE_KEYS:
        raise _NoShape()
    parts = []
    for key, value in flt.items():
        if type(key) is not str:
            raise _NoShape()
        if key in LOGICAL_OPERATORS:
            if type(value) not in (list, tuple):
                raise _NoShape()
            parts.append((key, tuple(_filter_shape(sub, keys) for sub in value)))
        elif type(value) is dict:
            parts.append((key, _operators_shape(value)))
        else:
            parts.append((key, _equality_shape(value)))
    return tuple(parts)


def _operators_shape(ops):
    if not ops or not all(type(op) is str and op.startswith("$") for op in ops):
        raise _NoShape()                # a sub-document, mixed, or empty
    parts = []
    for op, arg in ops.items():
        if op in ("$eq", "$ne"):
            parts.append((op, _equality_shape(arg)))
        elif op in _COMPARED:
            parts.append((op, _value_shape(arg)))
        elif op in ("$in", "$nin"):
            parts.append((op, _items_shape(arg)))
        elif op == "$exists":
            parts.append((op, type(arg)))
        elif op == "$not" and type(arg) is dict:
            parts.append((op, _operators_shape(arg)))
        else:                           # $regex, $options (a pattern's verdict), unknown
            raise _NoShape()
    return tuple(parts)


def _equality_shape(value):
    if type(value) in (list, tuple):
        return ("[]", _items_shape(value))
    return _value_shape(value)


def _items_shape(values):
    if type(values) not in (list, tuple) or len(values) > _SHAPE_ITEMS:
        raise _NoShape()
    return tuple(_value_shape(value) for value in values)


def _value_shape(value):
    """The type of a scalar every value of that type passes with (an ``int`` in 64 bits,
    a finite ``float``)."""
    kind = type(value)
    if kind in _ANY_VALUE or (kind is int and INT64_MIN <= value <= INT64_MAX) or (
            kind is float and math.isfinite(value)):
        return kind
    raise _NoShape()


def _checked_filter(flt):
    """``check_filter``'s full check, every value looked at."""
    if flt is None:
        return {}
    if not isinstance(flt, dict):
        raise UnsupportedOperation(f"filter must be a dict, not {type(flt).__name__}")
    for key, value in flt.items():
        if not isinstance(key, str):
            raise UnsupportedOperation(f"filter keys must be strings, not {key!r}")
        if key in LOGICAL_OPERATORS:
            if not isinstance(value, (list, tuple)) or not value:
                raise UnsupportedOperation(f"{key} needs a non-empty list of filters")
            for sub in value:
                _checked_filter(sub)
        elif key.startswith("$"):
            raise UnsupportedOperation(f"query operator {key!r} is outside the subset")
        else:
            check_path(key)
            if is_operator_doc(value):
                _check_operator_doc(value, key)
            elif isinstance(value, dict) and any(
                    isinstance(k, str) and k.startswith("$") for k in value):
                raise UnsupportedOperation(f"mixed operators and fields at {key!r}")
            else:
                _check_equality_value(value, key)
    return flt


def _paths_conflict(a, b):
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def check_update(update):
    """Raise unless ``update`` is an update document of the subset."""
    if not isinstance(update, dict) or not update:
        raise UnsupportedOperation("update must be a non-empty dict of update operators")
    seen = []
    for op, fields in update.items():
        if op not in UPDATE_OPERATORS:
            if isinstance(op, str) and not op.startswith("$"):
                raise UnsupportedOperation(
                    "update needs operators such as $set; use replace_one to replace")
            raise UnsupportedOperation(f"update operator {op!r} is outside the subset")
        if not isinstance(fields, dict) or not fields:
            raise UnsupportedOperation(f"{op} needs a non-empty dict of fields")
        for path, value in fields.items():
            check_path(path)
            if path == "_id" or path.startswith("_id."):
                raise UnsupportedOperation("the _id field cannot be updated")
            for other in seen:
                if _paths_conflict(path, other):
                    raise UnsupportedOperation(
                        f"updating the path {path!r} would conflict with {other!r}")
            seen.append(path)
            if op == "$inc":
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise UnsupportedOperation(f"$inc of {path!r} needs a number")
                check_scalar(value, path)
            elif op == "$pull":
                if isinstance(value, dict):
                    raise UnsupportedOperation(f"$pull of {path!r} takes a value, not a condition")
                check_value(value, path)
            elif op != "$unset":
                check_value(value, path)
    return update


def check_replacement(doc):
    """Raise unless ``doc`` may replace a whole document."""
    if isinstance(doc, dict) and any(isinstance(k, str) and k.startswith("$") for k in doc):
        raise UnsupportedOperation("replacement document must not contain update operators")
    return check_document(doc, "replacement")


def normalize_sort(key_or_list, direction=None):
    """Return a sort spec as a list of ``(path, 1 | -1)`` pairs."""
    if key_or_list is None:
        return []
    if isinstance(key_or_list, str):
        pairs = [(key_or_list, 1 if direction is None else direction)]
    elif isinstance(key_or_list, dict):
        pairs = list(key_or_list.items())
    else:
        pairs = list(key_or_list)
    out = []
    for pair in pairs:
        try:
            path, dirn = pair
        except (TypeError, ValueError):
            raise UnsupportedOperation(
                f"sort takes (field, direction) pairs, not {pair!r}") from None
        check_path(path)
        if dirn not in (1, -1) or isinstance(dirn, bool):
            raise UnsupportedOperation(f"sort direction for {path!r} must be 1 or -1")
        out.append((path, dirn))
    return out


def normalize_projection(projection):
    """Return ``(mode, paths, include_id)``: mode is None, 'include' or 'exclude'."""
    if not projection:
        return None, [], True
    if isinstance(projection, (list, tuple)):
        projection = {p: 1 for p in projection}
    if not isinstance(projection, dict):
        raise UnsupportedOperation("projection must be a dict or a list of fields")
    include_id = True
    modes = set()
    paths = []
    for path, flag in projection.items():
        check_path(path)
        if flag not in (0, 1) or (not isinstance(flag, (bool, int))):
            raise UnsupportedOperation(f"projection of {path!r} must be 0 or 1")
        if path == "_id":
            include_id = bool(flag)
            continue
        modes.add("include" if flag else "exclude")
        paths.append(path)
    if len(modes) > 1:
        raise UnsupportedOperation("projection cannot mix inclusion and exclusion")
    if modes:
        return modes.pop(), paths, include_id
    # only _id was named: {"_id": 1} keeps just _id, {"_id": 0} drops it
    return ("include" if include_id else "exclude"), paths, include_id


def normalize_index_keys(keys, direction=None):
    """Return index keys as a list of ``(path, 1 | -1)`` pairs."""
    spec = normalize_sort(keys, direction)
    if not spec:
        raise UnsupportedOperation("an index needs at least one field")
    return spec


def index_name(spec):
    """MongoDB's default index name: ``field_1_other_-1``."""
    return "_".join(f"{path}_{dirn}" for path, dirn in spec)
