"""How documents become SQLite JSON text and back, so that SQL compares them right.

JSON has no ObjectId or date, and SQLite orders its JSON values as NULL <
numbers < text. We store the non-JSON types as *tagged strings*: a string that
starts with ``TAG`` (U+007F, DEL: one byte that JSON leaves as it is and text
hardly ever holds), then a one-letter tag, then a payload that sorts like the value:

    ObjectId   TAG + "o" + its 12 bytes in 16 characters of an order-keeping base 64
    datetime   TAG + "d" + epoch milliseconds in decimal digits    (UTC, ms precision)
    Decimal128 TAG + "n" + decimal_sort_key + " " + the exact decimal text (see below)
    binary     TAG + "b" + 10-digit length + 3-digit subtype + lowercase hex of the bytes
    str        TAG + "s" + the string   (only for the rare string that itself starts with TAG)

A decimal's sort key orders decimals numerically as text (``decimal_sort_key``);
the exact text after it keeps trailing zeros (``12.50``), so a value round-trips
unchanged, while equal values (``1.0``, ``1.00``) share a key: filters compare
against the key's range (``decimal_bounds``), never the whole string. Binary
data sorts as MongoDB's BinData: by length, then subtype, then bytes. An ObjectId's
base 64 uses the alphabet ``OID_ALPHABET`` (in ASCII order), so its text sorts as its
bytes; a date's digits need not sort (an index compares their integer value).
The tag needs no place in the order of strings: ``sql.Operand.rank`` tells the types
apart before any value is compared, and a user string that starts with ``TAG`` is
stored behind ``TAG + "s"``, which keeps its place among strings.
Files written before schema 4 used U+10FFFF as the tag (four bytes in UTF-8), 24 hex
digits for an ObjectId and 16 digits of (epoch milliseconds + 10**15) for a date;
``upgrade_v3_text`` rewrites such a document.

``sql.rank_expr`` turns a stored value into MongoDB's type rank, so type
bracketing and mixed-type sort order match the server's.
"""
import binascii
import datetime
import decimal
import functools
import json
import threading
from json.encoder import c_make_encoder, encode_basestring

from bson import Binary, ObjectId
from bson.decimal128 import Decimal128

TAG = "\x7f"
#: the tag of files written before schema 4
V3_TAG = "\U0010FFFF"
OID, DATE, STR, DECIMAL, BINARY = "o", "d", "s", "n", "b"
#: what separates a decimal's sort key from its exact text; ``DECIMAL_KEY_END`` sorts
#: right after it and before every character a key or a decimal's text may hold
DECIMAL_KEY_SEP, DECIMAL_KEY_END = " ", "!"
_EXPONENT_OFFSET = 10_000
_DECIMAL_CONTEXT = decimal.Context(prec=34)
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
#: what a date's stored digits added to its epoch milliseconds before schema 4
V3_DATE_OFFSET = 10 ** 15
#: the 64 characters of an ObjectId's stored base 64, in ASCII (hence sort) order
OID_ALPHABET = b"-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_BASE64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_TO_OID_ALPHABET = bytes.maketrans(_BASE64, OID_ALPHABET)
_FROM_OID_ALPHABET = bytes.maketrans(OID_ALPHABET, _BASE64)

# MongoDB's BSON comparison order, reduced to the types of the subset. SQLite stores the
# integers 0 and 1 in a record's header alone (other small integers take a byte more), so
# the ranks index entries hold most — ObjectIds, then booleans — are 0 and 1 (schema 4;
# 1 to 9 before).
RANK_NULL, RANK_NUMBER, RANK_STRING, RANK_OBJECT, RANK_ARRAY = -6, -5, -4, -3, -2
RANK_BINARY, RANK_OID, RANK_BOOL, RANK_DATE = -1, 0, 1, 2


