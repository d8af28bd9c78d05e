"""How documents become SQLite JSON text and back, so that SQL compares them right.

JSON has no ObjectId or date, and SQLite orders its JSON values as NULL <
numbers < text. We store the non-JSON types as *tagged strings*: a string that
starts with U+10FFFF (the highest code point, so it sorts after every ordinary
string), then a one-letter tag, then a payload that sorts like the value:

    ObjectId   TAG + "o" + 24 lowercase hex digits
    datetime   TAG + "d" + 16-digit (epoch milliseconds + 10**15)   (UTC, ms precision)
    str        TAG + "s" + the string   (only for the rare string that itself starts with TAG)

``sql.rank_expr`` turns a stored value into MongoDB's type rank, so type
bracketing and mixed-type sort order match the server's.
"""
import datetime
import json

from bson import ObjectId

TAG = "\U0010FFFF"
OID, DATE, STR = "o", "d", "s"
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_DATE_OFFSET = 10 ** 15

# MongoDB's BSON comparison order, reduced to the types of the subset.
RANK_NULL, RANK_NUMBER, RANK_STRING, RANK_OBJECT, RANK_ARRAY = 1, 2, 3, 4, 5
RANK_OID, RANK_BOOL, RANK_DATE = 7, 8, 9


def datetime_to_ms(value):
    """Milliseconds since the epoch, as BSON stores it (naive means UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    delta = value - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def ms_to_datetime(ms):
    return _EPOCH + datetime.timedelta(milliseconds=ms)


def encode_scalar(value):
    """A Python scalar → the JSON/SQL value stored for it."""
    if isinstance(value, str):
        return TAG + STR + value if value.startswith(TAG) else value
    if isinstance(value, ObjectId):
        return TAG + OID + str(value)
    if isinstance(value, datetime.datetime):
        return f"{TAG}{DATE}{datetime_to_ms(value) + _DATE_OFFSET:016d}"
    return value


def encode(value):
    """Encode a value (documents and arrays recursively) for storage."""
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    return encode_scalar(value)


def decode_string(text):
    if not text.startswith(TAG):
        return text
    tag, payload = text[1:2], text[2:]
    if tag == OID:
        return ObjectId(payload)
    if tag == DATE:
        return ms_to_datetime(int(payload) - _DATE_OFFSET)
    return payload


def decode(value):
    """Inverse of ``encode``."""
    if isinstance(value, str):
        return decode_string(value)
    if isinstance(value, dict):
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value


def dumps(document):
    return json.dumps(encode(document), ensure_ascii=False, separators=(",", ":"))


def loads(text):
    return decode(json.loads(text))


def sql_param(value):
    """A scalar as an SQL parameter comparable with ``json_extract`` output."""
    if isinstance(value, bool):
        return int(value)
    return encode_scalar(value)


def rank(value):
    """MongoDB's type rank of a Python value (``None`` and missing share one)."""
    if value is None:
        return RANK_NULL
    if isinstance(value, bool):
        return RANK_BOOL
    if isinstance(value, (int, float)):
        return RANK_NUMBER
    if isinstance(value, str):
        return RANK_STRING
    if isinstance(value, ObjectId):
        return RANK_OID
    if isinstance(value, datetime.datetime):
        return RANK_DATE
    if isinstance(value, dict):
        return RANK_OBJECT
    return RANK_ARRAY


def canonical(value):
    """A hashable key under which two values are equal exactly when MongoDB says so.

    Used for ``$addToSet``, ``$pull`` and ``distinct``: ``1 == 1.0`` but
    ``True != 1``, and datetimes compare at millisecond precision.
    """
    if isinstance(value, dict):
        return ("d", tuple((k, canonical(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("l", tuple(canonical(v) for v in value))
    if isinstance(value, datetime.datetime):
        return (RANK_DATE, datetime_to_ms(value))
    return (rank(value), value)


def array_paths(document, prefix=""):
    """Dotted paths (array elements transparent) that hold an array in ``document``."""
    found = set()
    for key, value in document.items():
        path = f"{prefix}{key}"
        _collect_arrays(value, path, found)
    return found


def _collect_arrays(value, path, found):
    if isinstance(value, dict):
        for key, item in value.items():
            _collect_arrays(item, f"{path}.{key}", found)
    elif isinstance(value, list):
        found.add(path)
        for item in value:
            if isinstance(item, (dict, list)):
                _collect_arrays(item, path, found)
