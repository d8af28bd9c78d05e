"""The admin's generic handlers: index, list, detail, add, change, delete.

Each handler serves one page for one model (the route gives it the model's
``ModelAdmin`` as ``self.model_admin``) and declares the permission ``action``
it needs. ``AdminHandler.prepare`` enforces, before any database work:

1. a logged-in user (else a redirect to the login page, or 401 for JSON);
2. ``model_admin.may(self, self.required_action())`` (else the 403 page).

Handlers that work on one object then load it (a malformed or unknown id is a
404) and check the object rule with ``may(self, action, obj)`` (else 403).

Every write goes through ``ModelAdmin.save_model`` / ``delete_model`` and is
recorded with ``self.audit(...)``. Messages for the next page ("flashes") travel
in a signed cookie (``flash`` / ``get_flashes``).

Swap one page for one model with a subclass::

    class ArticleList(ListHandler):
        def get_queryset_filter(self):           # any small hook below
            ...

    class ArticleAdmin(ModelAdmin):
        list_handler = ArticleList
"""
import datetime
import json
import logging

from bson import ObjectId

from core.audit import diff as audit_diff
from core.audit import snapshot as audit_snapshot
from core.auth.handlers import FormData, render_field
from core.handlers.base import BaseHandler, HTTPError
from core.models import fields as model_fields
from core.models.base import parse_id
from core.models.errors import StaleObjectError, ValidationError
from core.permissions import PermissionDenied

from . import pagination
from .changelist import BadListArguments
from .forms import add_model_errors, check_references, form_values, load_reference_choices

log = logging.getLogger("bastion.admin")

FLASH_COOKIE = "bastion_flash"
MAX_SELECTED = 1000
FILTER_CHOICES_LIMIT = 100
REFERENCES_SHOWN = 5
#: how an object the user may not read is named anywhere (seeing is reading)
HIDDEN_LABEL = "(hidden)"
MAX_VERSION_DIGITS = 18

__all__ = [
    "AdminHandler", "AdminIndexHandler", "CreateHandler", "DeleteHandler", "DetailHandler",
    "ListHandler", "ModelHandler", "ObjectHandler", "UpdateHandler",
    "format_value",
]


# -- presentation helpers ------------------------------------------------------------------------
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


