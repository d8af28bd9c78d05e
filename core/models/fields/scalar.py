"""Scalar fields: text, numbers, booleans, dates, choices and references."""
import datetime
import decimal
import ipaddress
import math
import re
import urllib.parse

from bson import ObjectId
from bson.decimal128 import Decimal128

from ..catalog import get_model
from ..errors import ImproperlyConfigured
from core.i18n import gettext
from .base import (
    INT64_MAX, INT64_MIN, NOT_PROVIDED, STRING_MAX_LENGTH, TEXT_MAX_LENGTH, UTC, Field,
    _type_name, utcnow,
)


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
            raise self.error(gettext("Text may not contain NUL characters."))
        return value.strip() if self.strip else value

    def validate(self, value):
        if self.max_length is not None and len(value) > self.max_length:
            raise self.error(gettext("Ensure this value has at most %(limit)d characters "
                                     "(it has %(count)d).")
                             % {"limit": self.max_length, "count": len(value)},
                             code="max_length")
        if self.min_length is not None and len(value) < self.min_length:
            raise self.error(gettext("Ensure this value has at least %(limit)d characters "
                                     "(it has %(count)d).")
                             % {"limit": self.min_length, "count": len(value)},
                             code="min_length")
        super().validate(value)

    #: stored strings are the values (``core.models.projected`` takes them as they are)
    stored_as_python = True

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
            raise self.error(gettext("Enter a valid email address."))

    @staticmethod
    def _valid_domain(domain):
        try:
            ascii_domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return False
        labels = ascii_domain.split(".")
        return (len(labels) >= 2 and all(_DOMAIN_LABEL.match(label) for label in labels)
                and not labels[-1].isdigit())


_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
_UNICODE_SLUG = re.compile(r"^[-\w]+$")


class SlugField(StringField):
    """A short label for URLs: letters, digits, ``-`` and ``_`` (``max_length`` 50).

    ``allow_unicode=True`` also accepts non-ASCII letters and digits.
    """

    def __init__(self, *, max_length=50, allow_unicode=False, **options):
        super().__init__(max_length=max_length, **options)
        self.allow_unicode = allow_unicode

    def validate(self, value):
        super().validate(value)
        pattern = _UNICODE_SLUG if self.allow_unicode else _SLUG
        if not pattern.match(value):
            raise self.error(gettext(
                "Enter a valid slug: letters, numbers, underscores or hyphens."))


class URLField(StringField):
    """An absolute URL whose scheme is one of ``schemes`` (default http and https).

    The host must be a domain name, ``localhost`` or an IP address (IPv6 in
    brackets); ``max_length`` defaults to 2048. Spaces and control characters
    are refused, so the value is safe to put in a link.
    """

    def __init__(self, *, max_length=2048, schemes=("http", "https"), **options):
        super().__init__(max_length=max_length, **options)
        self.schemes = tuple(scheme.lower() for scheme in schemes)

    def validate(self, value):
        super().validate(value)
        if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in value):
            raise self.error(gettext("Enter a valid URL (no spaces)."))
        try:
            parts = urllib.parse.urlsplit(value)
            host = parts.hostname
            parts.port                              # a bad port raises ValueError
        except ValueError:
            raise self.error(gettext("Enter a valid URL.")) from None
        if parts.scheme.lower() not in self.schemes:
            raise self.error(gettext("Enter a URL starting with %(schemes)s://.")
                             % {"schemes": " or ".join(self.schemes)})
        if not host or not self._valid_host(host):
            raise self.error(gettext("Enter a valid URL."))

    @staticmethod
    def _valid_host(host):
        if host == "localhost":
            return True
        try:
            ipaddress.ip_address(host)
            return True
        except ValueError:
            pass
        return EmailField._valid_domain(host)


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
            raise self.error(gettext("Ensure this value is greater than or equal to %(limit)s.")
                             % {"limit": self.min_value}, code="min_value")
        if self.max_value is not None and value > self.max_value:
            raise self.error(gettext("Ensure this value is less than or equal to %(limit)s.")
                             % {"limit": self.max_value}, code="max_value")
        super().validate(value)


