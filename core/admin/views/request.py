"""``ModelRequestHandler``: a request about one model under its admin's rules, with no HTML.

The base of the admin pages (``core.admin.views.base.AdminHandler`` adds flashes and
templates) and of the JSON API (``core.api.handlers``). It owns what both channels
must do the same way:

* ``prepare``: a logged-in user, then every action the request needs on the model
  (``required_actions``: the handler's ``action``, plus ``read`` when it shows the
  object) — before any database work;
* ``ObjectLoading.get_object``: the object within the admin's row scope (404), the
  object rule for every needed action and the admin's ``object_refusal`` (403);
* seeing is reading: ``may_read``, ``shown_label``, ``readable_objects``,
  ``reference_labels`` name no object the user may not read;
* writing: ``save_object`` / ``delete_object`` — the admin's hooks and the audit
  entry, together.
"""
import logging

from bson import ObjectId

from core.audit import diff as audit_diff
from core.audit import snapshot as audit_snapshot
from core.handlers.base import BaseHandler, HTTPError
from core.i18n import gettext_lazy as _l
from core.models.base import parse_id
from core.models.errors import ValidationError

from ..changelist import BadListArguments
from .display import missing_label

log = logging.getLogger("bastion.admin")

#: how an object the user may not read is named anywhere (seeing is reading)
HIDDEN_LABEL = "(hidden)"     # the msgid: pages show self.gettext("(hidden)")
#: the built-in actions' names as the 403 texts and the index show them (listed for the
#: catalogs; an app lists its ``extra_actions`` the same way)
ACTION_NAMES = (_l("read"), _l("write"), _l("delete"), _l("export"), _l("import"))

#: how many objects' labels ``known_references`` keeps per model (then it starts again)
MAX_KNOWN_REFERENCES = 2000

__all__ = ["HIDDEN_LABEL", "ModelRequestHandler", "ObjectLoading"]