# -- the base ------------------------------------------------------------------------------------
class AdminHandler(BaseHandler):
    """Base of the admin pages: login, the permission check, flashes, audit, rendering."""

    login_required = True
    #: the permission action this page needs on the model
    action = "read"
    #: the page also shows the object, so it needs ``read`` besides ``action``
    needs_read = False
    template = None

    def initialize(self, model_admin=None, site=None):
        self.model_admin = model_admin
        self.site = site if site is not None else getattr(model_admin, "site", None)
        self._flashes = None

    def set_default_headers(self):
        super().set_default_headers()
        self.set_header("Cache-Control", "no-store")      # per-user pages

    # -- permission -------------------------------------------------------------------------
    def required_action(self):
        """The action ``prepare`` checks on the model (``self.action`` by default)."""
        return self.action

    def required_actions(self):
        """Every action the page needs: ``required_action()``, and ``read`` too when the
        page shows the object (``needs_read``: seeing is reading)."""
        needed = self.required_action()
        if needed is None:
            return []
        return ["read", needed] if self.needs_read and needed != "read" else [needed]

    async def prepare(self):
        """Called before the method: the user, then the model permission; no database work."""
        await super().prepare()
        if self._finished or self.current_user is None:
            return
        if self.model_admin is not None:
            for needed in self.required_actions():
                if not self.model_admin.may(self, needed):
                    raise HTTPError(403, f"You may not {needed} "
                                         f"{self.opts.verbose_name_plural}.")

    def deny(self, action, obj=None):
        """403 for ``action``; the message names the kind of object, never the object."""
        what = f"this {self.opts.verbose_name}" if obj is not None else \
            self.opts.verbose_name_plural
        raise HTTPError(403, f"You may not {action} {what}.")

    @property
    def opts(self):
        return self.model_admin.opts

    @property
    def model(self):
        return self.model_admin.model

    # -- flashes ----------------------------------------------------------------------------
    def flash(self, text, level="success"):
        """Show ``text`` on the next page this browser renders (a signed cookie)."""
        pending = self.get_flashes(clear=False) + [[level, str(text)[:1000]]]
        self._flashes = pending[-5:]
        self.set_signed_cookie(FLASH_COOKIE, json.dumps(self._flashes), expires_days=None,
                               path="/")

    def get_flashes(self, clear=True):
        """The pending ``[(level, text), ...]``; ``clear`` removes them (once shown)."""
        if self._flashes is None:
            raw = self.get_signed_cookie(FLASH_COOKIE, max_age_days=1)
            try:
                data = json.loads(raw) if raw else []
            except ValueError:
                data = []
            self._flashes = [[str(level), str(text)] for level, text in
                             (item for item in data if isinstance(item, list) and len(item) == 2)]
        flashes = list(self._flashes)
        if clear and flashes:
            self._flashes = []
            self.clear_cookie(FLASH_COOKIE, path="/")
        return flashes

    # -- audit ------------------------------------------------------------------------------
    async def audit(self, action, obj=None, changes=None, model_admin=None, **extra):
        """Record one entry in the audit log (``core.audit.record_request``).

        The single place admin writes are recorded; a failure to record is
        logged, never shown as an error for a write that already happened.
        """
        from core.audit import record_request      # core.audit registers its own admin
        admin = model_admin or self.model_admin
        try:
            return await record_request(self, action, model_key=admin.key if admin else None,
                                        obj=obj, changes=changes, **extra)
        except Exception:
            log.exception("could not record %s of %s in the audit log", action,
                          getattr(obj, "id", None))
            return None

    def audited(self, action, obj, model_admin=None, **extra):
        """``async with self.audited("update", obj) as entry:`` around a write: the object's
        write and its audit entry succeed or fail together (``core.audit.audited``); set
        ``entry.changes`` inside the block once the write is done."""
        from core.audit import audited
        return audited(self, action, obj=obj, model_admin=model_admin or self.model_admin,
                       **extra)

    def snapshot(self, obj):
        """``obj``'s fields for ``diff``, secrets masked (``core.audit.snapshot``: the one
        redaction policy, shared with the API, the commands and the audit log)."""
        return audit_snapshot(obj)

    @staticmethod
    def diff(before, after):
        """``{field: {"before": old, "after": new}}`` for the fields that changed; a secret
        shows that it changed, never its values (``core.audit.diff``)."""
        return audit_diff(before, after)

    # -- rendering --------------------------------------------------------------------------
    def get_template_namespace(self):
        namespace = super().get_template_namespace()
        namespace.update(render_field=render_field, model_admin=self.model_admin,
                         admin_site=self.site, opts=self.model_admin.opts
                         if self.model_admin else None, format_datetime=format_datetime)
        return namespace

    def admin_for(self, model):
        """The site's ``ModelAdmin`` for ``model`` (a class), or ``None``."""
        if self.site is None or model is None:
            return None
        return self.site.get(model._meta.key)

    def label_for(self, obj):
        admin = self.admin_for(type(obj))
        return admin.object_label(obj) if admin is not None else str(obj)

    def detail_url_for(self, obj):
        """The detail page of ``obj`` if the user may read it, else ``None``."""
        admin = self.admin_for(type(obj))
        if admin is None or not admin.may(self, "read", obj):
            return None
        return admin.object_url(obj)

    # -- seeing is reading --------------------------------------------------------------------
    def may_read(self, obj):
        """May the user read ``obj``: its model's grant and its admin's object rule?

        Row scope (``get_base_filter``) is the query's part: objects reach pages
        through scoped queries, or through ``readable_objects``.
        """
        admin = self.admin_for(type(obj))
        return admin is not None and admin.may(self, "read", obj)

    def shown_label(self, obj):
        """``obj``'s label, or ``HIDDEN_LABEL`` when the user may not read it."""
        return self.label_for(obj) if self.may_read(obj) else HIDDEN_LABEL

    async def readable_objects(self, model, flt=None, limit=0):
        """Objects of ``model`` matching ``flt`` that the user may read: the model's grant,
        its admin's row scope and its object rule (``[]`` without ``read``)."""
        admin = self.admin_for(model)
        if admin is None or not admin.may(self, "read"):
            return []
        base = admin.get_base_filter(self) or {}
        query = {"$and": [base, flt]} if base and flt else (base or flt or {})
        found = await model.find(query, limit=limit, db=self.db).to_list(None)
        return [obj for obj in found if admin.may(self, "read", obj)]

    async def reference_labels(self, model, ids):
        """``{id: (label, url)}`` for references to objects of ``model``: a readable
        object's label and page, ``HIDDEN_LABEL`` for one the user may not read, and
        ``"<id> (missing)"`` for one that no longer exists (a dangling reference)."""
        ids = list(dict.fromkeys(i for i in ids if isinstance(i, ObjectId)))
        if not ids:
            return {}
        labels = {obj.id: (self.label_for(obj), self.detail_url_for(obj))
                  for obj in await self.readable_objects(model, {"_id": {"$in": ids}})}
        rest = [i for i in ids if i not in labels]
        if rest:
            present = {obj.id for obj in await model.find(
                {"_id": {"$in": rest}}, db=self.db).to_list(None)}
            for oid in rest:
                labels[oid] = (HIDDEN_LABEL, None) if oid in present else \
                    (f"{oid} (missing)", None)
        return labels

    def base_filter(self):
        return self.model_admin.get_base_filter(self) or {}

    def scoped(self, flt):
        """``flt`` narrowed by the admin's base filter (row-level scoping)."""
        base = self.base_filter()
        if not base:
            return flt
        if not flt:
            return dict(base)
        return {"$and": [base, flt]}


