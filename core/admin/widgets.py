"""Form widgets the generated forms do not make: a permission matrix, checkbox lists, and
the fieldsets of sub-documents and lists of sub-documents.

``PermissionMatrixField`` edits a permissions dict (docs/permissions.md) as a table of
checkboxes: one row per installed model, grouped by app, with a checkbox for
each action *that model* declares (``read``, ``write``, ``delete`` and its extra
actions, e.g. ``publish``), from ``core.permissions.model_actions``::

    from core.admin.widgets import PermissionMatrixField

    class RoleForm(wtforms.Form):
        permissions = PermissionMatrixField("Permissions", registry=handler.registry,
                                            grantable=handler.permissions)

Each checkbox posts ``<model key>:<action>`` under the field's name. Scoped,
expiring and field entries (``write:own``, ``write@2026-12-31T18:00Z``,
``-read:notes``: docs/permissions.md) are listed under the table, each a checked box
to untick, and one text box adds an entry, ``blog.article:write:own``. Every
posted value is checked with ``core.permissions.validate_grant`` (``scopes``: the
scope names each model's admin declares): an unknown model, action, scope or field,
or anything that is not one ``key:entry`` text is a field error, never a 500, and
the field's data is left as it was. Grants the form cannot show are kept as they
were: those on models that are not installed (now) and actions a model no longer
declares.

``grantable`` (a ``core.permissions.Permissions``, or ``None`` for everything)
says which cells the person filling the form may change; the others are shown
disabled and keep their stored value (a disabled checkbox posts nothing).
Whether a grant is *allowed* is decided where the object is saved; the locks
only keep an honest form from asking for what will be refused.

``CheckboxListField`` is a multi-select as a list of labelled checkboxes (the
roles of a user); ``locked`` choices are disabled and keep their stored state.
In both, a locked value posted anyway is *not* dropped silently: it reaches
the save, whose check refuses it with a field error.

``SubDocumentField`` edits a sub-document inline as a fieldset of its inputs
(``address-city``); ``SubDocumentListField`` edits a list of them as rows, each
with a "Remove" box, and an "Add another" submit (``_add_row=<field name>``) that
brings the page back with one more empty row — no JavaScript needed.

All of them draw their own label and errors (``draws_itself = True``): ``core.forms.
render_field``, the one every template uses, asks them to.
"""
import datetime
from collections.abc import Mapping

import wtforms
from markupsafe import Markup, escape

from core.i18n import gettext
from core.forms import render_field
from core.models.options import DEFAULT_ACTIONS
from core.permissions import (GRANT, MODEL_KEY_RE, NESTED_FIELD_RE, GrantError, model_actions,
                              parse_entry, validate_grant)

__all__ = ["CheckboxListField", "PermissionMatrixField", "SubDocumentField",
           "SubDocumentListField", "matrix_groups", "ADD_ROW", "MOVE_ROW", "REMOVE_ROW",
           "ROW_ORIGIN"]

#: the submit button's name that adds a row to a list of sub-documents (its value: the field)
ADD_ROW = "_add_row"
#: a row's "Move up" / "Move down" submit (its value: ``"<row name>:up"``, ``lines-2:down``)
MOVE_ROW = "_move_row"
#: per row of a list of sub-documents: the "Remove" box and the stored position it came from
REMOVE_ROW, ROW_ORIGIN = "REMOVE", "ORIGIN"

#: actions with a column of their own; a model's other actions share the last column
MATRIX_COLUMNS = tuple(DEFAULT_ACTIONS)
MAX_POSTED_VALUES = 5000
MAX_VALUE_LENGTH = 200


def _title(text):
    text = str(text)
    return text[:1].upper() + text[1:]


def _html_id(*parts):
    return "_".join(str(part).replace(".", "_") for part in parts)


