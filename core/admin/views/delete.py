"""``/admin/<app>/<model>/<id>/delete/``: what refers to the object, then the delete."""
from core.handlers.base import HTTPError
from core.models import fields as model_fields
from core.permissions import PermissionDenied

from .. import pagination
from .display import capital
from .object import ObjectHandler

REFERENCES_SHOWN = 5

__all__ = ["DeleteHandler"]


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
            for name, field in admin.opts.fields.items():
                if not isinstance(field, model_fields.ReferenceField):
                    continue
                try:
                    target = field.target
                except LookupError:
                    continue
                if target is None or target._meta.key != self.opts.key:
                    continue
                count = await admin.model.count(admin.scoped(self, {name: obj.id}),
                                                limit=pagination.COUNT_CAP + 1, db=self.db)
                if not count:
                    continue
                shown = await self.readable_objects(admin.model, {name: obj.id},
                                                    limit=REFERENCES_SHOWN)
                found.append({
                    "label": f"{capital(admin.opts.verbose_name_plural)} "
                             f"({field.verbose_name})",
                    "count_text": pagination.format_count(count, capped=True),
                    "objects": [(self.label_for(o), admin.object_url(o)) for o in shown]})
        return found

    async def get(self, object_id):
        obj = await self.get_object(object_id)
        self.render(self.template, related=await self.referring(obj))

    async def post(self, object_id):
        obj = await self.get_object(object_id)
        message = self.saved_message(obj, "deleted")
        try:
            await self.delete_object(obj)
        except PermissionDenied as exc:
            raise HTTPError(403, str(exc)) from None
        self.flash(message)
        self.redirect(self.model_admin.url_prefix if self.model_admin.may(self, "read")
                      else "/admin/", status=303)
