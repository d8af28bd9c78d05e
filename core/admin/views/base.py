"""The base of every admin page: ``AdminHandler`` (login, the permission check, flashes,
audit, what the user may see), the index, and ``ModelHandler`` (a page about one model)."""
import json
import logging

from bson import ObjectId

from core.audit import diff as audit_diff
from core.audit import snapshot as audit_snapshot
from core.auth.handlers import render_field
from core.handlers.base import BaseHandler, HTTPError
from core.models import fields as model_fields

from .display import Cell, capital, format_datetime, format_value

log = logging.getLogger("bastion.admin")

FLASH_COOKIE = "bastion_flash"
#: how an object the user may not read is named anywhere (seeing is reading)
HIDDEN_LABEL = "(hidden)"

__all__ = ["AdminHandler", "AdminIndexHandler", "HIDDEN_LABEL", "ModelHandler"]


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

    async def save_object(self, obj, form=None, change=True, before=None):
        """The one way a page or the API saves: ``before_save``, ``save_model`` and the audit
        entry together (``audited``), then ``after_save``; returns the ``AuditedWrite``.
        Raises what ``save_model`` raises (``StaleObjectError``, ``ValidationError``,
        ``PermissionDenied``): the caller turns each into its answer."""
        admin = self.model_admin
        async with self.audited("update" if change else "create", obj) as entry:
            await admin.before_save(self, obj, change)
            await admin.save_model(self, obj, form, change)
            entry.changes = self.diff(before or {}, self.snapshot(obj))
        await admin.after_save(self, obj, change)
        return entry

    async def delete_object(self, obj, **extra):
        """The one way a page or the API deletes: ``before_delete``, ``delete_model`` and
        the audit entry together, then ``after_delete``."""
        admin = self.model_admin
        before = self.snapshot(obj)
        async with self.audited("delete", obj, **extra) as entry:
            await admin.before_delete(self, obj)
            await admin.delete_model(self, obj)
            entry.changes = self.diff(before, {})
        await admin.after_delete(self, obj)
        return entry

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
            return capital(field.verbose_name)
        if name == "__str__":
            return capital(self.opts.verbose_name)
        method = getattr(self.model_admin, name, None) or getattr(self.model, name, None)
        return capital(getattr(method, "short_description", name.replace("_", " ")))
