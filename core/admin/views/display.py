"""How values look on admin pages: ``Cell``s, formatted values, hidden fields, and
``format_html`` for columns that return markup."""
import datetime
import html

from markupsafe import Markup, escape

from core import i18n, timezones
from core.models import fields as model_fields
from core.models.files import StoredFile

__all__ = ["Cell", "Markup", "capital", "file_cell", "format_datetime", "format_html",
           "format_size", "format_value", "is_hidden", "moment_formatter"]

EMPTY = "—"


def format_html(template, *args, **kwargs):
    """``template`` (trusted markup) with every argument escaped: a column method may
    return ``format_html('<a href="{}">{}</a>', url, name)`` and the page shows the
    link, while the name's ``<`` stays text. Returns ``Markup`` (shown as it is)."""
    return Markup(template).format(*[escape(a) for a in args],
                                   **{k: escape(v) for k, v in kwargs.items()})


def format_datetime(value, zone=None):
    """A moment as the page shows it: in ``zone`` (the user's; UTC by default), named,
    in the request's language (``core.i18n.format_datetime``)."""
    return i18n.format_datetime(value, zone=zone or timezones.get_zone("UTC"))


def moment_formatter(zone=None):
    """``format(moment)``: ``format_datetime(moment, zone)`` in the active language, with
    the language's choices made once (``core.i18n.datetime_formatter``)."""
    return i18n.datetime_formatter(zone=zone or timezones.get_zone("UTC"))


def format_value(field, value, zone=None, empty=EMPTY):
    """Plain text for a stored value (references and booleans are handled by the caller);
    datetimes in ``zone``; ``empty`` for nothing (``ModelAdmin.empty_value_display``)."""
    if value is None or value == "":
        return empty
    if field is not None and getattr(field, "choices", None) is not None \
            and not isinstance(field, model_fields.ListField):
        return field.display(value)
    if isinstance(value, datetime.datetime):
        return format_datetime(value, zone)
    if isinstance(value, (list, tuple)):
        if isinstance(field, model_fields.ListField):     # "a, b", or "3 lines"
            return field.display(value) or empty
        return ", ".join(str(item) for item in value) or empty
    if field is not None and type(field).display is not model_fields.Field.display:
        return field.display(value)
    return str(value)


def missing_label(value):
    """How a reference to ``value``, an object that no longer exists, is shown:
    ``"<id> (missing)"`` in the request's language."""
    return i18n.gettext("%(id)s (missing)") % {"id": value}


def is_hidden(field):
    """Fields generic pages never show (password hashes)."""
    return bool(getattr(field, "hidden", False))


class Cell:
    """One value on a page: ``kind`` is ``"text"``, ``"bool"``, ``"link"``, ``"html"``
    (``Markup`` from ``format_html``) or, in an editable list, ``"input"``,
    ``"checkbox"``, ``"select"``."""

    __slots__ = ("kind", "text", "value", "url")

    def __init__(self, kind="text", text="", value=None, url=None):
        self.kind, self.text, self.value, self.url = kind, text, value, url

    def html(self):
        """The cell as markup (``admin/cell.html`` and the list's rows write this): the
        text escaped once, as a template's ``{{ }}`` escapes it."""
        kind = self.kind
        if kind == "text" or (kind == "link" and not self.url):
            return _escape(self.text)
        if kind == "link":
            return f'<a href="{_escape(self.url)}">{_escape(self.text)}</a>'
        if kind == "bool":
            return (f'<span class="bool bool-{"yes" if self.value else "no"}" '
                    f'aria-hidden="true">{"✓" if self.value else "✗"}</span>'
                    f'<span class="visually-hidden">{_escape(self.text)}</span>')
        if kind == "html":
            return str(self.text)
        if kind not in ("input", "checkbox", "select"):
            return _escape(self.text)
        name = _escape(self.url)                  # "<id>-<column>"
        label = _escape(str(self.url).split("-", 1)[1])
        if kind == "input":
            limit = f' maxlength="{_escape(self.value)}"' if self.value else ""
            return (f'<input type="text" class="list-input" name="{name}" '
                    f'value="{_escape(self.text)}"{limit} aria-label="{label}">')
        if kind == "checkbox":
            return (f'<input type="checkbox" class="list-input" name="{name}" value="1"'
                    f'{" checked" if self.value else ""} aria-label="{label}">')
        options = "".join(
            f'<option value="{_escape(value)}"{" selected" if chosen else ""}>'
            f'{_escape(text)}</option>' for value, text, chosen in self.value)
        return f'<select class="list-input" name="{name}" aria-label="{label}">' \
               f'{options}</select>'


def _escape(value):
    """``value`` as text, escaped as Tornado's templates escape ``{{ value }}``
    (``xhtml_escape`` is ``html.escape`` of the text)."""
    return html.escape(value if isinstance(value, str) else str(value))


#: ``"48 kB"``-style text for a byte count, in the active language (exported name)
format_size = i18n.format_byte_size


def file_cell(model_admin, obj, name, value):
    """A file's name and size, linked to its download page (``FileDownloadHandler``)."""
    if not isinstance(value, StoredFile):
        return Cell("text", "—")
    return Cell("link", f"{value.name} ({i18n.format_byte_size(value.size)})",
                url=model_admin.object_url(obj, f"file/{name}/"))


def capital(text):
    text = str(text)
    return text[:1].upper() + text[1:]