class AdminIndexHandler(AdminHandler):
    """``/admin/``: the apps and the models the user may read, with add links."""

    template = "admin/index.html"

    def get(self):
        groups = []
        for app, admins in (self.site.readable(self) if self.site else []):
            groups.append({"app": app, "models": [
                {"key": admin.key, "name": _capital(admin.opts.verbose_name_plural),
                 "url": admin.url_prefix,
                 "add_url": admin.url_prefix + "add/" if admin.may(self, "write") else None,
                 "actions": [action for action in admin.opts.actions
                             if admin.may(self, action)]}
                for admin in admins]})
        self.render(self.template, groups=groups)


def _capital(text):
    text = str(text)
    return text[:1].upper() + text[1:]


class ModelHandler(AdminHandler):
    """A page about one model (``self.model_admin``)."""

    def get_template_namespace(self):
        namespace = super().get_template_namespace()
        namespace.update(model_name=_capital(self.opts.verbose_name),
                         model_name_plural=_capital(self.opts.verbose_name_plural),
                         list_url=self.model_admin.url_prefix,
                         app_label=self.opts.app_label)
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
            return Cell("text", format_value(field, value))
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
        return Cell("text", format_value(None, value))

    def column_label(self, name):
        field = self.opts.fields.get(name)
        if field is not None:
            return _capital(field.verbose_name)
        if name == "__str__":
            return _capital(self.opts.verbose_name)
        method = getattr(self.model_admin, name, None) or getattr(self.model, name, None)
        return _capital(getattr(method, "short_description", name.replace("_", " ")))