def datetime_to_ms(value):
    """Milliseconds since the epoch, as BSON stores it (naive means UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    delta = value - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def ms_to_datetime(ms):
    return _EPOCH + datetime.timedelta(0, 0, 0, ms)     # positional: ~25% faster


def oid_text(oid):
    """An ObjectId's 16 stored characters: its 12 bytes in base 64 over ``OID_ALPHABET``
    (text order is byte order; 24 hex digits before schema 4)."""
    return binascii.b2a_base64(oid.binary, newline=False).translate(
        _TO_OID_ALPHABET).decode("ascii")


def oid_from_text(text):
    """Inverse of ``oid_text``."""
    return ObjectId(binascii.a2b_base64(text.encode("ascii").translate(_FROM_OID_ALPHABET)))


@functools.lru_cache(maxsize=4096)
def oid_from_tagged(text):
    """The ObjectId a whole stored text (``TAG + OID`` + its 16 characters) holds.
    Remembers the last 4,096 under that text (an ObjectId never changes): the references
    a page's rows share (categories, authors) are decoded once, ~0.1 µs instead of ~1 µs
    each, and a remembered one is found without cutting the text first."""
    return oid_from_text(text[2:])


def decimal_sort_key(value):
    """Text that sorts like the finite decimal ``value`` (a ``Decimal128`` or ``Decimal``).

    Zero is ``"1"``; a positive number ``"2"`` + its adjusted exponent (offset, 5
    digits) + its significant digits; a negative one ``"0"`` + the complemented
    exponent + the nines' complement of its digits + ``"~"`` (so a longer
    magnitude sorts first). Equal numbers (``1.0``, ``1.00``) get one key.
    """
    if isinstance(value, Decimal128):
        value = value.to_decimal()
    if value.is_zero():
        return "1"
    normal = value.normalize(_DECIMAL_CONTEXT)
    digits = "".join(map(str, normal.as_tuple().digits))
    exponent = normal.adjusted() + _EXPONENT_OFFSET
    if normal > 0:
        return f"2{exponent:05d}{digits}"
    complement = "".join(str(9 - int(digit)) for digit in digits)
    return f"0{2 * _EXPONENT_OFFSET - exponent:05d}{complement}~"


def decimal_bounds(value):
    """``(low, high)``: the stored texts of decimals equal to ``value`` are those with
    ``low <= text < high``; anything greater is ``>= high``, anything less ``< low``."""
    prefix = TAG + DECIMAL + decimal_sort_key(value)
    return prefix + DECIMAL_KEY_SEP, prefix + DECIMAL_KEY_END


def encode_scalar(value):
    """A Python scalar → the JSON/SQL value stored for it."""
    if isinstance(value, str):
        return TAG + STR + value if value.startswith(TAG) else value
    if isinstance(value, ObjectId):
        return TAG + OID + oid_text(value)
    if isinstance(value, datetime.datetime):
        return f"{TAG}{DATE}{datetime_to_ms(value)}"
    if isinstance(value, Decimal128):
        return f"{TAG}{DECIMAL}{decimal_sort_key(value)}{DECIMAL_KEY_SEP}{value}"
    if isinstance(value, bytes):
        subtype = value.subtype if isinstance(value, Binary) else 0
        return f"{TAG}{BINARY}{len(value):010d}{subtype:03d}{bytes(value).hex()}"
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
        return oid_from_tagged(text)
    if tag == DATE:
        return ms_to_datetime(int(payload))
    return _decode_other(tag, payload)


def _decode_other(tag, payload):
    """A decimal's, binary data's or escaped string's value from its tag and payload (the
    same in every schema)."""
    if tag == DECIMAL:
        return Decimal128(payload.split(DECIMAL_KEY_SEP, 1)[1])
    if tag == BINARY:
        subtype, data = int(payload[10:13]), bytes.fromhex(payload[13:])
        return data if subtype == 0 else Binary(data, subtype)
    return payload


def decode_value(value):
    """``decode(value)`` for one value ``json.loads`` gave, the common kinds first: a
    plain string, number, boolean or null as it is (no call), an ObjectId from the
    remembered ones (``oid_from_tagged``), a date; anything else as ``decode``."""
    kind = value.__class__
    if kind is str:
        if value[:1] != TAG:
            return value
        tag = value[1:2]
        if tag == OID:
            return oid_from_tagged(value)
        if tag == DATE:
            return _EPOCH + datetime.timedelta(0, 0, 0, int(value[2:]))
        return _decode_other(tag, value[2:])
    if kind is dict or kind is list:
        return decode(value)
    return value


#: the classes of values ``json.loads`` gives that ``decode`` returns as they are
_PLAIN_CLASSES = frozenset({int, float, bool, type(None)})


def decode_column(values):
    """``[decode_value(value) for value in values]`` for one member's values across a
    page's rows, without a call per value where the member needs none: numbers, booleans
    and nulls stay as they are; a column of strings none of which holds ``TAG`` too;
    otherwise only the tagged strings are decoded (ObjectIds straight from the
    remembered ones). May return ``values`` itself."""
    classes = set(map(type, values))
    if classes <= _PLAIN_CLASSES:
        return values
    if classes == {str}:
        if TAG not in "".join(values):
            return values
        oid_prefix = TAG + OID
        return [value if value[:1] != TAG else oid_from_tagged(value)
                if value[:2] == oid_prefix else decode_value(value) for value in values]
    return list(map(decode_value, values))


def decode(value):
    """Inverse of ``encode``."""
    if isinstance(value, str):
        return decode_string(value)
    if isinstance(value, dict):
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value


_THREAD = threading.local()


def _encoder():
    """This thread's ``encode(document) -> (text, values tagged)``: JSON's encoder with a
    ``default`` that asks ``encode_scalar`` for each non-JSON value (ObjectIds, dates,
    decimals, binary data) and counts how many it tagged. On CPython, JSON's C encoder,
    made once per thread (what ``json.JSONEncoder`` sets up per call costs about as much
    again as encoding an article)."""
    encode = getattr(_THREAD, "encode", None)
    if encode is not None:
        return encode
    tagged = [0]

    def default(value):
        text = encode_scalar(value)
        if text is value:
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
        tagged[0] += 1
        return text
    if c_make_encoder is None:                      # pragma: no cover - not CPython
        plain = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"),
                                 check_circular=False, default=default).encode

        def encode(document):
            tagged[0] = 0
            return plain(document), tagged[0]
    else:
        # the arguments JSONEncoder(ensure_ascii=False, separators=(",", ":"),
        # check_circular=False) passes: no markers, no indent, keys unsorted, NaN allowed
        chunks = c_make_encoder(None, default, encode_basestring, None, ":", ",", False,
                                False, True)

        def encode(document):
            tagged[0] = 0
            return "".join(chunks(document, 0)), tagged[0]
    _THREAD.encode = encode
    return encode


def dumps(document):
    """The stored JSON text of ``document``.

    JSON's C encoder writes it, calling back only for the tagged types; when the text
    holds more tags than it wrote, some user string starts with (or holds) ``TAG``,
    and the recursive ``encode`` (which escapes such strings) writes it instead.
    """
    text, tagged = _encoder()(document)
    if text.count(TAG) == tagged:
        return text
    return json.dumps(encode(document), ensure_ascii=False, separators=(",", ":"))


def loads(text):
    return decode(json.loads(text))


def _decode_v3(value):
    if isinstance(value, str):
        if not value.startswith(V3_TAG):
            return value
        tag, payload = value[1:2], value[2:]
        if tag == OID:
            return ObjectId(payload)
        if tag == DATE:
            return ms_to_datetime(int(payload) - V3_DATE_OFFSET)
        return _decode_other(tag, payload)
    if isinstance(value, dict):
        return {key: _decode_v3(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode_v3(item) for item in value]
    return value


def upgrade_v3_text(text):
    """The stored text of a document that schema 3 or before wrote (tag U+10FFFF,
    ObjectIds as 24 hex digits, dates as 16 digits of epoch milliseconds + 10**15), as
    ``dumps`` writes it now."""
    return dumps(_decode_v3(json.loads(text)))


def sql_param(value):
    """A scalar as an SQL parameter comparable with an index key (``sql.Operand.key``):
    an ObjectId's 16 characters (``oid_text``), a date's epoch milliseconds, a bool's 0/1."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, ObjectId):
        return oid_text(value)
    if isinstance(value, datetime.datetime):
        return datetime_to_ms(value)
    return encode_scalar(value)


def rank(value):
    """MongoDB's type rank of a Python value (``None`` and missing share one)."""
    if value is None:
        return RANK_NULL
    if isinstance(value, bool):
        return RANK_BOOL
    if isinstance(value, (int, float, Decimal128)):
        return RANK_NUMBER
    if isinstance(value, str):
        return RANK_STRING
    if isinstance(value, bytes):
        return RANK_BINARY
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
    if isinstance(value, Decimal128):
        return (RANK_NUMBER, value.to_decimal())         # 1 == Decimal("1.0"), as in MongoDB
    if isinstance(value, bytes):
        return (RANK_BINARY, value.subtype if isinstance(value, Binary) else 0, bytes(value))
    return (rank(value), value)


def array_paths(document, prefix=""):
    """Dotted paths (array elements transparent) that hold an array in ``document``."""
    found = set()
    for key, value in document.items():
        if isinstance(value, (dict, list)):       # a path only for what may hold arrays
            _collect_arrays(value, f"{prefix}{key}", found)
    return found


def _collect_arrays(value, path, found):
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                _collect_arrays(item, f"{path}.{key}", found)
    elif isinstance(value, list):
        found.add(path)
        for item in value:
            if isinstance(item, (dict, list)):
                _collect_arrays(item, path, found)
