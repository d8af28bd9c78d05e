"""Pages about one object: ``ObjectHandler`` (loading it under every rule, its links)
and the detail page."""
from core.models import fields as model_fields

from .base import ModelHandler
from .request import ObjectLoading
from .display import is_hidden

__all__ = ["DetailHandler", "ObjectHandler", "defaults_at", "nested_paths", "without_paths"]


def nested_paths(names):
    """``{field: [path below it]}`` for the dotted ``names`` (``["address.street"]`` →
    ``{"address": ["street"]}``); plain names are left out."""
    found = {}
    for name in names:
        head, dot, rest = name.partition(".")
        if dot:
            found.setdefault(head, []).append(rest)
    return found


def defaults_at(value, paths):
    """A copy of ``value`` (a sub-document, or a list of them) with the parts ``paths``
    name set to their fields' defaults, as a new sub-document would hold them."""
    if isinstance(value, list):
        return [defaults_at(item, paths) for item in value]
    if not isinstance(value, model_fields.SubDocument):
        return value
    copy, fresh = type(value).from_bson(value.to_bson()), type(value)()
    for path in paths:
        head, _, rest = path.partition(".")
        copy._data[head] = defaults_at(copy._data.get(head), [rest]) if rest else \
            fresh._data.get(head)
    return copy


def without_paths(value, paths):
    """A copy of ``value`` (a sub-document, or a list of them) with the parts the dotted
    ``paths`` name (relative to it: ``street``, ``inner.code``) blanked; ``value`` itself
    is left alone."""
    if isinstance(value, list):
        return [without_paths(item, paths) for item in value]
    if not isinstance(value, model_fields.SubDocument):
        return value
    copy = type(value).from_bson(value.to_bson())
    for path in paths:
        head, _, rest = path.partition(".")
        copy._data[head] = without_paths(copy._data.get(head), [rest]) if rest else None
    return copy


def without_excluded_parts(model_admin, obj):
    """``obj`` as pages and exports show it: a copy without the sub-document parts a
    dotted ``exclude`` names (``address.street``), or ``obj`` itself when there are
    none."""
    nested = nested_paths(model_admin.exclude)
    if not nested:
        return obj
    shown = type(obj).__new__(type(obj))
    shown.__dict__.update(obj.__dict__)
    shown._data = dict(obj._data)
    for head, paths in nested.items():
        shown._data[head] = without_paths(obj._data.get(head), paths)
    return shown


class ObjectHandler(ObjectLoading, ModelHandler):
    """A page about one object: ``self.object`` is loaded from the URL's id."""

    def saved_message(self, obj, verb):
        """The flash after a save or a delete: names the object only for a user who may read it."""
        names = {"name": self.opts.verbose_name}
        if self.may_read(obj):
            names["object"] = self.shown_label(obj)
            return {"added": self.gettext("The %(name)s “%(object)s” was added."),
                    "changed": self.gettext("The %(name)s “%(object)s” was changed."),
                    "deleted": self.gettext("The %(name)s “%(object)s” was deleted.")}[verb] % names
        return {"added": self.gettext("The %(name)s was added."),
                "changed": self.gettext("The %(name)s was changed."),
                "deleted": self.gettext("The %(name)s was deleted.")}[verb] % names

    def object_links(self, obj):
        """The pages about ``obj`` the user may open: ``{name: url}``."""
        admin = self.model_admin
        links = {"detail": admin.object_url(obj)} if admin.may(self, "read", obj) else {}
        if "detail" in links and admin.may(self, "write", obj):     # change needs read too
            links["change"] = admin.object_url(obj, "change/")
        if admin.may(self, "delete", obj):
            links["delete"] = admin.object_url(obj, "delete/")
        if self.site is not None and self.site.object_page(admin, "history") is not None \
                and admin.may(self, "read", obj):
            links["history"] = admin.object_url(obj, "history/")
        if "detail" in links:
            site_url = admin.get_view_on_site_url(obj)
            if site_url:
                links["site"] = site_url
        return links

    def get_template_namespace(self):
        namespace = super().get_template_namespace()
        if self.object is not None:
            namespace.update(obj=self.object, object_label=self.shown_label(self.object))
        return namespace


class DetailHandler(ObjectHandler):
    """``/admin/<app>/<model>/<id>/``: every shown field; references link to their pages."""

    action = "read"
    template = "admin/detail.html"

    def field_names(self, obj):
        """The rows: ``get_fields`` (a field it leaves out is not shown here either)."""
        admin = self.model_admin
        names = [n for n in admin.get_fields(self, obj) if n in self.opts.fields]
        return [n for n in admin.visible(self, names)
                if n not in admin.exclude and not is_hidden(self.opts.fields[n])]

    def without_excluded_parts(self, obj):
        """``obj`` as the page shows it (``without_excluded_parts``)."""
        return without_excluded_parts(self.model_admin, obj)

    async def get_context(self, obj):
        """What the template shows, computed once: ``rows`` (label, ``Cell``; references
        labelled and linked as the user may see them) and ``links``. A subclass adds
        to it (``context = await super().get_context(obj)``) instead of copying it."""
        names = self.field_names(obj)
        obj = self.without_excluded_parts(obj)
        references = await self.resolve_references(
            [obj], [n for n in names if isinstance(self.opts.fields[n],
                                                   model_fields.ReferenceField)])
        rows = [(self.column_label(name), self.cell(obj, name, references)) for name in names]
        return {"rows": rows, "links": self.object_links(obj)}

    async def get(self, object_id):
        obj = await self.get_object(object_id)
        self.render(self.template, **await self.get_context(obj))
