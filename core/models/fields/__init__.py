"""Model fields: declare them as class attributes of a ``Model`` (or a ``SubDocument``).

    from core.models import Model, fields

    class Address(fields.SubDocument):
        city = fields.StringField(required=True)

    class Customer(Model):
        name = fields.StringField(required=True)
        address = fields.EmbeddedField(Address)

Scalars live in ``scalar`` (text, numbers, decimals, booleans, dates, choices,
references), containers in ``compound`` (sub-documents, lists, dicts) and what
every field shares in ``base``; see ``docs/models.md`` for each field.
"""
from .base import (  # noqa: F401
    INT64_MAX, INT64_MIN, NOT_PROVIDED, STRING_MAX_LENGTH, TEXT_MAX_LENGTH, UTC, Field,
    copy_field, fill_fields, join_path, nested_error, utcnow,
)
from .compound import (  # noqa: F401
    DICT_MAX_DEPTH, DICT_MAX_SIZE, DictField, EmbeddedField, FieldPath, ListField, SubDocument,
    resolve_path,
)
from .scalar import (  # noqa: F401
    DECIMAL128_DIGITS, BooleanField, ChoiceField, DateField, DateTimeField, DecimalField,
    EmailField, FloatField, IntegerField, ReferenceField, SlugField, StringField, TextField,
    URLField, date_to_bson,
)

__all__ = [
    "Field", "StringField", "TextField", "EmailField", "URLField", "SlugField",
    "IntegerField", "FloatField", "DecimalField", "BooleanField", "DateTimeField",
    "DateField", "ChoiceField", "ReferenceField", "ListField", "DictField",
    "EmbeddedField", "SubDocument", "utcnow",
]
