"""WTForms forms generated from a model, for the admin's add and change pages.

``model_form(Model, field_names, readonly)`` returns a ``wtforms.Form`` class
with one input per editable field (read-only ones are left out: the page shows
them as text and the request can never write them)::

    StringField   → StringField with Length(max/min)
    TextField     → TextAreaField
    EmailField    → EmailField
    IntegerField / FloatField → IntegerField / FloatField with NumberRange
    BooleanField  → BooleanField
    DateTimeField → DateTimeLocalField, in the user's time zone (``show_times_in``,
                    ``read_times_in``)
    ChoiceField (or choices=) → SelectField
    ReferenceField → SelectField; choices loaded by ``load_reference_choices``
                     (up to ``REFERENCE_CHOICES_LIMIT`` readable objects, labelled);
                     in ``raw_id_fields`` / ``autocomplete_fields`` a
                     ``ReferenceIdField`` instead: an input of the id with a "look
                     up" link and the current label (``static/bastion.js`` turns an
                     autocomplete one into search-as-you-type)
    ListField     → one comma-separated text input
    FileField / ImageField → ``UploadField`` (current file, "clear", upload)
    DateField     → DateField (a date input; never shifted by a time zone)
    DecimalField  → a text input (``inputmode=decimal``), parsed exactly by the model
    EmbeddedField → ``SubDocumentField``: the sub-document's inputs in a fieldset
                    (``address-city``), nested as deep as declared
    ListField of sub-documents → ``SubDocumentListField``: one fieldset per row, each with
                    a "Remove" box, and an "Add another" submit (works without JavaScript)
    DictField     → a JSON text area (errors name the line and column)
    other fields  → a text area holding ``field.display(value)``, parsed back by
                    the model field (e.g. a permissions dict)

A model error on a nested path (``lines.2.quantity``) is shown next to that input
(``add_model_errors``); a row the user left blank is ignored, and the values of a
sub-document the form does not edit (undeclared keys, non-editable fields) are kept.

``readonly`` and ``exclude`` may name dotted paths through sub-documents and lists of
them (``address.country``, ``lines.unit_price``): a read-only part is shown as text in
its fieldset (in every row; ``ReadOnlyValueField``) and an excluded one is left out;
neither is ever read from the request, so a save keeps the stored value (a row by its
``ORIGIN``) and a new sub-document or row gets the field's default.

A model field may supply its own WTForms field with a ``formfield(**kwargs)``
method. Fields marked ``hidden`` (password hashes) never appear.

The form only shapes input; the model's ``clean()`` has the last word and its
``ValidationError`` is shown next to the fields (``add_model_errors``).
"""
import datetime

import wtforms
from bson import ObjectId
from wtforms import validators

from core import i18n, timezones
from core.forms import Form, PostedData
from core.i18n import gettext
from core.i18n import gettext_lazy as _l
from core.models import fields as model_fields
from core.models.files import FileField
from core.models.errors import NON_FIELD_ERRORS

from .uploads import UploadField
from .views.display import missing_label
from .widgets import (
    ADD_ROW, MOVE_ROW, REMOVE_ROW, ROW_ORIGIN, SubDocumentField, SubDocumentListField,
)

try:                                   # wtforms >= 3.3 wants SelectChoice objects
    from wtforms.fields.choices import SelectChoice as _SelectChoice

    def choice(value, label):
        return _SelectChoice(value=value, label=label)
except ImportError:                     # pragma: no cover - older wtforms
    def choice(value, label):
        return (value, label)

REFERENCE_CHOICES_LIMIT = 500
BLANK_CHOICE = choice("", "---------")

__all__ = ["ModelForm", "ReferenceIdField", "model_form", "load_reference_choices",
           "add_model_errors", "form_values", "add_row", "subdocument_form",
           "REFERENCE_CHOICES_LIMIT", "ADD_ROW", "MOVE_ROW", "moved_row_data",
           "find_row_list", "ReadOnlyValueField"]


def _text(value):
    return "" if value is None else str(value)