class IntegerField(_BoundedNumber):
    """A whole number (64-bit); ``min_value`` / ``max_value`` bound it.

    Accepts ints, integral floats (``3.0``) and digit strings (``" 42 "``);
    refuses booleans, fractions, numbers outside int64 (``code="out_of_range"``)
    and anything else.
    """

    def coerce(self, value):
        if isinstance(value, bool):
            raise self.error(gettext("Enter a whole number."))
        if isinstance(value, int):
            result = value
        elif isinstance(value, float):
            if not value.is_integer():
                raise self.error(gettext("Enter a whole number."))
            result = int(value)
        elif isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            if not _INT_TEXT.match(text):
                raise self.error(gettext("Enter a whole number."))
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
            raise self.error(gettext("Enter a number."))
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
                raise self.error(gettext("Enter a number."))
            result = float(text)
        else:
            raise self.error(f"Enter a number, not {_type_name(value)}.")
        if not math.isfinite(result):
            raise self.error(gettext("Enter a finite number."))
        return result


#: the most significant digits a BSON Decimal128 holds
DECIMAL128_DIGITS = 34
_DECIMAL_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DECIMAL_CONTEXT = decimal.Context(prec=DECIMAL128_DIGITS, traps=[decimal.InvalidOperation])


class DecimalField(_BoundedNumber):
    """An exact decimal number (money): ``decimal.Decimal`` in Python.

    ``max_digits`` (at most 34) and ``decimal_places`` bound it as in SQL's
    ``NUMERIC(p, s)``; the value is kept with exactly ``decimal_places`` places
    (``"12.5"`` → ``Decimal("12.50")``). Stored as BSON ``Decimal128`` on every
    backend (the embedded store keeps it exact and orders it numerically).
    Accepts ``Decimal``, ``Decimal128``, ints and decimal text; a float only
    through its shortest text (``0.1`` → ``0.10``). NaN and infinities are refused.
    """

    def __init__(self, *, max_digits, decimal_places, **options):
        for label, bound in (("max_digits", max_digits), ("decimal_places", decimal_places)):
            if isinstance(bound, bool) or not isinstance(bound, int) or bound < 0:
                raise ImproperlyConfigured(f"{label} must be a non-negative integer")
        if not 1 <= max_digits <= DECIMAL128_DIGITS:
            raise ImproperlyConfigured(f"max_digits must be between 1 and {DECIMAL128_DIGITS}")
        if decimal_places > max_digits:
            raise ImproperlyConfigured("decimal_places may not exceed max_digits")
        super().__init__(**options)
        self.max_digits = max_digits
        self.decimal_places = decimal_places
        self.quantum = decimal.Decimal(1).scaleb(-decimal_places)

    def coerce(self, value):
        if isinstance(value, bool):
            raise self.error(gettext("Enter a number."))
        if isinstance(value, Decimal128):
            value = value.to_decimal()
        if isinstance(value, decimal.Decimal):
            result = value
        elif isinstance(value, int):
            result = decimal.Decimal(value)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise self.error(gettext("Enter a finite number."))
            result = decimal.Decimal(repr(value))
        elif isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            if not _DECIMAL_TEXT.match(text) or len(text) > 100:
                raise self.error(gettext("Enter a number."))
            result = decimal.Decimal(text)
        else:
            raise self.error(f"Enter a number, not {_type_name(value)}.")
        if not result.is_finite():
            raise self.error(gettext("Enter a finite number."))
        self._check_digits(result)
        result = result.quantize(self.quantum, context=_DECIMAL_CONTEXT)
        return result.copy_abs() if result.is_zero() else result         # -0.00 → 0.00

    def _check_digits(self, value):
        sign, digits, exponent = value.normalize(_DECIMAL_CONTEXT).as_tuple() \
            if value else (0, (0,), 0)
        if exponent >= 0:
            whole, places = len(digits) + exponent, 0
        else:
            places = -exponent
            whole = max(len(digits) - places, 0)
        if digits == (0,):
            whole = 0
        if places > self.decimal_places:
            raise self.error(gettext("Ensure that there are no more than %(limit)d decimal "
                                     "places.") % {"limit": self.decimal_places},
                             code="max_decimal_places")
        if whole > self.max_digits - self.decimal_places:
            raise self.error(gettext("Ensure that there are no more than %(limit)d digits "
                                     "before the decimal point.")
                             % {"limit": self.max_digits - self.decimal_places},
                             code="max_whole_digits")

    def to_bson(self, value):
        value = super().to_bson(value)
        if isinstance(value, decimal.Decimal):
            return Decimal128(value)
        return value

    def from_bson(self, value):
        if isinstance(value, Decimal128):
            value = value.to_decimal()
        elif isinstance(value, (int, str)) and not isinstance(value, bool):
            try:
                value = decimal.Decimal(value)
            except decimal.InvalidOperation:
                return value
        elif isinstance(value, float) and math.isfinite(value):
            value = decimal.Decimal(repr(value))
        if isinstance(value, decimal.Decimal) and value.is_finite():
            try:       # the field's places, when that changes nothing (never rounds)
                exact = value.quantize(self.quantum, context=_DECIMAL_CONTEXT)
            except decimal.InvalidOperation:
                return value
            return exact if exact == value else value
        return value

    def to_json(self, value):
        """Decimals travel as strings in JSON (``"12.50"``): a JSON number is a float."""
        return None if value is None else str(value)


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
        raise self.error(gettext("Enter true or false."))


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
                raise self.error(gettext("Enter a valid date/time (ISO 8601, e.g. "
                                         "2024-05-01T12:30).")) from None
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

    #: both stores return aware UTC moments to the millisecond, so ``from_bson`` changes
    #: nothing they return; projected objects (``core.models.projected``) skip it
    stored_as_python = True

    def from_bson(self, value):
        if isinstance(value, datetime.datetime):
            return self._normalize(value)
        return value


