"""The base of every admin page: ``AdminHandler`` (``ModelRequestHandler`` plus flashes and
templates), the index, and ``ModelHandler`` (a page about one model: columns and cells)."""
import inspect

from markupsafe import Markup

from core.forms import render_field
from core.handlers.base import HTTPError
from core.i18n import gettext
from core.handlers.flash import FLASH_COOKIE, FlashMixin  # noqa: F401  (re-exported)
from core.models.base import parse_id
from core.models import fields as model_fields
from core.models.files import FileField

from .display import Cell, capital, file_cell, format_datetime, format_value, missing_label
from .request import HIDDEN_LABEL, ModelRequestHandler

__all__ = ["AdminHandler", "AdminIndexHandler", "HIDDEN_LABEL", "MAX_SELECTED", "ModelHandler"]

#: how many ticked rows one bulk action or "Export selected" takes
MAX_SELECTED = 1000


class AdminHandler(FlashMixin, ModelRequestHandler):
    """Base of the admin's HTML pages: ``ModelRequestHandler``'s rules, plus flashes (the
    next page's messages, in a signed cookie: ``core.handlers.flash``) and the templates'
    names."""

    template = None

    def compute_etag(self):
        """No ``ETag``: the pages are per user and never stored (``Cache-Control: no-store``),
        so a browser never asks ``If-None-Match``; hashing each page's body was waste."""
        return None

    def get_template_namespace(self):
        namespace = super().get_template_namespace()
        zone = self.time_zone
        namespace.update(render_field=render_field, model_admin=self.model_admin,
                         admin_site=self.site, opts=self.model_admin.opts
                         if self.model_admin else None,
                         format_datetime=lambda value: format_datetime(value, zone))
        return namespace


class AdminIndexHandler(AdminHandler):
    """``/admin/``: the apps and the models the user may read, with add links."""

    template = "admin/index.html"
    #: how many of the user's own audit entries "Recent actions" shows
    recent_actions_limit = 10

    async def recent_actions(self):
        """The user's own last audit entries (``[]`` without the audit app), each
        ``{"action", "model", "label", "url", "at"}``: an object is named only if the
        user may read it now (else ``(hidden)``) and linked only if it still exists."""
        entries_admin = self.site.get("audit.entry") if self.site else None
        user = self.current_user
        if entries_admin is None or user is None:
            return []
        entries = await entries_admin.model.find(
            {"actor_id": user.id}, [("at", -1), ("_id", -1)], limit=self.recent_actions_limit,
            db=self.db).to_list(None)
        readable = {}
        for key in {entry.model_key for entry in entries if entry.model_key}:
            admin = self.site.get(key)
            ids = [parse_id(entry.object_id) for entry in entries
                   if entry.model_key == key and entry.object_id]
            ids = [oid for oid in ids if oid is not None]
            if admin is not None and ids:
                readable[key] = {str(obj.id) for obj in await self.readable_objects(
                    admin.model, {"_id": {"$in": ids}})}
        shown = []
        for entry in entries:
            admin = self.site.get(entry.model_key) if entry.model_key else None
            exists = entry.object_id in readable.get(entry.model_key, ())
            gone = entry.action == "delete" and admin is not None and admin.may(self, "read")
            label = entry.object_label if (exists or gone) else \
                (self.gettext("(hidden)") if entry.object_id else "")
            shown.append({"action": entry.action, "label": label, "at": entry.at,
                          "model": capital(admin.opts.verbose_name) if admin else "",
                          "url": admin.url_prefix + f"{entry.object_id}/" if exists else None})
        return shown

    async def get(self):
        groups = []
        for app, admins in (self.site.readable(self) if self.site else []):
            groups.append({"app": app, "models": [
                {"key": admin.key, "name": capital(admin.opts.verbose_name_plural),
                 "url": admin.url_prefix,
                 "add_url": admin.url_prefix + "add/" if admin.may(self, "write") else None,
                 "actions": [action for action in admin.opts.actions
                             if admin.may(self, action)]}
                for admin in admins]})
        self.render(self.template, groups=groups, recent=await self.recent_actions())