class CommaSeparatedField(wtforms.StringField):
    """A list of strings edited as ``"a, b, c"``; the model field splits it."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if isinstance(self.data, (list, tuple)):
            return ", ".join(str(item) for item in self.data)
        return _text(self.data)


class DisplayTextField(wtforms.TextAreaField):
    """Any other model field: edited as the text of ``display`` and parsed by the model."""

    def __init__(self, *args, model_field=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.model_field = model_field

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if isinstance(self.data, str):
            return self.data
        return self.model_field.display(self.data) if self.model_field else _text(self.data)


class ReferenceIdInput:
    """The widget of ``ReferenceIdField``: the id input, the label of the object it names
    (as the user may see it) and a "look up" link to the target's list."""

    def __call__(self, field, **kwargs):
        from markupsafe import Markup, escape
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("type", "text")
        kwargs["class"] = (kwargs.get("class", "") + " reference-id").strip()
        kwargs.setdefault("size", 26)
        kwargs.setdefault("inputmode", "latin")
        kwargs.setdefault("autocomplete", "off")
        if field.autocomplete_url:
            kwargs["data-autocomplete-url"] = field.autocomplete_url
        kwargs["value"] = field._value()
        params = wtforms.widgets.html_params(name=field.name, **kwargs)
        html = [f'<span class="reference-picker"><input {params}>']
        if field.lookup_url:
            html.append(f' <a class="lookup" href="{escape(field.lookup_url)}" target="_blank" '
                        f'rel="noopener">Look up</a>')
        html.append(f' <span class="reference-label" id="{escape(kwargs["id"])}_label">'
                    f'{escape(field.current_label or "")}</span></span>')
        return Markup("".join(html))


