"""The add and change pages: the generated form, saving with its audit entry, conflicts."""
import datetime
import logging

from bson import ObjectId

from core.forms import FormData
from core.handlers.base import HTTPError
from core.models import fields as model_fields
from core.models.errors import StaleObjectError, ValidationError
from core.permissions import PermissionDenied

from ..forms import (
    ADD_ROW, MOVE_ROW, add_model_errors, add_row, check_references, form_values,
    load_reference_choices, moved_row_data, read_times_in, show_times_in,
)
from ..uploads import UploadField
from .display import format_datetime
from .object import ObjectHandler

log = logging.getLogger("bastion.admin")

MAX_VERSION_DIGITS = 18

__all__ = ["CreateHandler", "FormHandler", "FormRefused", "UpdateHandler"]


class FormRefused(Exception):
    """The save was refused; the reasons are on the form (field or form errors)."""


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
        show_times_in(form, self.time_zone, initial=formdata is None)
        self.link_current_files(obj, form)
        await load_reference_choices(form, self)
        await self.load_readonly_references(obj, form)
        return form

    def link_current_files(self, obj, form):
        """Link each upload input's current file to its download page (a stored object)."""
        if obj is None or obj.id is None or not self.change:
            return
        for name in getattr(form, "field_names", ()):
            if isinstance(form[name], UploadField):
                form[name].download_url = self.model_admin.object_url(obj, f"file/{name}/")

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

    def get_context(self, obj, form, conflict=None):
        """What the form template shows, computed once: the form, the read-only rows, the
        version the form carries, a conflict, the object's links. A subclass adds to it
        (``context = super().get_context(...)``) instead of copying it."""
        admin = self.model_admin
        readonly_rows = self.readonly_rows(obj, form) if obj is not None else []
        return {"form": form, "change": self.change,
                "readonly_rows": readonly_rows,
                "fieldsets": self.fieldset_groups(obj, form, readonly_rows),
                "prepopulated": self.prepopulated_attributes(form) if not self.change else {},
                "save_on_top": admin.save_on_top,
                "save_as": admin.save_as and self.change and admin.may(self, "write"),
                # a document no save has versioned yet (written by another program) is 0
                "version": (obj.version or 0) if (obj is not None and self.change) else None,
                "conflict": conflict, "links": self.object_links(obj) if self.change else {},
                "may_add": admin.may(self, "write")}

    def fieldset_groups(self, obj, form, readonly_rows):
        """``[{"title", "description", "collapse", "tab", "has_errors", "fields",
        "readonly"}]`` from ``get_fieldsets`` (``None``: the form is one group). A field no
        fieldset names goes into a last, untitled group. ``"classes": ["tab"]`` makes a
        group a tab (``static/tabs.js``; without JavaScript every group shows, titled)."""
        declared = self.model_admin.get_fieldsets(self, obj)
        if not declared:
            return None
        readonly = dict(zip([n for n in getattr(form, "readonly", ()) if n in self.opts.fields],
                            readonly_rows))
        placed, groups = set(), []
        for title, options in declared:
            names = list(options.get("fields", ()))
            placed.update(names)
            fields = [form[n] for n in names if n in form._fields]
            classes = options.get("classes", ())
            groups.append({"title": title, "description": options.get("description"),
                           "collapse": "collapse" in classes, "tab": "tab" in classes,
                           "has_errors": any(field.errors for field in fields),
                           "fields": fields,
                           "readonly": [readonly[n] for n in names if n in readonly]})
        rest = [n for n in form._fields if n not in placed]
        rest_readonly = [row for n, row in readonly.items() if n not in placed]
        if rest or rest_readonly:
            groups.append({"title": None, "description": None, "collapse": False,
                           "tab": False, "has_errors": any(form[n].errors for n in rest),
                           "fields": [form[n] for n in rest], "readonly": rest_readonly})
        return groups

    def prepopulated_attributes(self, form):
        """``{field: {"data_prepopulate_from": "id_a id_b"}}`` for the template."""
        found = {}
        for name, sources in self.model_admin.get_prepopulated_fields(self).items():
            if name in form._fields:
                found[name] = {"data_prepopulate_from": " ".join(
                    f"id_{source}" for source in sources if source in form._fields)}
        return found

    async def add_row_requested(self, obj):
        """The "Add another" or "Move up/down" submit of a list of sub-documents: the form
        again, as posted, with one more empty row or two rows swapped (nothing saved).
        True when the request was one."""
        name = self.get_body_argument(ADD_ROW, None)
        move = self.get_body_argument(MOVE_ROW, None)
        if name is None and move is None:
            return False
        form = await self.build_form(obj, FormData(self))
        if move is not None:
            moved = moved_row_data(form, FormData(self), move)
            if moved is None:
                raise HTTPError(400, self.gettext("There is no such row on this form."))
            form = await self.build_form(obj, moved)
        elif not add_row(form, name):
            raise HTTPError(400, self.gettext("There is no such list on this form."))
        self.render_form(obj if self.change else None, form)
        return True

    def render_form(self, obj, form, conflict=None, status=None):
        if status is not None:
            self.set_status(status)
        self.render(self.template, **self.get_context(obj, form, conflict))

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
        """Apply the form to ``obj`` and save it with its audit entry; returns the
        ``AuditedWrite``. A refusal of the model or the admin's rules becomes errors on
        the form and ``FormRefused``; someone else's save meanwhile is
        ``StaleObjectError``. Either way nothing was written."""
        before = self.snapshot(obj) if self.change else {}
        for name, value in form_values(form, obj).items():
            setattr(obj, name, value)
        try:
            return await self.save_object(obj, form, self.change, before)
        except ValidationError as exc:           # UniqueError included
            add_model_errors(form, exc.errors)
        except PermissionDenied as exc:          # a rule of the admin's save_model
            add_model_errors(form, {"__all__": str(exc)})
        raise FormRefused()

    async def create_from_post(self, obj):
        """The add page's POST (and "Save as new"): the posted form as the new ``obj``,
        or the form again with its errors; on success a flash and the redirect."""
        form = await self.build_form(obj, FormData(self))
        valid = form.validate()
        valid = read_times_in(form, self.time_zone) and valid
        valid = await check_references(form, self) and valid
        if not valid:
            return self.render_form(None, form)
        try:
            await self.save_from_form(obj, form)
        except FormRefused:
            return self.render_form(None, form)
        self.flash(self.saved_message(obj, "added"))
        self.redirect(self.redirect_after_save(obj), status=303)

    async def render_conflict(self, obj, form, exc):
        """The form again (409) with the user's input and who saved meanwhile."""
        conflict = await self.describe_conflict(exc)
        fresh = await self.model.find(self.scoped({"_id": obj.id}), limit=1,
                                      db=self.db).to_list(1)
        shown = fresh[0] if fresh else obj
        await self.load_readonly_references(shown, form)
        self.render_form(shown, form, conflict=conflict, status=409)

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
            when = format_datetime(when, self.time_zone)
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
        if await self.add_row_requested(obj):
            return
        await self.create_from_post(obj)


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
        if self.model_admin.save_as and self.get_body_argument("_saveasnew", None) is not None:
            return await self.save_as_new(object_id)
        obj = await self.get_object(object_id)
        raw_version = self.get_body_argument("_version", "").strip()
        if not (raw_version.isascii() and raw_version.isdigit()) \
                or len(raw_version) > MAX_VERSION_DIGITS:
            raise HTTPError(400, self.gettext("The form has no valid version; reload the page."))
        version = int(raw_version) or None          # 0: a document without a version yet
        obj.version, stored_version = version, obj.version   # the form keeps the one it had
        try:
            if await self.add_row_requested(obj):
                return
        finally:
            obj.version = stored_version
        stored = {name: obj._data.get(name) for name in self.opts.fields}
        form = await self.build_form(obj, FormData(self))
        valid = form.validate()
        valid = read_times_in(form, self.time_zone) and valid
        valid = await check_references(form, self, stored) and valid
        if not valid:
            return self.render_form(obj, form)
        if version != obj.version:               # the user saw another version: no save
            return await self.render_conflict(obj, form, StaleObjectError(
                self.model, obj.id, version, obj.to_bson()))
        try:                                     # over the stored version: a race is stale
            await self.save_from_form(obj, form)
        except FormRefused:
            return self.render_form(obj, form)
        except StaleObjectError as exc:
            return await self.render_conflict(obj, form, exc)
        self.flash(self.saved_message(obj, "changed"))
        self.redirect(self.redirect_after_save(obj), status=303)

    async def save_as_new(self, object_id):
        """"Save as new": the form's values as a new object (the original is untouched;
        read-only fields keep their defaults), like the add page."""
        await self.get_object(object_id)                # read and write on the original
        obj = self.model()
        obj._db = self.db
        self.change = False
        await self.create_from_post(obj)