# -- list ----------------------------------------------------------------------------------------
class ListHandler(ModelHandler):
    """``/admin/<app>/<model>/``: search, filters, sorting, keyset pages, bulk actions.

    GET needs ``read``; a POST (bulk action) needs ``read`` and the chosen action's own
    permission, and each selected object must pass ``may(self, permission, obj)`` and
    the admin's ``object_refusal``. Each object is done on its own: its change and its
    audit entry succeed or fail together, and an object changed meanwhile (stale) or
    refused by the action is skipped and reported, never a half-done 500.
    """

    action = "read"
    needs_read = True
    template = "admin/list.html"
    confirm_template = "admin/bulk_confirm.html"
    bulk = None
    changelist = None

    # -- permission for POST: the bulk action's own ----------------------------------------
    def required_action(self):
        if self.request.method != "POST":
            return self.action
        name = self.get_body_argument("action", "")
        offered = self.model_admin.get_actions(self)
        if name not in offered:
            if name in self.model_admin.actions:
                raise HTTPError(403, f"You may not use the action {name!r}.")
            raise HTTPError(400, "Choose an action from the list.")
        self.bulk = offered[name]
        return self.bulk.permission

    async def get_changelist(self):
        """The list request as a ``ChangeList`` (fetched); bad arguments are a 400."""
        args = {name: self.get_query_argument(name) for name in self.request.query_arguments}
        try:
            changelist = self.model_admin.get_changelist(
                self, args, secret=self.application.settings["cookie_secret"])
            return await changelist.fetch()
        except BadListArguments as exc:
            raise HTTPError(400, str(exc)) from None

    def url_with(self, **changes):
        return self.changelist.url_with(**changes)

    # -- the page -----------------------------------------------------------------------------
    async def get(self):
        admin = self.model_admin
        changelist = self.changelist = await self.get_changelist()
        q, filter_values, sort = changelist.q, changelist.filter_values, changelist.sort
        current_o, position = changelist.current_o, changelist.position
        per_page, per_page_choices = changelist.per_page, changelist.per_page_choices
        page = changelist.page
        objects = page.objects
        next_url = self.url_with(cursor=page.next_cursor) if page.next_cursor else None
        prev_url = self.url_with(cursor=page.prev_cursor) if page.prev_cursor else None
        count_text, estimated = changelist.count_text, changelist.estimated

        columns = [name for name in admin.get_list_display(self)
                   if not is_hidden(self.opts.fields.get(name))]
        links = set(admin.get_list_display_links(self))
        references = await self.resolve_references(
            objects, [name for name in columns if isinstance(self.opts.fields.get(name),
                                                             model_fields.ReferenceField)])
        rows = []
        for obj in objects:
            cells = []
            for name in columns:
                cell = self.cell(obj, name, references)
                if name in links:
                    cell = Cell("link", cell.text,
                                url=admin.object_url(obj))
                cells.append(cell)
            rows.append({"id": str(obj.id), "label": admin.object_label(obj), "cells": cells})

        sortable = set(changelist.sortable_fields())
        headers = []
        primary, primary_dir = sort[0]
        for name in columns:
            header = {"name": name, "label": self.column_label(name), "url": None,
                      "sorted": None}
            if name in sortable:
                if primary == name:
                    header["sorted"] = "ascending" if primary_dir > 0 else "descending"
                    flip = f"-{name}" if primary_dir > 0 else name
                else:
                    flip = name
                header["url"] = self.url_with(o=flip, cursor=None)
            headers.append(header)

        actions = admin.get_actions(self)
        self.render(self.template, rows=rows, headers=headers, q=q,
                    search_enabled=bool(admin.get_search_fields(self)),
                    filters=await self.filter_sidebar(filter_values),
                    actions=list(actions.values()), count_text=count_text,
                    estimated=estimated, next_url=next_url, prev_url=prev_url,
                    first_url=self.url_with(cursor=None) if position is not None else None,
                    per_page=per_page, per_page_choices=per_page_choices,
                    per_page_urls={n: self.url_with(per_page=n, cursor=None)
                                   for n in per_page_choices},
                    current_o=current_o, add_url=admin.url_prefix + "add/"
                    if admin.may(self, "write") else None,
                    query_hidden=changelist.query_args(q=None, cursor=None),
                    clear_url=admin.url_prefix if (q or filter_values) else None)

    async def filter_sidebar(self, current):
        """``[{"label", "options": [{"label", "url", "selected"}]}]`` for ``list_filter``."""
        sidebar = []
        for name in self.model_admin.get_list_filter(self):
            field = self.opts.get_field(name)
            raw = self.get_query_argument(name, "") or ""
            options = [("", "All")]
            if isinstance(field, model_fields.BooleanField):
                options += [("1", "Yes"), ("0", "No")]
            elif isinstance(field, model_fields.ReferenceField):
                try:
                    related = await self.readable_objects(field.target,
                                                          limit=FILTER_CHOICES_LIMIT)
                except LookupError:
                    related = []
                options += [(str(obj.id), self.label_for(obj)) for obj in related]
            elif field.choices is not None:
                options += [(str(value), str(label)) for value, label in field.choices]
            selected_value = current.get(name)
            sidebar.append({"name": name, "label": _capital(field.verbose_name), "options": [
                {"label": label, "url": self.url_with(**{name: value or None, "cursor": None}),
                 "selected": (value == raw) if value == "" else
                 (selected_value is not None and field.to_python(value) == selected_value)}
                for value, label in options]})
        return sidebar

    # -- bulk actions -------------------------------------------------------------------------
    async def post(self):
        bulk = self.bulk
        raw_ids = self.get_body_arguments("_selected_action")
        if not raw_ids:
            self.flash("Select some items first; nothing was changed.", "warning")
            return self.redirect(self.request.uri, status=303)
        if len(raw_ids) > MAX_SELECTED:
            raise HTTPError(400, f"Select at most {MAX_SELECTED} items at once.")
        ids = [parse_id(raw) for raw in raw_ids]
        if any(oid is None for oid in ids):
            raise HTTPError(400, "The selection holds an id that is not valid.")
        objects = await self.model.find(self.scoped({"_id": {"$in": ids}}),
                                        db=self.db).to_list(None)
        allowed, skipped = [], []
        for obj in objects:
            if self.may_read(obj) and self.model_admin.may(self, bulk.permission, obj) and \
                    not await self.model_admin.object_refusal(self, bulk.permission, obj):
                allowed.append(obj)
            else:
                skipped.append(obj)
        if bulk.confirm and self.get_body_argument("post", "") != "yes":
            return self.render(self.confirm_template, bulk=bulk, allowed=[
                (obj, self.shown_label(obj)) for obj in allowed], skipped=[
                (obj, self.shown_label(obj)) for obj in skipped])
        done, stale, messages = await self.run_bulk(bulk, allowed, skipped)
        message = messages[0] if len(done) == 1 and messages and messages[0] else None
        if message is None:
            message = f"{bulk.label}: done for {self.count_noun(len(done))}."
        self.flash(message, "success" if done else "warning")
        if skipped:
            self.flash(f"Skipped {len(skipped)} you may not {bulk.permission}"
                       f"{self.some_labels(skipped)}.", "warning")
        if stale:
            self.flash(f"Skipped {len(stale)} changed or deleted by someone else meanwhile"
                       f"{self.some_labels(stale)}; nothing was done to "
                       f"{'it' if len(stale) == 1 else 'them'}.", "warning")
        self.redirect(self.request.uri, status=303)

    async def run_bulk(self, bulk, objects, skipped):
        """Run ``bulk`` on each object on its own, each with its audit entry.

        Returns ``(done, stale, messages)``; objects the action refuses (it raised
        ``PermissionDenied`` or ``ValidationError``) are added to ``skipped``.
        """
        done, stale, messages = [], [], []
        audit_action = "delete" if bulk.name == "delete_selected" else "bulk_action"
        for obj in objects:
            before = self.snapshot(obj)
            try:
                async with self.audited(audit_action, obj, bulk_action=bulk.name) as entry:
                    messages.append(await bulk.run(self.model_admin, self, [obj]))
                    if audit_action != "delete":
                        entry.changes = self.diff(before, self.snapshot(obj))
            except StaleObjectError:
                stale.append(obj)
                continue
            except (PermissionDenied, ValidationError):
                skipped.append(obj)
                continue
            done.append(obj)
        return done, stale, messages

    def count_noun(self, count):
        noun = self.opts.verbose_name if count == 1 else self.opts.verbose_name_plural
        return f"{count} {noun}"

    def some_labels(self, objects, shown=20):
        """``": a, b and 3 more"`` naming the first objects (hidden ones as such)."""
        names = ", ".join(self.shown_label(obj) for obj in objects[:shown])
        more = f" and {len(objects) - shown} more" if len(objects) > shown else ""
        return f": {names}{more}"