class DateField(Field):
    """A calendar date (``datetime.date``): no time, no time zone, never shifted.

    Stored as the BSON date of that day's midnight UTC on every backend, so it
    sorts, compares and round-trips the same on MongoDB and the embedded store
    (query it with ``datetime.date`` values: ``Model.find`` turns them into that
    midnight). Accepts ``date``, a ``datetime`` at midnight (UTC or naive) and
    ISO text (``2024-05-01``); a datetime with a time of day is refused.
    """

    def coerce(self, value):
        if isinstance(value, datetime.datetime):
            moment = value if value.tzinfo is None else value.astimezone(UTC)
            if moment.time() != datetime.time(0):
                raise self.error(gettext("Enter a date without a time of day."))
            return moment.date()
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            if not re.match(r"^\d{4}-\d{2}-\d{2}$", text):
                raise self.error(gettext("Enter a valid date (YYYY-MM-DD)."))
            try:
                return datetime.date.fromisoformat(text)
            except ValueError:
                raise self.error(gettext("Enter a valid date (YYYY-MM-DD).")) from None
        raise self.error(f"Enter a date, not {_type_name(value)}.")

    def to_bson(self, value):
        value = super().to_bson(value)
        return date_to_bson(value) if isinstance(value, datetime.date) else value

    def from_bson(self, value):
        if isinstance(value, datetime.datetime):
            return (value if value.tzinfo is None else value.astimezone(UTC)).date()
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value[:10])
            except ValueError:
                return value
        return value

    def to_json(self, value):
        return value.isoformat() if isinstance(value, datetime.date) else value


def date_to_bson(value):
    """The stored form of a calendar date: its midnight UTC (a ``datetime``)."""
    if isinstance(value, datetime.datetime):
        return value
    return datetime.datetime(value.year, value.month, value.day, tzinfo=UTC)


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
        raise self.error(gettext("Select a valid choice; %(value)r is not one of the "
                                 "choices.") % {"value": value}, code="invalid_choice")


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
            raise self.error(gettext("%(value)r is not a valid id.") % {"value": value})
        if hasattr(value, "_meta") and hasattr(value, "id"):
            if value.id is None:
                raise self.error(gettext("The referenced object has not been saved yet."))
            return value.id
        raise self.error(f"Expected an id, not {_type_name(value)}.")