def matrix_groups(registry):
    """``[{"label", "app", "models": [{"key", "label", "actions"}]}]`` in app order.

    ``registry`` is a ``core.registry.Registry`` (apps in ``INSTALLED_APPS``
    order, models labelled with their verbose names) or a mapping ``{model key:
    Model class or actions}`` (grouped by the key's app label, sorted).
    """
    known = model_actions(registry)
    apps = getattr(registry, "apps", None)
    groups = {}
    order = list(apps) if isinstance(apps, Mapping) else []
    for key in known:
        label = key.split(".", 1)[0]
        if label not in order:
            order.append(label)
    models = getattr(registry, "models", registry)
    for key, actions in (known.items() if apps is not None else sorted(known.items())):
        app_label = key.split(".", 1)[0]
        model = models.get(key) if isinstance(models, Mapping) else None
        meta = getattr(model, "_meta", None)
        name = _title(meta.verbose_name) if meta is not None else key.split(".", 1)[1]
        groups.setdefault(app_label, []).append(
            {"key": key, "label": name, "actions": tuple(actions)})
    out = []
    for app_label in order:
        if app_label not in groups:
            continue
        app = apps.get(app_label) if isinstance(apps, Mapping) else None
        out.append({"app": app_label,
                    "label": getattr(app, "verbose_name", None) or _title(app_label),
                    "models": groups[app_label]})
    return out


def fieldset_start(field, css_class, kwargs):
    """``(field_id, html lines)`` opening a widget's fieldset: legend, help, errors.

    The help text and errors are tied to the fieldset with ``aria-describedby``.
    """
    field_id = kwargs.get("id") or f"id_{field.name}"
    described = [f"{field_id}_help"] if field.description else []
    if field.errors:
        described.append(f"{field_id}_errors")
    attrs = f' aria-describedby="{" ".join(described)}"' if described else ""
    html = [f'<fieldset class="field {css_class}{" has-errors" if field.errors else ""}" '
            f'id="{escape(field_id)}"{attrs}>',
            f'<legend>{escape(field.label.text)}</legend>']
    if field.description:
        html.append(f'<p class="help" id="{field_id}_help">{escape(field.description)}</p>')
    if field.errors:
        html.append(f'<ul class="errorlist" id="{field_id}_errors">')
        html += [f"<li>{escape(str(error))}</li>" for error in field.errors]
        html.append("</ul>")
    return field_id, html