# -- one object ----------------------------------------------------------------------------------
class ObjectHandler(ModelHandler):
    """A page about one object: ``self.object`` is loaded from the URL's id."""

    object = None

    async def find_object(self, object_id):
        """The object with this id within the base filter, or ``None``; 404 for a malformed id."""
        oid = parse_id(object_id)
        if oid is None:
            raise HTTPError(404, f"No {self.opts.verbose_name} with id {object_id!r}.")
        found = await self.model.find(self.scoped({"_id": oid}), limit=1,
                                      db=self.db).to_list(1)
        return found[0] if found else None

    async def get_object(self, object_id):
        """The object (within the base filter) or 404; then, for every action the page
        needs (``required_actions``), the object rule and the admin's ``object_refusal``."""
        obj = await self.find_object(object_id)
        if obj is None:
            raise HTTPError(404, f"No {self.opts.verbose_name} with id {object_id!r}.")
        for action in self.required_actions() or [self.action]:
            if not self.model_admin.may(self, action, obj):
                self.deny(action, obj)
        refusal = await self.model_admin.object_refusal(self, self.action, obj)
        if refusal:
            raise HTTPError(403, refusal)
        self.object = obj
        return obj

    def saved_message(self, obj, verb):
        """The flash after a save or a delete: names the object only for a user who may read it."""
        if self.may_read(obj):
            return f"The {self.opts.verbose_name} “{self.shown_label(obj)}” was {verb}."
        return f"The {self.opts.verbose_name} was {verb}."

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
        admin = self.model_admin
        names = [n for n in admin.get_fields(self, obj) if n in self.opts.fields]
        names += [n for n in self.opts.fields if n not in names]
        return [n for n in names if n not in admin.exclude and not is_hidden(self.opts.fields[n])]

    async def get(self, object_id):
        obj = await self.get_object(object_id)
        names = self.field_names(obj)
        references = await self.resolve_references(
            [obj], [n for n in names if isinstance(self.opts.fields[n],
                                                   model_fields.ReferenceField)])
        rows = [(self.column_label(name), self.cell(obj, name, references)) for name in names]
        self.render(self.template, rows=rows, links=self.object_links(obj))


