"""The base of every admin page: ``AdminHandler`` (``ModelRequestHandler`` plus flashes and
templates), the index, and ``ModelHandler`` (a page about one model: columns and cells)."""
from core.forms import render_field
from core.handlers.flash import FLASH_COOKIE, FlashMixin  # noqa: F401  (re-exported)
from core.models import fields as model_fields
from core.models.files import FileField

from .display import Cell, capital, file_cell, format_datetime, format_value
from .request import HIDDEN_LABEL, ModelRequestHandler

__all__ = ["AdminHandler", "AdminIndexHandler", "HIDDEN_LABEL", "ModelHandler"]


class AdminHandler(FlashMixin, ModelRequestHandler):
    """Base of the admin's HTML pages: ``ModelRequestHandler``'s rules, plus flashes (the
    next page's messages, in a signed cookie: ``core.handlers.flash``) and the templates'
    names."""

    template = None

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

    def get(self):
        groups = []
        for app, admins in (self.site.readable(self) if self.site else []):
            groups.append({"app": app, "models": [
                {"key": admin.key, "name": capital(admin.opts.verbose_name_plural),
                 "url": admin.url_prefix,
                 "add_url": admin.url_prefix + "add/" if admin.may(self, "write") else None,
                 "actions": [action for action in admin.opts.actions
                             if admin.may(self, action)]}
                for admin in admins]})
        self.render(self.template, groups=groups)


class ModelHandler(AdminHandler):
    """A page about one model (``self.model_admin``)."""

    def get_template_namespace(self):
        namespace = super().get_template_namespace()
        label = self.opts.app_label
        apps = self.site.registry.apps if self.site is not None else {}
        namespace.update(model_name=capital(self.opts.verbose_name),
                         model_name_plural=capital(self.opts.verbose_name_plural),
                         list_url=self.model_admin.url_prefix, app_label=label,
                         app_name=apps[label].verbose_name if label in apps else label)
        return namespace

    async def resolve_references(self, objects, names):
        """``{(name, id): (label, url)}`` for the ``ReferenceField`` columns ``names``.

        One ``$in`` query per reference column, whatever the number of rows.
        """
        found = {}
        for name in names:
            field = self.opts.fields[name]
            try:
                target = field.target
            except LookupError:
                continue
            labels = await self.reference_labels(target, [obj._data.get(name)
                                                          for obj in objects])
            found.update({(name, oid): shown for oid, shown in labels.items()})
        return found

    def cell(self, obj, name, references=None):
        """The ``Cell`` showing column ``name`` of ``obj``."""
        field = self.opts.fields.get(name)
        if field is not None:
            value = obj._data.get(name)
            if isinstance(field, model_fields.BooleanField):
                return Cell("bool", "Yes" if value else "No", bool(value))
            if isinstance(field, model_fields.ReferenceField):
                if value is None:
                    return Cell("text", "—")
                label, url = (references or {}).get((name, value), (f"{value} (missing)", None))
                return Cell("link" if url else "text", label, url=url)
            if isinstance(field, FileField):
                return file_cell(self.model_admin, obj, name, value)
            return Cell("text", format_value(field, value, self.time_zone))
        if name == "id":
            return Cell("text", str(obj.id))
        if name == "__str__":
            return Cell("text", self.model_admin.object_label(obj))
        method = getattr(self.model_admin, name, None)
        if callable(method):
            value = method(obj)
        else:
            value = getattr(obj, name, None)
            value = value() if callable(value) else value
        if isinstance(value, bool):
            return Cell("bool", "Yes" if value else "No", value)
        return Cell("text", format_value(None, value, self.time_zone))

    def column_label(self, name):
        field = self.opts.fields.get(name)
        if field is not None:
            return capital(field.verbose_name)
        if name == "__str__":
            return capital(self.opts.verbose_name)
        method = getattr(self.model_admin, name, None) or getattr(self.model, name, None)
        return capital(getattr(method, "short_description", name.replace("_", " ")))
