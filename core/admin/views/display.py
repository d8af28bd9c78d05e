"""How values look on admin pages: ``Cell``s, formatted values, hidden fields."""
import datetime

from core.models import fields as model_fields

__all__ = ["Cell", "capital", "format_datetime", "format_value", "is_hidden"]


def format_datetime(value):
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def format_value(field, value):
    """Plain text for a stored value (references and booleans are handled by the caller)."""
    if value is None or value == "":
        return "—"
    if field is not None and getattr(field, "choices", None) is not None \
            and not isinstance(field, model_fields.ListField):
        return field.display(value)
    if isinstance(value, datetime.datetime):
        return format_datetime(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value) or "—"
    if field is not None and type(field).display is not model_fields.Field.display:
        return field.display(value)
    return str(value)


def is_hidden(field):
    """Fields generic pages never show (password hashes)."""
    return bool(getattr(field, "hidden", False))


class Cell:
    """One value on a page: ``kind`` is ``"text"``, ``"bool"`` or ``"link"``."""

    __slots__ = ("kind", "text", "value", "url")

    def __init__(self, kind="text", text="", value=None, url=None):
        self.kind, self.text, self.value, self.url = kind, text, value, url


def capital(text):
    text = str(text)
    return text[:1].upper() + text[1:]