class FormHandler(ObjectHandler):
    """Shared by the add and change pages: the generated form, saving, conflicts."""

    action = "write"
    template = "admin/form.html"
    change = False
    #: ``resolve_references`` for the read-only reference fields shown (``build_form``)
    readonly_references = None

    def get_form_class(self, obj):
        return self.model_admin.get_form_class(self, obj)

    async def build_form(self, obj, formdata=None):
        form_class = self.get_form_class(obj)
        form = form_class(formdata, obj=obj) if formdata is not None else form_class(obj=obj)
        await load_reference_choices(form, self)
        await self.load_readonly_references(obj, form)
        return form

    async def load_readonly_references(self, obj, form):
        """Labels of the read-only reference fields ``readonly_rows`` shows (hidden ones
        as such), one query per field."""
        names = [n for n in getattr(form, "readonly", ())
                 if isinstance(self.opts.fields.get(n), model_fields.ReferenceField)]
        self.readonly_references = await self.resolve_references([obj], names) \
            if obj is not None and names else {}

    def readonly_rows(self, obj, form):
        names = [n for n in getattr(form, "readonly", ()) if n in self.opts.fields]
        return [(self.column_label(n), self.cell(obj, n, self.readonly_references))
                for n in names]

    def render_form(self, obj, form, conflict=None, status=None):
        if status is not None:
            self.set_status(status)
        self.render(self.template, form=form, change=self.change,
                    readonly_rows=self.readonly_rows(obj, form) if obj is not None else [],
                    version=obj.version if (obj is not None and self.change) else None,
                    conflict=conflict,
                    links=self.object_links(obj) if self.change else {},
                    may_add=self.model_admin.may(self, "write"))

    def redirect_after_save(self, obj):
        """Where "Save", "Save and continue editing", "Save and add another" go (a user
        who may not read the object goes back to the add page or the admin index)."""
        admin = self.model_admin
        readable = self.may_read(obj)
        if self.get_body_argument("_continue", None) is not None and readable:
            return admin.object_url(obj, "change/")
        if self.get_body_argument("_addanother", None) is not None or not readable:
            return admin.url_prefix + "add/" if admin.may(self, "write") else "/admin/"
        return admin.url_prefix

    async def save_from_form(self, obj, form):
        """Apply the form to ``obj`` and save; returns ``None`` or a rendered-error reason."""
        before = self.snapshot(obj) if self.change else {}
        for name, value in form_values(form).items():
            setattr(obj, name, value)
        try:
            async with self.audited("update" if self.change else "create", obj) as entry:
                await self.model_admin.save_model(self, obj, form, self.change)
                entry.changes = self.diff(before, self.snapshot(obj))
        except StaleObjectError as exc:
            return await self.describe_conflict(exc)
        except ValidationError as exc:           # UniqueError included
            add_model_errors(form, exc.errors)
            return False
        except PermissionDenied as exc:          # a rule of the admin's save_model
            add_model_errors(form, {"__all__": str(exc)})
            return False
        return None

    async def describe_conflict(self, exc):
        """What to tell a user whose save lost a race: who changed the object, and when."""
        current = exc.current
        if current is None:
            return {"deleted": True, "who": None, "when": None, "version": None}
        who, when = current.get("updated_by"), current.get("updated_at")
        if who is None or when is None:
            entry = await self.latest_audit_entry(exc.id)
            if entry is not None:
                who = who or entry.actor
                when = when or entry.at
        if isinstance(who, ObjectId):
            user_model = self.get_user_model()
            user = await user_model.get(who, db=self.db) if user_model else None
            who = getattr(user, "username", None) or str(who)
        if isinstance(when, datetime.datetime):
            when = format_datetime(when)
        return {"deleted": False, "who": who, "when": when,
                "version": exc.current_version}

    async def latest_audit_entry(self, object_id):
        """The newest audit entry for the object, or ``None``."""
        from core.audit import latest_change
        try:
            return await latest_change(self.model_admin.key, object_id, db=self.db)
        except Exception:
            log.exception("could not read the audit log")
            return None


