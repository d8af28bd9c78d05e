"""Form plumbing shared by every page with a form (login, admin, accounts).

* ``FormData`` — Tornado's request arguments as the ``getlist`` mapping WTForms reads;
* ``render_field`` — the one way a field becomes HTML (label, input, help, errors,
  linked for screen readers; self-drawing widgets draw themselves);
* ``add_error`` — an error on a field, or on the form;
* ``Form`` — the base of Bastion's forms: WTForms' own messages ("Not a valid
  integer value.") in the request's language (``FormTranslations``).

Labels, help texts and messages given to validators are marked with
``core.i18n.gettext_lazy``: they translate when the page is rendered.

It needs WTForms, Tornado's escaping, ``core.i18n`` and the model errors'
``NON_FIELD_ERRORS``, no more.
"""
import wtforms
import wtforms.i18n
from tornado import escape
from wtforms.meta import DefaultMeta

from core import i18n
from core.models.errors import NON_FIELD_ERRORS

__all__ = ["Form", "FormData", "PostedData", "FormTranslations", "add_error", "render_field"]


class FormTranslations:
    """What WTForms asks to translate its built-in messages: Bastion's catalogs first,
    then the catalog WTForms ships for the active language (``core.i18n.activate``)."""

    def _wtforms(self, code):
        try:
            return wtforms.i18n.get_translations([code.replace("-", "_")])
        except OSError:                       # WTForms ships no catalog for it
            return wtforms.i18n.DummyTranslations()

    def gettext(self, message):
        locale = i18n.get_locale()
        text = locale.translate(message)
        return text if text != message else self._wtforms(locale.code).gettext(message)

    def ngettext(self, singular, plural, count):
        locale = i18n.get_locale()
        text = locale.translate(singular, plural, count)
        if text not in (singular, plural):
            return text
        return self._wtforms(locale.code).ngettext(singular, plural, count)


class TranslatedMeta(DefaultMeta):
    """WTForms ``Meta`` whose translations follow the request's language."""

    def get_translations(self, form):
        return FormTranslations()


class Form(wtforms.Form):
    """The base of Bastion's forms (``wtforms.Form`` with ``TranslatedMeta``)."""

    Meta = TranslatedMeta


class PostedData:
    """Posted form data as WTForms reads it (``getlist``), from a ``{name: [values]}``."""

    def __init__(self, data):
        self._data = data

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def __contains__(self, name):
        return name in self._data

    def getlist(self, name):
        return list(self._data.get(name, []))


class FormData(PostedData):
    """Tornado's request arguments with the ``getlist`` WTForms reads.

    POST forms read the body only (``?username=`` in the URL is ignored);
    values are decoded as UTF-8 (a bad byte is a 400) and not stripped. Files of a
    multipart body are listed under their input's name as Tornado's ``HTTPFile``s.
    """

    def __init__(self, handler, body_only=True):
        source = handler.request.body_arguments if body_only else handler.request.arguments
        data = {name: [handler.decode_argument(v, name=name) for v in values]
                for name, values in source.items()}
        for name, files in handler.request.files.items():
            data[name] = data.get(name, []) + list(files)
        super().__init__(data)


def render_field(field, **attrs):
    """A form field as HTML: label, input and its errors, linked for screen readers.

    A field that draws its own label and errors (``draws_itself = True``: the
    permission matrix, the checkbox list) renders its ``render_block`` instead."""
    if getattr(field, "draws_itself", False):
        return str(field.render_block(**attrs))
    field_id = f"id_{field.name}"
    attrs.setdefault("id", field_id)
    if field.flags.required:
        attrs.setdefault("required", True)
    described = []
    if field.description:
        described.append(f"{field_id}_help")
    if field.errors:
        attrs["aria_invalid"] = "true"
        described.append(f"{field_id}_errors")
    if described:
        attrs["aria_describedby"] = " ".join(described)
    html = [f'<div class="field{" has-errors" if field.errors else ""}">',
            f'<label for="{escape.xhtml_escape(attrs["id"])}">'
            f'{escape.xhtml_escape(str(field.label.text))}</label>',
            str(field(**attrs))]
    if field.description:
        html.append(f'<p class="help" id="{field_id}_help">'
                    f'{escape.xhtml_escape(str(field.description))}</p>')
    if field.errors:
        html.append(f'<ul class="errorlist" id="{field_id}_errors">')
        html.extend(f"<li>{escape.xhtml_escape(str(e))}</li>" for e in field.errors)
        html.append("</ul>")
    html.append("</div>")
    return "".join(html)


def add_error(form, name, message):
    """Attach ``message`` to field ``name`` (or to the form, for ``"__all__"``)."""
    field = getattr(form, name, None) if name != NON_FIELD_ERRORS else None
    if field is None or not isinstance(field, wtforms.Field):
        form.form_errors.append(message)
        return
    if isinstance(field.errors, tuple):
        field.errors = list(field.errors)
    field.errors.append(message)