class ReferenceIdField(wtforms.StringField):
    """A reference edited as the referenced object's id (``raw_id_fields``), or picked by
    searching (``autocomplete_fields``: ``autocomplete_url`` is set). The handler fills
    ``lookup_url`` and ``current_label`` (``load_reference_choices``); the model field
    and ``check_references`` decide whether the id names an object the user may read."""

    widget = ReferenceIdInput()

    def __init__(self, *args, autocomplete=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.autocomplete = autocomplete
        self.autocomplete_url = self.lookup_url = self.current_label = None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return _text(self.data)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = (self.data or "").strip()


def _yes_no(value):
    return gettext("Yes") if value else gettext("No")


class ReadOnlyValueField(wtforms.Field):
    """A read-only part of a sub-document (``readonly_fields = ["address.country"]``): its
    value as text where the input would be, never read from the request. ``ModelForm``
    fills it from the stored sub-document (a row by its ``ORIGIN``), else the default
    (``data-default``: what ``static/rows.js`` shows in a row it adds)."""

    draws_itself = True

    def __init__(self, *args, model_field=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.model_field = model_field

    #: the text shown instead of ``display(data)`` (a reference's label, set by
    #: ``load_reference_choices`` as the user may see it)
    shown = None

    def process_formdata(self, valuelist):
        """A posted value is ignored: the stored one stays."""

    def render_block(self, **kwargs):
        from markupsafe import Markup, escape
        display = _yes_no if isinstance(self.model_field, model_fields.BooleanField) else \
            self.model_field.display if self.model_field else _text
        default = display(self.model_field.get_default()) if self.model_field else ""
        return Markup(f'<div class="field readonly" id="id_{escape(self.name)}">'
                      f'<span class="label">{escape(str(self.label.text))}</span>'
                      f'<div class="readonly-value" data-default="{escape(default)}">'
                      f'{escape(self.shown if self.shown is not None else display(self.data))}'
                      '</div></div>')


class ModelForm(Form):
    """Base of generated forms; ``model``, ``field_names`` and ``readonly`` are class data."""

    model = None
    field_names = ()
    readonly = ()

    def __init__(self, formdata=None, obj=None, **kwargs):
        super().__init__(formdata, obj=obj, **kwargs)
        if formdata is None:                # rows drawn from the stored list remember where
            for field in self:              # they came from (kept values survive a save)
                _mark_origins(field)
        for name in self.field_names:       # read-only parts show what is stored, by ORIGIN
            _show_stored(self[name], obj._data.get(name) if obj is not None else None,
                         known=obj is not None)

    @property
    def has_files(self):
        """Whether the form uploads files (the page then posts multipart)."""
        return any(isinstance(self[name], UploadField) for name in self.field_names)

    @property
    def reference_fields(self):
        return [name for name in self.field_names
                if name in self._fields and isinstance(self.model._meta.fields.get(name),
                                                       model_fields.ReferenceField)]


def _label(field):
    text = field.verbose_name
    return text[:1].upper() + text[1:]


def _mark_origins(field):
    if isinstance(field, SubDocumentListField):
        for position, entry in enumerate(field.entries):
            entry.form[ROW_ORIGIN].data = str(position)
            _mark_origins(entry)
    elif isinstance(field, SubDocumentField):
        for sub in field.form:
            _mark_origins(sub)


def _show_stored(field, current, known):
    """Set each ``ReadOnlyValueField`` under ``field`` to its stored value in ``current``
    (a row's by its ``ORIGIN``); a part not stored (``known`` false: a new sub-document or
    row) shows the model field's default."""
    if isinstance(field, SubDocumentListField):
        stored = current if isinstance(current, list) else []
        for entry in field.entries:
            origin = entry.form[ROW_ORIGIN].data or ""
            index = int(origin) if origin.isascii() and origin.isdigit() else None
            found = index is not None and index < len(stored)
            _show_stored(entry, stored[index] if found else None, found)
    elif isinstance(field, SubDocumentField):
        known = known and isinstance(current, model_fields.SubDocument)
        for sub in field.form:
            value = current._data.get(sub.short_name) if known else None
            if isinstance(sub, ReadOnlyValueField):
                sub.data = value if known else sub.model_field.get_default()
            else:
                _show_stored(sub, value, known)


def _under(paths, name):
    """The parts of the dotted ``paths`` below ``name``: ``["country"]`` for
    ``["address.country"]`` under ``address``."""
    return [path[len(name) + 1:] for path in paths if path.startswith(name + ".")]


def subdocument_form(document, row=False, readonly=(), exclude=()):
    """A ``wtforms.Form`` class for a ``SubDocument``'s editable fields; a ``row`` of a list
    also gets the "Remove" box and the hidden stored position. ``readonly`` parts (paths
    relative to the sub-document) are shown as text, ``exclude`` ones left out."""
    attrs = {}
    for name, field in document._fields.items():
        if not field.editable or getattr(field, "hidden", False) or name in exclude:
            continue
        if name in readonly:
            attrs[name] = ReadOnlyValueField(_label(field), model_field=field,
                                             default=field.get_default)
            continue
        form_field = formfield_for(field, nested=True, readonly=_under(readonly, name),
                                   exclude=_under(exclude, name))
        if form_field is not None:
            attrs[name] = form_field
    if row:
        attrs[REMOVE_ROW] = wtforms.BooleanField("Remove")
        attrs[ROW_ORIGIN] = wtforms.HiddenField()
    return type(f"{document.__name__}Form", (Form,), attrs)


def _document_formfield(field, kwargs, readonly=(), exclude=()):
    """The form field of a sub-document or a list of them (``None``: not one)."""
    if isinstance(field, model_fields.EmbeddedField):
        return SubDocumentField(subdocument_form(field.document, readonly=readonly,
                                                 exclude=exclude), **kwargs)
    if isinstance(field, model_fields.ListField) and isinstance(
            field.item_field, model_fields.EmbeddedField):
        document = field.item_field.document
        return SubDocumentListField(SubDocumentField(subdocument_form(
            document, row=True, readonly=readonly, exclude=exclude)),
                                    item_label=document.verbose_name, min_entries=1,
                                    **kwargs)
    return None


def formfield_for(field, nested=False, readonly=(), exclude=()):
    """The WTForms field for one model field (``None``: leave it out).

    Inside a sub-document (``nested``) ``required`` is left to the model, which names
    the input by its path, so a blank row can be ignored and a removed one not checked.
    ``readonly`` / ``exclude``: paths inside a sub-document field (``["country"]``).
    """
    custom = getattr(field, "formfield", None)
    if callable(custom):
        return custom(label=_label(field), description=field.help_text or "")
    kwargs = {"label": _label(field), "description": field.help_text or ""}
    document_field = _document_formfield(field, kwargs, readonly, exclude)
    if document_field is not None:
        return document_field
    if isinstance(field, model_fields.ListField) and isinstance(
            field.item_field, (model_fields.ListField, model_fields.DictField)):
        return None                      # lists of lists or dicts: kept as they are
    checks = []
    if field.required and not nested and not isinstance(field, model_fields.BooleanField):
        checks.append(validators.InputRequired(_l("This field is required.")))
    else:
        checks.append(validators.Optional())
    if isinstance(field, model_fields.BooleanField):
        return wtforms.BooleanField(**kwargs)
    if isinstance(field, FileField):
        return UploadField(content_types=field.content_types, required=field.required,
                           **kwargs)
    if isinstance(field, model_fields.ReferenceField):
        return wtforms.SelectField(validators=checks, coerce=_text, choices=[BLANK_CHOICE],
                                   validate_choice=False, **kwargs)
    if field.choices is not None and not isinstance(field, model_fields.ListField):
        choices = [choice(str(value), str(label)) for value, label in field.choices]
        if not field.required:
            choices.insert(0, BLANK_CHOICE)
        return wtforms.SelectField(validators=checks, coerce=_text, choices=choices, **kwargs)
    if isinstance(field, model_fields.ListField):
        return CommaSeparatedField(validators=checks, **kwargs)
    if isinstance(field, model_fields.StringField):
        if field.max_length is not None or field.min_length is not None:
            checks.append(validators.Length(min=field.min_length or -1,
                                            max=field.max_length or -1))
        if isinstance(field, model_fields.EmailField):
            return wtforms.EmailField(validators=checks, **kwargs)
        if isinstance(field, model_fields.TextField):
            return wtforms.TextAreaField(validators=checks, **kwargs)
        return wtforms.StringField(validators=checks, **kwargs)
    if isinstance(field, (model_fields.IntegerField, model_fields.FloatField)):
        if field.min_value is not None or field.max_value is not None:
            checks.append(validators.NumberRange(min=field.min_value, max=field.max_value))
        klass = wtforms.IntegerField if isinstance(field, model_fields.IntegerField) \
            else wtforms.FloatField
        return klass(validators=checks, **kwargs)
    if isinstance(field, model_fields.DateField):
        return wtforms.DateField(validators=checks, format="%Y-%m-%d", **kwargs)
    if isinstance(field, model_fields.DecimalField):
        return wtforms.StringField(validators=checks, render_kw={"inputmode": "decimal"},
                                   **kwargs)
    if isinstance(field, model_fields.DateTimeField):
        return wtforms.DateTimeLocalField(validators=checks,
                                          format=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"],
                                          **kwargs)
    return DisplayTextField(validators=checks, model_field=field, **kwargs)


def model_form(model, field_names=None, readonly=(), raw_id_fields=(),
               autocomplete_fields=(), exclude=()):
    """A ``ModelForm`` subclass for ``model`` with ``field_names`` minus ``readonly``;
    references named in ``raw_id_fields`` / ``autocomplete_fields`` get a
    ``ReferenceIdField``. Dotted ``readonly`` / ``exclude`` paths reach into
    sub-documents (``address.country``, ``lines.unit_price``)."""
    meta = model._meta
    names = list(field_names) if field_names is not None else [
        name for name, field in meta.fields.items() if field.editable]
    attrs = {"model": model, "field_names": [], "readonly": []}
    for name in names:
        field = meta.fields.get(name)
        if field is None or getattr(field, "hidden", False):
            continue
        if name in readonly or not field.editable:
            attrs["readonly"].append(name)
            continue
        if isinstance(field, model_fields.ReferenceField) and \
                (name in raw_id_fields or name in autocomplete_fields):
            form_field = ReferenceIdField(
                _label(field), description=field.help_text or "",
                autocomplete=name in autocomplete_fields, validators=[
                    validators.InputRequired(_l("This field is required.")) if field.required
                    else validators.Optional()])
        else:
            form_field = formfield_for(field, readonly=_under(readonly, name),
                                       exclude=_under(exclude, name))
        if form_field is not None:
            attrs[name] = form_field
            attrs["field_names"].append(name)
    return type(f"{model.__name__}Form", (ModelForm,), attrs)


async def load_reference_choices(form, lookup, limit=REFERENCE_CHOICES_LIMIT):
    """Fill each reference select with up to ``limit`` objects the user may read.

    ``lookup`` answers for the user (the admin handler): ``readable_objects(model,
    limit=)`` and ``reference_labels(model, ids)``. The current value stays selected
    whatever it is: a readable object beyond the limit by its label, one the user may
    not read as ``(hidden)``, and a dangling one (its object was deleted) as such, with
    a message on the field, so a save never re-points it silently.
    """
    meta = form.model._meta
    await _label_readonly_references(form, lookup)
    for name in getattr(form, "reference_fields", ()):
        target = meta.fields[name].target
        if isinstance(form[name], ReferenceIdField):
            await _describe_reference_id(form[name], target, lookup)
            continue
        objects = await lookup.readable_objects(target, limit=limit)
        choices = [choice(str(obj.id), lookup.label_for(obj)) for obj in objects]
        current = form[name].data
        if current and current not in {str(obj.id) for obj in objects}:
            oid = ObjectId(current) if ObjectId.is_valid(current) else None
            labels = await lookup.reference_labels(target, [oid]) if oid else {}
            missing = missing_label(current)
            label, _url = labels.get(oid, (missing, None))
            choices.append(choice(current, label))
            if label == missing:
                _append_error(form[name], gettext(
                    "The %(model)s this refers to no longer exists; choose another or keep "
                    "it as it is.") % {"model": target._meta.verbose_name})
        blank = [] if meta.fields[name].required and current else [BLANK_CHOICE]
        form[name].choices = blank + choices


def _nested_fields(form, kind):
    """The fields of ``form`` that are ``kind`` (a class or tuple), those inside
    sub-documents and every row of their lists included."""
    found = []

    def walk(field):
        if isinstance(field, kind):
            found.append(field)
        elif isinstance(field, SubDocumentListField):
            for entry in field.entries:
                walk(entry)
        elif isinstance(field, SubDocumentField):
            for sub in field.form:
                walk(sub)

    for name in getattr(form, "field_names", ()):
        walk(form[name])
    return found


def _readonly_parts(form):
    """The ``ReadOnlyValueField`` s of ``form``, in sub-documents and every row."""
    return _nested_fields(form, ReadOnlyValueField)


async def _label_readonly_references(form, lookup):
    """Show each read-only nested reference by its label as the user may see it (never
    the label of an object they may not read), one query per target model."""
    by_target = {}
    for field in _readonly_parts(form):
        if isinstance(field.model_field, model_fields.ReferenceField):
            by_target.setdefault(field.model_field.target, []).append(field)
    for target, parts in by_target.items():
        labels = await lookup.reference_labels(target, [part.data for part in parts])
        for part in parts:
            if part.data is not None:
                part.shown = labels.get(part.data, (missing_label(part.data), None))[0]


async def _describe_reference_id(field, target, lookup):
    """Fill a ``ReferenceIdField``'s label (as the user may see it) and its links (only
    for a target model the user may read)."""
    target_admin = lookup.admin_for(target)
    if target_admin is not None and target_admin.may(lookup, "read"):
        field.lookup_url = target_admin.url_prefix
        if field.autocomplete:
            field.autocomplete_url = target_admin.url_prefix + "autocomplete/"
    current = field.data
    oid = ObjectId(current) if isinstance(current, str) and len(current) == 24 and \
        ObjectId.is_valid(current) else current if isinstance(current, ObjectId) else None
    if oid is not None:
        field.current_label = (await lookup.reference_labels(target, [oid])).get(
            oid, (None, None))[0]


async def check_references(form, lookup, stored=None):
    """Add an error to each reference select whose id names no object the user may read;
    True if all are fine. A value equal to the stored one (``stored``: ``{name: id}``)
    is kept as it is, even dangling or unreadable: only the user's changes are checked."""
    ok = True
    meta = form.model._meta
    for name in getattr(form, "reference_fields", ()):
        value = form[name].data
        if not value:
            continue
        previous = (stored or {}).get(name)
        if previous is not None and str(previous) == value:
            continue
        found = []
        if len(value) == 24 and ObjectId.is_valid(value):
            found = await lookup.readable_objects(meta.fields[name].target,
                                                  {"_id": ObjectId(value)}, limit=1)
        if not found:
            _append_error(form[name], "Select a valid choice; that object does not exist.")
            ok = False
    return ok


def _time_inputs(form):
    """The date-and-time inputs of ``form``, those inside sub-documents and their rows
    included (a ``DateField``'s date input is no time: never shifted)."""
    return _nested_fields(form, wtforms.DateTimeLocalField)


def show_times_in(form, zone, initial):
    """Name ``zone`` under each date-and-time input; with ``initial`` (the form shows the
    object, not a post), turn the stored UTC values into local times for the inputs. A
    read-only nested moment is shown in ``zone`` too."""
    for part in _readonly_parts(form):
        if isinstance(part.data, datetime.datetime):
            part.shown = i18n.format_datetime(part.data, zone=zone)
    for field in _time_inputs(form):
        note = gettext("Time zone: %(zone)s.") % {"zone": zone.key}
        if note not in str(field.description):
            field.description = f"{field.description} {note}".strip()
        if initial and isinstance(field.data, datetime.datetime):
            field.data = timezones.local_input(field.data, zone)


def read_times_in(form, zone):
    """After ``validate``: the local times the user typed → aware UTC; a time ``zone``
    skips (daylight saving) is an error on its input. True when every time is fine."""
    ok = True
    for field in _time_inputs(form):
        if isinstance(field.data, datetime.datetime) and field.data.tzinfo is None:
            try:
                field.data = timezones.from_local_input(field.data, zone)
            except timezones.NonexistentTime as exc:
                _append_error(field, str(exc))
                ok = False
    return ok


def form_values(form, obj=None):
    """``{model field name: input value}`` for every editable input of ``form``.

    ``obj`` (the stored object) lets a sub-document keep what the form does not edit.
    """
    values = {}
    for name in getattr(form, "field_names", ()):
        current = obj._data.get(name) if obj is not None else None
        values[name] = _input_value(form[name], current)
    return values


def _blank(value):
    return value is None or value is False or value in ("", [], {})


def _input_value(field, current):
    """What ``field`` holds, as the model field takes it (``current``: the stored value)."""
    if isinstance(field, SubDocumentField):
        parts = {sub.short_name: _input_value(sub, getattr(current, sub.short_name, None))
                 for sub in field.form if sub.short_name not in (REMOVE_ROW, ROW_ORIGIN)
                 and not isinstance(sub, ReadOnlyValueField)}
        if isinstance(current, model_fields.SubDocument):
            kept = type(current).from_bson(current.to_bson())    # undeclared keys included
            kept._data.update(parts)
            return kept
        return None if all(_blank(value) for value in parts.values()) else parts
    if isinstance(field, SubDocumentListField):
        items, field.row_positions = [], []
        stored = current if isinstance(current, list) else []
        for position, entry in enumerate(field.entries):
            if entry.form[REMOVE_ROW].data:
                continue
            origin = entry.form[ROW_ORIGIN].data or ""
            index = int(origin) if origin.isdigit() else None
            before = stored[index] if index is not None and index < len(stored) else None
            value = _input_value(entry, before)
            if value is None:               # a blank new row is ignored
                continue
            items.append(value)
            field.row_positions.append(position)
        return items
    data = field.data
    if isinstance(data, datetime.datetime) and data.tzinfo is None:
        data = data.replace(tzinfo=datetime.timezone.utc)
    return data


def add_row(form, name):
    """Add an empty row to the list of sub-documents ``name``; False if there is none."""
    field = form._fields.get(name) if isinstance(name, str) else None
    if not isinstance(field, SubDocumentListField):
        return False
    model_field = form.model._meta.fields.get(name)
    limit = getattr(model_field, "max_items", None)
    if limit is not None and len(field.entries) >= limit:
        field.own_errors.append(i18n.ngettext("At most %(count)s row.", "At most %(count)s rows.",
                                              limit) % {"count": i18n.format_decimal(limit)})
        return True
    field.append_entry()
    return True


def find_row_list(form, name):
    """The ``SubDocumentListField`` of ``form`` called ``name`` (``lines``, or a list
    inside a sub-document: ``stop-parts``), or ``None``."""
    def walk(field):
        if isinstance(field, SubDocumentListField):
            if field.name == name:
                return field
            return next((found for entry in field.entries
                         for found in [walk(entry)] if found is not None), None)
        if isinstance(field, SubDocumentField):
            return next((found for sub in field.form for found in [walk(sub)]
                         if found is not None), None)
        return None
    return next((found for sub in form for found in [walk(sub)] if found is not None), None)


def moved_row_data(form, formdata, value):
    """``formdata`` with the row ``value`` names (``"lines-2:up"``) swapped with the one
    above or below it: every input under ``lines-2-`` trades names with ``lines-1-``
    (its stored ``ORIGIN`` goes with it: the row keeps the stored keys the form does not
    edit).
    ``None`` when ``form`` has no such row; the same data for a move past an end."""
    row, _, way = (value or "").rpartition(":")
    list_name, _, index = row.rpartition("-")
    field = find_row_list(form, list_name) if way in ("up", "down") else None
    if field is None or not (index.isascii() and index.isdigit()) or \
            int(index) >= len(field.entries):
        return None
    index = int(index)
    other = index - 1 if way == "up" else index + 1
    if not 0 <= other < len(field.entries):
        return formdata
    mine, theirs = f"{list_name}-{index}-", f"{list_name}-{other}-"
    renamed = {}
    for name in formdata:
        new = theirs + name[len(mine):] if name.startswith(mine) else \
            mine + name[len(theirs):] if name.startswith(theirs) else name
        renamed[new] = formdata.getlist(name)
    return PostedData(renamed)


def _append_error(field, message):
    if isinstance(field.errors, tuple):
        field.errors = list(field.errors)
    field.errors.append(message)


def add_model_errors(form, errors):
    """Show a model ``ValidationError.errors`` dict next to the fields (else on the form);
    a dotted path (``lines.2.quantity``) finds its nested input."""
    for name, message in errors.items():
        head, *rest = name.split(".") if name != NON_FIELD_ERRORS else [name]
        if head != NON_FIELD_ERRORS and head in getattr(form, "_fields", {}):
            _attach_error(form[head], rest, message)
        else:
            form.form_errors.append(message if name == NON_FIELD_ERRORS
                                    else f"{name}: {message}")


def _attach_error(field, path, message):
    """Put ``message`` on the input at ``path`` under ``field`` (or as near as it gets)."""
    if path and isinstance(field, SubDocumentField) and path[0] in field.form._fields:
        return _attach_error(field.form[path[0]], path[1:], message)
    if path and isinstance(field, SubDocumentListField) and path[0].isdigit():
        positions = getattr(field, "row_positions", None) or range(len(field.entries))
        index = int(path[0])
        if index < len(positions):
            return _attach_error(field.entries[positions[index]], path[1:], message)
    if path:
        where = f"Item {int(path[0]) + 1}" if path[0].isdigit() else ".".join(path)
        message = f"{where}: {message}"
    if hasattr(field, "own_errors"):
        field.own_errors.append(message)
    else:
        _append_error(field, message)