class CreateHandler(FormHandler):
    """``/admin/<app>/<model>/add/``: a new object (``write``)."""

    async def get(self):
        obj = self.model()
        self.render_form(None, await self.build_form(obj))

    async def post(self):
        obj = self.model()
        obj._db = self.db
        form = await self.build_form(obj, FormData(self))
        valid = form.validate()
        valid = await check_references(form, self) and valid
        if not valid:
            return self.render_form(None, form)
        problem = await self.save_from_form(obj, form)
        if problem is not None:
            return self.render_form(None, form)
        self.flash(self.saved_message(obj, "added"))
        self.redirect(self.redirect_after_save(obj), status=303)


class UpdateHandler(FormHandler):
    """``/admin/<app>/<model>/<id>/change/``: edit (``write`` + the object rule).

    The form carries the object's ``version``; a save over a newer version is
    refused and the form comes back with the user's input and who changed it.
    """

    change = True
    needs_read = True

    async def get(self, object_id):
        obj = await self.get_object(object_id)
        self.render_form(obj, await self.build_form(obj))

    async def post(self, object_id):
        obj = await self.get_object(object_id)
        raw_version = self.get_body_argument("_version", "").strip()
        if not (raw_version.isascii() and raw_version.isdigit()) \
                or len(raw_version) > MAX_VERSION_DIGITS:
            raise HTTPError(400, "The form has no valid version; reload the page.")
        version = int(raw_version)
        stored = {name: obj._data.get(name) for name in self.opts.fields}
        form = await self.build_form(obj, FormData(self))
        valid = form.validate()
        valid = await check_references(form, self, stored) and valid
        if not valid:
            return self.render_form(obj, form)
        current_version = obj.version
        obj.version = version                    # save only over the version the user saw
        problem = await self.save_from_form(obj, form)
        if isinstance(problem, dict):            # stale: nothing was written
            fresh = await self.model.find(self.scoped({"_id": obj.id}), limit=1,
                                          db=self.db).to_list(1)
            shown = fresh[0] if fresh else obj
            if not fresh:
                shown.version = current_version
            await self.load_readonly_references(shown, form)
            return self.render_form(shown, form, conflict=problem, status=409)
        if problem is not None:
            obj.version = version
            return self.render_form(obj, form)
        self.flash(self.saved_message(obj, "changed"))
        self.redirect(self.redirect_after_save(obj), status=303)