class ModelRequestHandler(BaseHandler):
    """A request about ``self.model_admin``'s model (the route gives the admin and site)."""

    login_required = True
    #: the permission action this request needs on the model
    action = "read"
    #: the request also shows the object, so it needs ``read`` besides ``action``
    needs_read = False

    def initialize(self, model_admin=None, site=None):
        """Called by Tornado with the route's kwargs, before ``prepare``."""
        self.model_admin = model_admin
        self.site = site if site is not None else getattr(model_admin, "site", None)

    def set_default_headers(self):
        super().set_default_headers()
        self.set_header("Cache-Control", "no-store")      # per-user pages

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
                    raise HTTPError(403, self.may_not(needed, self.opts.verbose_name_plural))

    def deny(self, action, obj=None):
        """403 for ``action``; the message names the kind of object, never the object."""
        if obj is not None:
            raise HTTPError(403, self.gettext("You may not %(action)s this %(name)s.") % {
                "action": self.gettext(action), "name": self.opts.verbose_name})
        raise HTTPError(403, self.may_not(action, self.opts.verbose_name_plural))

    def may_not(self, action, names):
        """The 403 text "You may not read notes." in the request's language."""
        return self.gettext("You may not %(action)s %(names)s.") % {
            "action": self.gettext(action), "names": names}

    @property
    def opts(self):
        return self.model_admin.opts

    @property
    def model(self):
        return self.model_admin.model

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
        ``PermissionDenied``): the caller turns each into its answer. An object that would
        end up outside the user's scoped ``write`` grant (``ModelAdmin.scope_refusal``) is
        a ``ValidationError`` and nothing is written."""
        admin = self.model_admin
        async with self.audited("update" if change else "create", obj) as entry:
            await admin.before_save(self, obj, change)
            refusal = admin.scope_refusal(self, obj)
            if refusal:
                raise ValidationError(refusal)
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

    def admin_for(self, model):
        """The site's ``ModelAdmin`` for ``model`` (a class), or ``None``."""
        if self.site is None or model is None:
            return None
        return self.site.get(model._meta.key)

    def label_for(self, obj):
        admin = self.admin_for(type(obj))
        return admin.shown_object_label(self, obj) if admin is not None else str(obj)

    def detail_url_for(self, obj):
        """The detail page of ``obj`` if the user may read it, else ``None``."""
        admin = self.admin_for(type(obj))
        if admin is None or not admin.may(self, "read", obj):
            return None
        return admin.object_url(obj)

    async def get_changelist(self, fields=None):
        """The list request (query arguments) as a fetched ``ChangeList``, for the list
        page and the API list alike; arguments the list cannot take are a 400. ``fields``:
        fetch only those (projected objects, ``ChangeList.fetch``)."""
        args = {name: self.get_query_argument(name) for name in self.request.query_arguments}
        try:
            changelist = self.model_admin.get_changelist(
                self, args, secret=self.application.settings["cookie_secret"])
            await changelist.fetch(fields=fields)
        except BadListArguments as exc:
            raise HTTPError(400, str(exc)) from None
        self.model_admin.redact_for_display(self, changelist.page.objects)
        return changelist

    def may_read(self, obj):
        """May the user read ``obj``: its model's grant and its admin's object rule?

        A scoped ``read`` grant is tested on the object (``ModelAdmin.may``); the base
        filter is the query's part: objects reach pages through scoped queries, or
        through ``readable_objects``.
        """
        admin = self.admin_for(type(obj))
        return admin is not None and admin.may(self, "read", obj)

    def shown_label(self, obj):
        """``obj``'s label, or ``HIDDEN_LABEL`` when the user may not read it."""
        return self.label_for(obj) if self.may_read(obj) else self.gettext("(hidden)")

    async def readable_objects(self, model, flt=None, limit=0):
        """Objects of ``model`` matching ``flt`` that the user may read: the model's grant,
        its admin's row scope and its object rule (``[]`` without ``read``)."""
        admin = self.admin_for(model)
        if admin is None or not admin.may(self, "read"):
            return []
        found = await model.find(admin.scoped(self, flt), limit=limit,
                                 db=self.db).to_list(None)
        return [obj for obj in found if admin.may(self, "read", obj)]

    async def reference_labels(self, model, ids):
        """``{id: (label, url)}`` for references to objects of ``model``: a readable
        object's label and page, ``HIDDEN_LABEL`` for one the user may not read, and
        ``"<id> (missing)"`` for one that no longer exists (a dangling reference).
        Each id is read once per ``known_references`` memo: once per request, or once
        per auth-cache entry while nobody writes to ``model`` in this process."""
        ids = list(dict.fromkeys(i for i in ids if isinstance(i, ObjectId)))
        if not ids:
            return {}
        known = self.known_references(model)
        labels = {oid: known[oid] for oid in ids if oid in known}
        wanted = [oid for oid in ids if oid not in labels]
        if not wanted:
            return labels
        found = {obj.id: (self.label_for(obj), self.detail_url_for(obj))
                 for obj in await self.readable_objects(model, {"_id": {"$in": wanted}})}
        rest = [i for i in wanted if i not in found]
        if rest:
            present = {obj.id for obj in await model.find(    # ids only: nothing decoded
                {"_id": {"$in": rest}}, db=self.db, fields=[]).to_list(None)}
            for oid in rest:
                found[oid] = (self.gettext("(hidden)"), None) if oid in present else \
                    (missing_label(oid), None)
        if len(known) + len(found) > MAX_KNOWN_REFERENCES:
            known.clear()
        known.update(found)
        labels.update(found)
        return labels

    def known_references(self, model):
        """``{id: (label, url)}`` of ``model``'s objects as ``reference_labels`` already
        answered them (``read_memo``)."""
        return self.read_memo(model, "reference_labels")

    def read_memo(self, model, kind):
        """A dict for what this user was shown of ``model`` (``kind`` names it: reference
        labels, a filter sidebar's choices), in this language, since the last write to
        ``model`` made by this process (``Collection.writes``, taken before the reads that
        fill it): empty again after each such write.

        Shared by the requests of one session while the auth cache serves them the same
        built ``Permissions`` (``CachedAuth.shared_with``: ``AUTH_CACHE_SECONDS``, the
        auth epoch that any change to users, roles or grants bumps, the grants' expiry),
        else this request's own. A write by another process shows here within
        ``AUTH_CACHE_SECONDS``. Everything that decides what the user may read of
        ``model`` (grant, scope, object rule, hidden fields, base filter) must depend
        only on the user, their grants and the data; an admin whose rules read anything
        else (the request's headers) sets ``AUTH_CACHE_SECONDS = 0``."""
        memo = self.shared_memo()
        if memo is None:
            memo = self.__dict__.setdefault("_read_memo", {})
        writes = self.db[model._meta.collection].writes
        key = (kind, model._meta.key, self.locale.code)
        held = memo.get(key)
        if held is None or held[0] != writes:
            held = memo[key] = (writes, {})
        return held[1]

    def scoped(self, flt):
        """``flt`` narrowed by the admin's row scope (``ModelAdmin.scoped``)."""
        return self.model_admin.scoped(self, flt)


class ObjectLoading:
    """For requests about one object: ``get_object`` loads it under every rule."""

    object = None

    def no_such_object(self, object_id):
        """The 404 ``HTTPError`` (to raise) for an id that names no object this user may
        reach (or is malformed)."""
        return HTTPError(404, self.gettext("No %(name)s with id %(id)s.") % {
            "name": self.opts.verbose_name, "id": repr(object_id)})

    async def find_object(self, object_id):
        """The object with this id within the row scope, or ``None``; 404 for a malformed id.

        The scope is the reach of the user's ``read`` (what they may see; ``get_object``
        then tests the page's action on the object: 403), or for a user without any
        ``read``, of the page's own action (a delete without read finds what it reaches)."""
        oid = parse_id(object_id)
        if oid is None:
            raise self.no_such_object(object_id)
        needed = self.required_actions() or [self.action]
        reach_of = "read" if "read" in needed or self.model_admin.may(self, "read") \
            else needed[0]
        found = await self.model.find(
            self.model_admin.scoped(self, {"_id": oid}, action=reach_of), limit=1,
            db=self.db).to_list(1)
        return found[0] if found else None

    async def get_object(self, object_id):
        """The object (within the base filter) or 404; then, for every action the page
        needs (``required_actions``), the object rule and the admin's ``object_refusal``."""
        obj = await self.find_object(object_id)
        if obj is None:
            raise self.no_such_object(object_id)
        for action in self.required_actions() or [self.action]:
            if not self.model_admin.may(self, action, obj):
                self.deny(action, obj)
        refusal = await self.model_admin.object_refusal(self, self.action, obj)
        if refusal:
            raise HTTPError(403, refusal)
        if self.action == "read":
            self.model_admin.redact_for_display(self, [obj])
        self.object = obj
        return obj