class PermissionMatrixField(wtforms.Field):
    """A permissions dict edited as models × actions checkboxes (see the module doc)."""

    draws_itself = True

    def __init__(self, label=None, validators=None, *, registry=None, grantable=None,
                 scopes=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.registry = registry
        self.scopes = scopes or {}
        self.models = model_actions(registry)
        self.groups = matrix_groups(registry)
        self.grantable = grantable
        self.bad_values = []

    # -- what may be changed --------------------------------------------------------------
    def may_change(self, key, action):
        """May the person filling the form tick or untick this cell (or entry)?"""
        if self.grantable is None:
            return True
        if action.startswith("-"):         # a restriction: removing it may widen a grant
            return not self.grantable.lacks({key: [a for a in (self.data or {}).get(key, ())
                                                   if not a.startswith("-")]})
        return not self.grantable.lacks({key: [action]})

    def _shown(self, key, entry):
        """Does the form draw ``entry`` (a checkbox in the table or in the entry list)?"""
        try:
            return parse_entry(entry).action in self.models.get(key, ())
        except ValueError:
            return False

    def _kept(self):
        """Stored grants this form cannot change: unshown ones and locked cells."""
        kept = {}
        for key, actions in (self.object_data or {}).items():
            for action in actions:
                if not self._shown(key, action) or not self.may_change(key, action):
                    kept.setdefault(key, set()).add(action)
        return kept

    def hidden_grants(self):
        """Stored grants the matrix has no checkbox for: ``{key: [actions]}``."""
        out = {}
        for key, actions in (self.object_data or {}).items():
            extra = [a for a in actions if not self._shown(key, a)]
            if extra:
                out[key] = extra
        return out

    def entries(self):
        """``[(key, entry)]`` of the data the table has no cell for: scoped, expiring and
        field entries on installed models (drawn as a list of checked boxes)."""
        out = []
        for key, actions in sorted((self.data or {}).items()):
            for action in actions:
                if self._shown(key, action) and action not in self.models.get(key, ()):
                    out.append((key, action))
        return out

    # -- data ---------------------------------------------------------------------------------
    def process_data(self, value):
        self.data = {key: sorted(actions) for key, actions in dict(value or {}).items()
                     if isinstance(actions, (list, tuple, set, frozenset))}

    def process_formdata(self, valuelist):
        self.bad_values = []
        granted = {}
        if len(valuelist) > MAX_POSTED_VALUES:
            self.bad_values.append(f"Too many values ({len(valuelist)}).")
            valuelist = []
        for raw in valuelist:
            text = raw.strip() if isinstance(raw, str) else None
            if text == "":
                continue                       # the empty "add a grant" box
            key, _, action = (text or "").partition(":")
            key = key.lower()
            try:
                entry_ok = bool(parse_entry(action))
            except ValueError as exc:
                entry_ok = False
                if NESTED_FIELD_RE.match(action.strip().lower()):   # say why, not just "no"
                    self.bad_values.append(f"{str(exc)[:200]}.")
                    continue
            if text is None or len(text) > MAX_VALUE_LENGTH or not MODEL_KEY_RE.match(key) \
                    or not entry_ok:
                shown = repr(raw)[:60]
                self.bad_values.append(f"{shown} is not a permission "
                                       "(expected 'app_label.model_name:action', e.g. "
                                       "'blog.article:write:own').")
                continue
            try:
                key, actions = validate_grant(
                    self.registry if self.registry is not None else self.models, key,
                    [action], scopes=self.scopes)
            except GrantError as exc:
                self.bad_values.append(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
                continue
            granted.setdefault(key, set()).update(actions)
        if self.bad_values:
            self.data = dict(self.object_data or {})        # nothing changes
            return
        for key, actions in self._kept().items():
            granted.setdefault(key, set()).update(actions)
        self.data = {key: sorted(actions) for key, actions in sorted(granted.items())
                     if actions}

    def pre_validate(self, form):
        if self.bad_values:
            self.errors.extend(self.bad_values)
        if self.data is not None and not isinstance(self.data, dict):
            raise wtforms.validators.StopValidation("Permissions must be a dict.")

    def _value(self):
        return ""

    # -- drawing ------------------------------------------------------------------------------
    def is_checked(self, key, action):
        return action in (self.data or {}).get(key, ())

    def __call__(self, **kwargs):
        return self.render_table(**kwargs)

    def render_table(self, **kwargs):
        """The ``<table>``: a row header per model, a column header per action."""
        field_id = kwargs.get("id") or f"id_{self.name}"
        html = [f'<table class="permission-matrix" id="{escape(field_id)}_table">',
                f'<caption class="visually-hidden">{escape(self.label.text)}: models and '
                'actions</caption>',
                '<thead><tr><th scope="col">Model</th>']
        html += [f'<th scope="col">{escape(_title(action))}</th>' for action in MATRIX_COLUMNS]
        html.append('<th scope="col">Other actions</th></tr></thead>')
        for group in self.groups:
            html.append(f'<tbody data-app="{escape(group["app"])}">'
                        f'<tr class="matrix-app"><th scope="rowgroup" '
                        f'colspan="{len(MATRIX_COLUMNS) + 2}">{escape(group["label"])}</th></tr>')
            for model in group["models"]:
                key = model["key"]
                row_id = _html_id(field_id, key)
                html.append(f'<tr data-model="{escape(key)}"><th scope="row" id="{row_id}">'
                            f'{escape(model["label"])} <code>{escape(key)}</code></th>')
                for action in MATRIX_COLUMNS:
                    if action in model["actions"]:
                        html.append(f'<td>{self._checkbox(field_id, model, action)}</td>')
                    else:
                        html.append('<td class="matrix-none"><span aria-hidden="true">—</span>'
                                    '<span class="visually-hidden">not an action of this '
                                    'model</span></td>')
                extras = [a for a in model["actions"] if a not in MATRIX_COLUMNS]
                html.append('<td class="matrix-extra">')
                for action in extras:
                    html.append(f'<span class="matrix-extra-action">'
                                f'{self._checkbox(field_id, model, action, visible=True)}'
                                '</span>')
                html.append('</td></tr>')
            html.append('</tbody>')
        html.append('</table>')
        return Markup("".join(html))

    def _checkbox(self, field_id, model, action, visible=False):
        key = model["key"]
        box_id = _html_id(field_id, key, action)
        attrs = [f'type="checkbox" name="{escape(self.name)}" value="{escape(key)}:'
                 f'{escape(action)}" id="{box_id}"']
        if self.is_checked(key, action):
            attrs.append("checked")
        if not self.may_change(key, action):
            attrs.append('disabled title="You do not hold this permission"')
        label = f"{_title(action)} {model['label']} ({key})"
        label_class = "matrix-action-label" if visible else "visually-hidden"
        text = escape(_title(action)) if visible else escape(label)
        return Markup(f'<input {" ".join(attrs)}><label for="{box_id}" class="{label_class}"'
                      + (f' aria-label="{escape(label)}"' if visible else "")
                      + f'>{text}</label>')

    def render_entries(self, field_id):
        """The scoped, expiring and field entries (checked boxes) and the "add" text box."""
        html = []
        entries = self.entries()
        if entries:
            html.append(f'<ul class="matrix-entries" id="{field_id}_entries">')
            for number, (key, entry) in enumerate(entries):
                box_id = f"{field_id}_entry_{number}"
                parsed = parse_entry(entry)
                expired = parsed.kind == GRANT and not parsed.active(
                    datetime.datetime.now(datetime.timezone.utc))
                attrs = [f'type="checkbox" name="{escape(self.name)}" '
                         f'value="{escape(key)}:{escape(entry)}" id="{box_id}" checked']
                if not self.may_change(key, entry):
                    attrs.append('disabled title="You do not hold this permission"')
                html.append(f'<li><input {" ".join(attrs)}><label for="{box_id}">'
                            f'<code>{escape(key)}: {escape(entry)}</code>'
                            f'{" (expired)" if expired else ""}</label></li>')
            html.append("</ul>")
        html.append(f'<p class="matrix-add"><label for="{field_id}_add">Add a scoped, '
                    'expiring or field grant</label> <input type="text" '
                    f'name="{escape(self.name)}" id="{field_id}_add" value="" '
                    f'maxlength="{MAX_VALUE_LENGTH}" aria-describedby="{field_id}_add_help">'
                    f'<span class="help" id="{field_id}_add_help"> e.g. '
                    '<code>blog.article:write:own</code>, '
                    '<code>blog.article:write@2026-12-31T18:00Z</code>, '
                    '<code>blog.article:-read:body</code></span></p>')
        return "".join(html)

    def render_block(self, **kwargs):
        """The whole field: a fieldset with legend, help, errors and the table."""
        field_id, html = fieldset_start(self, "matrix-field", kwargs)
        html.append(str(self.render_table(id=field_id)))
        html.append(self.render_entries(field_id))
        hidden = self.hidden_grants()
        if hidden:
            kept = "; ".join(f"{key}: {', '.join(actions)}" for key, actions in hidden.items())
            html.append(f'<p class="help matrix-kept">Kept as they are (no such model or '
                        f'action installed now): {escape(kept)}</p>')
        html.append("</fieldset>")
        return Markup("".join(html))


class CheckboxListField(wtforms.SelectMultipleField):
    """A multi-select drawn as a list of labelled checkboxes.

    ``locked`` holds values the person filling the form may not change: they are
    drawn disabled and keep their stored state when nothing is posted for them
    (a value posted anyway is kept in the data, for the save to refuse).
    """

    draws_itself = True

    def __init__(self, label=None, validators=None, *, locked=(), **kwargs):
        kwargs.setdefault("coerce", str)
        super().__init__(label, validators, **kwargs)
        self.locked = set(locked)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is None:
            return
        stored = list(self.object_data or ())
        # a locked value keeps its stored state when not posted (disabled boxes post
        # nothing); one posted anyway stays in the data, for the save to refuse
        self.data = list(self.data) + [value for value in stored
                                       if value in self.locked and value not in self.data]

    def render_block(self, **kwargs):
        field_id, html = fieldset_start(self, "checkbox-list", kwargs)
        choices = list(self.iter_choices())
        if not choices:
            html.append('<p class="help">None to choose from yet.</p>')
        html.append('<ul class="checkbox-choices">')
        for position, choice in enumerate(choices):
            if hasattr(choice, "value"):
                value, label, selected = choice.value, choice.label, choice.selected
            else:                                   # pragma: no cover - older wtforms
                value, label, selected = choice[0], choice[1], choice[2]
            box_id = f"{field_id}_{position}"
            extra = " checked" if selected else ""
            if value in self.locked:
                extra += ' disabled title="It grants permissions you do not hold"'
            html.append(f'<li><input type="checkbox" name="{escape(self.name)}" '
                        f'value="{escape(value)}" id="{box_id}"{extra}>'
                        f'<label for="{box_id}">{escape(label)}</label></li>')
        html.append("</ul></fieldset>")
        return Markup("".join(html))


def _fieldset_open(field, css_class, kwargs):
    """Like ``fieldset_start`` for a container: its own messages are ``own_errors`` (its
    parts carry theirs)."""
    field_id = kwargs.get("id") or f"id_{field.name}"
    errors = getattr(field, "own_errors", [])
    described = [f"{field_id}_help"] if field.description else []
    if errors:
        described.append(f"{field_id}_errors")
    attrs = f' aria-describedby="{" ".join(described)}"' if described else ""
    html = [f'<fieldset class="field {css_class}{" has-errors" if errors else ""}" '
            f'id="{escape(field_id)}"{attrs}>', f"<legend>{escape(field.label.text)}</legend>"]
    if field.description:
        html.append(f'<p class="help" id="{field_id}_help">{escape(field.description)}</p>')
    if errors:
        html.append(f'<ul class="errorlist" id="{field_id}_errors">')
        html += [f"<li>{escape(str(error))}</li>" for error in errors]
        html.append("</ul>")
    return field_id, html


class SubDocumentField(wtforms.FormField):
    """A sub-document edited inline: a fieldset with one input per sub-field.

    ``own_errors`` holds what the model says about the sub-document as a whole."""

    draws_itself = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.own_errors = []

    def render_block(self, **kwargs):
        _field_id, html = _fieldset_open(self, "subdocument", kwargs)
        for sub in self.form:
            html.append(str(sub()) if sub.short_name == ROW_ORIGIN else render_field(sub))
        html.append("</fieldset>")
        return Markup("".join(html))


class SubDocumentListField(wtforms.FieldList):
    """A list of sub-documents edited as rows (``lines-0-sku``...), each in its own fieldset
    with a "Remove" box and "Move up" / "Move down" buttons; "Add another" posts
    ``_add_row`` and a move ``_move_row``, and the page comes back with a new empty row or
    the two rows swapped (nothing is saved). ``static/rows.js`` does the same at once in
    the page (``data-rows`` names the list, ``data-row`` each row's input prefix).
    ``own_errors`` holds what the model says about the list."""

    draws_itself = True

    def __init__(self, unbound_field, label=None, validators=None, *, item_label="item",
                 **kwargs):
        super().__init__(unbound_field, label, validators, **kwargs)
        self.item_label = item_label
        self.own_errors = []

    def render_block(self, **kwargs):
        field_id, html = _fieldset_open(self, "subdocument-list", kwargs)
        capital_label = f"{self.item_label[:1].upper()}{self.item_label[1:]}"
        html[0] = html[0].replace("<fieldset ", f'<fieldset data-rows="{escape(self.name)}" '
                                  f'data-item-label="{escape(capital_label)}" ', 1)
        if not self.entries:
            html.append('<p class="help">None yet.</p>')
        last = len(self.entries) - 1
        for position, entry in enumerate(self.entries):
            entry.label.text = f"{capital_label} {position + 1}"
            html.append(f'<div class="subdocument-row" id="{escape(field_id)}_{position}" '
                        f'data-row="{escape(entry.name)}">')
            html.append(str(entry.render_block(id=f"{field_id}_{position}_row")))
            html.append('<p class="row-moves">')
            for way, text, shown in (("up", gettext("Move up"), position > 0),
                                     ("down", gettext("Move down"), position < last)):
                html.append(f'<button type="submit" name="{MOVE_ROW}" '
                            f'value="{escape(entry.name)}:{way}" class="btn-secondary '
                            f'move-row" data-move="{way}"{"" if shown else " disabled"}>'
                            f'{text}</button>')
            html.append("</p></div>")
        html.append(f'<button type="submit" name="{ADD_ROW}" value="{escape(self.name)}" '
                    f'class="btn-secondary add-row">Add another {escape(self.item_label)}'
                    '</button>')
        html.append("</fieldset>")
        return Markup("".join(html))