class ModelHandler(AdminHandler):
    """A page about one model (``self.model_admin``)."""

    #: list filters read typed dates in the user's zone (``core.admin.filters.list_zone``)
    shows_local_times = True

    def get_template_namespace(self):
        namespace = super().get_template_namespace()
        label = self.opts.app_label
        apps = self.site.registry.apps if self.site is not None else {}
        namespace.update(model_name=capital(self.opts.verbose_name),
                         model_name_plural=capital(self.opts.verbose_name_plural),
                         list_url=self.model_admin.url_prefix, app_label=label,
                         app_name=apps[label].verbose_name if label in apps else label)
        return namespace

    def selected_ids(self):
        """The ids of the rows ticked on the list (``_selected_action``), in order, without
        repeats; ``[]`` when none is. A 400 for more than ``MAX_SELECTED`` or a bad id."""
        raw_ids = self.get_body_arguments("_selected_action")
        if len(raw_ids) > MAX_SELECTED:
            raise HTTPError(400, self.gettext("Select at most %(count)d items at once.")
                            % {"count": MAX_SELECTED})
        ids = [parse_id(raw) for raw in raw_ids]
        if any(oid is None for oid in ids):
            raise HTTPError(400, self.gettext("The selection holds an id that is not valid."))
        return list(dict.fromkeys(ids))

    async def resolve_references(self, objects, names):
        """``{(name, id): (label, url)}`` for the ``ReferenceField`` columns ``names``.

        One ``$in`` query per reference column, whatever the number of rows.
        """
        found = {}
        for name in names:
            path = self.opts.field_at(name)
            try:
                target = path.field.target
            except LookupError:
                continue
            if "." in name:
                values = [path.value(obj._data) for obj in objects]
            else:                                           # a field of the row itself
                values = [obj._data.get(name) for obj in objects]
            if path.many:
                values = [item for items in values for item in items]
            labels = await self.reference_labels(target, values)
            found.update({(name, oid): shown for oid, shown in labels.items()})
        return found

    def cell(self, obj, name, references=None):
        """The ``Cell`` showing column ``name`` of ``obj`` (a coroutine column is shown by
        ``cell_async``)."""
        empty = getattr(self.model_admin, "empty_value_display", "—")
        field = self.opts.fields.get(name)
        if field is None and "." in name:
            return self.path_cell(obj, name, empty, references)
        if field is not None:
            value = obj._data.get(name)
            if isinstance(field, model_fields.BooleanField):
                return Cell("bool", gettext("Yes") if value else gettext("No"), bool(value))
            if isinstance(field, model_fields.ReferenceField):
                if value is None:
                    return Cell("text", empty)
                label, url = (references or {}).get((name, value), (missing_label(value), None))
                return Cell("link" if url else "text", label, url=url)
            if isinstance(field, FileField):
                return file_cell(self.model_admin, obj, name, value)
            return Cell("text", format_value(field, value, self.time_zone, empty))
        if name == "id":
            return Cell("text", str(obj.id))
        if name == "__str__":
            return Cell("text", self.model_admin.shown_object_label(self, obj))
        return self.value_cell(self.column_value(obj, name))

    def path_field(self, name):
        """The field a dotted column names (``None`` for a method or an unknown path)."""
        if "." not in name:
            return None
        try:
            return self.opts.field_at(name).field
        except KeyError:
            return None

    def path_cell(self, obj, name, empty, references=None):
        """The ``Cell`` of a dotted column (``address.country``: a value inside a
        sub-document; ``lines.sku``: the values of every line, comma-separated;
        ``customer.address.city``: a value of the referenced object, read beforehand by
        ``core.admin.related.column_values`` into ``references[(name, row id)]``)."""
        try:
            path = self.opts.field_at(name)
        except KeyError:
            return Cell("text", (references or {}).get((name, obj.id)) or empty)
        value = path.value(obj._data)
        if isinstance(path.field, model_fields.ReferenceField):
            shown = [(references or {}).get((name, item), (missing_label(item), None))[0]
                     for item in (value if path.many else [value]) if item is not None]
            return Cell("text", ", ".join(shown) or empty)
        if path.many:
            texts = [format_value(path.field, item, self.time_zone, "") for item in value]
            return Cell("text", ", ".join(text for text in texts if text) or empty)
        if isinstance(path.field, model_fields.BooleanField):
            return Cell("bool", "Yes" if value else "No", bool(value))
        return Cell("text", format_value(path.field, value, self.time_zone, empty))

    def column_value(self, obj, name):
        """What a method column returns (maybe a coroutine)."""
        method = getattr(self.model_admin, name, None)
        if callable(method):
            return method(obj)
        value = getattr(obj, name, None)
        return value() if callable(value) else value

    def value_cell(self, value):
        """The ``Cell`` of a method column's value: ``Markup`` as it is, booleans as
        marks, the rest as text."""
        if isinstance(value, Markup):
            return Cell("html", str(value))
        if isinstance(value, bool):
            return Cell("bool", gettext("Yes") if value else gettext("No"), value)
        return Cell("text", format_value(None, value, self.time_zone,
                                         getattr(self.model_admin, "empty_value_display", "—")))

    async def cell_async(self, obj, name, references=None):
        """``cell``, awaiting a column method that is a coroutine function."""
        if name not in self.opts.fields and name not in ("id", "__str__") and "." not in name:
            value = self.column_value(obj, name)
            if inspect.isawaitable(value):
                value = await value
            return self.value_cell(value)
        return self.cell(obj, name, references)

    def column_label(self, name):
        field = self.opts.fields.get(name)
        if field is not None:
            return capital(field.verbose_name)
        if "." in name:
            from ..related import reference_path
            try:
                return capital(reference_path(self.opts, name).verbose_name)
            except KeyError:
                pass
        if name == "__str__":
            return capital(self.opts.verbose_name)
        method = getattr(self.model_admin, name, None) or getattr(self.model, name, None)
        return capital(getattr(method, "short_description", name.replace("_", " ")))