class DeleteHandler(ObjectHandler):
    """``/admin/<app>/<model>/<id>/delete/``: GET asks, POST deletes (``delete`` + rule)."""

    action = "delete"
    template = "admin/delete_confirm.html"

    async def referring(self, obj):
        """What points at ``obj``: ``[{"label", "count", "count_text", "objects"}]``.

        Every ``ReferenceField`` to this model on a model the user may read is counted
        within that model's row scope (capped) and its first few readable objects
        listed; models the user may not read are not looked at (seeing is reading).
        """
        found = []
        for admin in (self.site.admins.values() if self.site else ()):
            if not admin.may(self, "read"):
                continue
            base = admin.get_base_filter(self) or {}
            for name, field in admin.opts.fields.items():
                if not isinstance(field, model_fields.ReferenceField):
                    continue
                try:
                    target = field.target
                except LookupError:
                    continue
                if target is None or target._meta.key != self.opts.key:
                    continue
                flt = {"$and": [base, {name: obj.id}]} if base else {name: obj.id}
                count = await admin.model.count(flt, limit=pagination.COUNT_CAP + 1,
                                                db=self.db)
                if not count:
                    continue
                shown = await self.readable_objects(admin.model, {name: obj.id},
                                                    limit=REFERENCES_SHOWN)
                found.append({
                    "label": f"{_capital(admin.opts.verbose_name_plural)} "
                             f"({field.verbose_name})",
                    "count_text": pagination.format_count(count, capped=True),
                    "objects": [(admin.object_label(o), admin.object_url(o)) for o in shown]})
        return found

    async def get(self, object_id):
        obj = await self.get_object(object_id)
        self.render(self.template, related=await self.referring(obj))

    async def post(self, object_id):
        obj = await self.get_object(object_id)
        message = self.saved_message(obj, "deleted")
        before = self.snapshot(obj)
        try:
            async with self.audited("delete", obj) as entry:
                await self.model_admin.delete_model(self, obj)
                entry.changes = self.diff(before, {})
        except PermissionDenied as exc:
            raise HTTPError(403, str(exc)) from None
        self.flash(message)
        self.redirect(self.model_admin.url_prefix if self.model_admin.may(self, "read")
                      else "/admin/", status=303)
