"""The audit log in the admin: readable by whoever holds ``audit.entry: [read]``,
changeable by nobody — not even a superuser.

The global log is the generic list page of ``audit.entry``
(``/admin/audit/entry/``); there is no add, change, delete or bulk action.
"""
from core.admin import ModelAdmin, register
from core.admin.views.display import Cell
from core.admin.views.object import DetailHandler

from .handlers import format_change_value
from .labels import reference_change_labels
from .models import AuditEntry, ReadOnlyEntryError

READ = "read"


class EntryDetailHandler(DetailHandler):
    """One entry's page: its changes as ``field: before → after``, a changed reference
    by the label the reader may see (``(hidden)`` when they may not read its target)."""

    async def get_context(self, obj):
        context = await super().get_context(obj)
        references = await reference_change_labels(self, [obj])

        def shown(name, side, value):
            return references.get((obj.id, name, side)) or \
                format_change_value(value, self.time_zone)

        text = "; ".join(f"{name}: {shown(name, 'before', change.get('before'))} → "
                         f"{shown(name, 'after', change.get('after'))}"
                         for name, change in (obj.changes or {}).items()
                         if isinstance(change, dict))
        label = self.column_label("changes")
        context["rows"] = [(row_label, Cell("text", text or "—") if row_label == label else cell)
                           for row_label, cell in context["rows"]]
        return context


@register(AuditEntry)
class AuditEntryAdmin(ModelAdmin):
    list_display = ["at", "actor", "action", "model_key", "object_label"]
    list_fields = ["object_id"]        # redact_for_display names the object by its id
    list_filter = ["action", "model_key"]
    search_fields = ["actor", "object_label"]
    ordering = ["-at"]
    actions = ()
    detail_handler = EntryDetailHandler
    readonly_fields = tuple(AuditEntry._meta.fields)

    def has_permission(self, handler, action):
        """Only ``read``, and only with the grant: write, delete and the rest are refused
        whatever the permissions (superusers included)."""
        return action == READ and super().has_permission(handler, action)

    def has_object_permission(self, handler, action, obj):
        return action == READ

    def may(self, handler, action, obj=None):
        # the engine lets a superuser past object rules, so refuse before it is asked
        return action == READ and super().may(handler, action, obj)

    def get_actions(self, handler):
        return {}

    def hides_labels(self, handler):
        """Does the user have a hidden field on some model? Then the recorded labels (built
        from whichever fields ``__str__`` reads) may hold one: they are not searched nor
        sorted (a match, or the order, would reveal it)."""
        perms = getattr(handler, "permissions", None)
        return bool(perms.models_hiding_fields()) if hasattr(perms, "models_hiding_fields") \
            else False

    def get_search_fields(self, handler):
        fields = super().get_search_fields(handler)
        return [name for name in fields if name != "object_label"] \
            if self.hides_labels(handler) else fields

    def get_sortable_fields(self, handler):
        fields = super().get_sortable_fields(handler)
        return [name for name in fields if name != "object_label"] \
            if self.hides_labels(handler) else fields

    def redact_for_display(self, handler, objects):
        """Each entry's ``changes`` without the fields hidden from the user on the entry's
        model (``-read:FIELD`` grants), and its recorded ``object_label`` (built from
        whichever fields ``__str__`` reads) replaced by ``"<model> <id>"``: reading the
        log never shows what the model hides. A list page's entries hold no ``changes``
        (it shows none): there is nothing to redact in them."""
        perms = getattr(handler, "permissions", None)
        if not hasattr(perms, "hidden_fields"):
            return
        for entry in objects:
            hidden = perms.hidden_fields(entry.model_key) if entry.model_key else ()
            if hidden and entry.fetched("changes") and isinstance(entry.changes, dict):
                entry.changes = {name: change for name, change in entry.changes.items()
                                 if name.split(".", 1)[0] not in hidden}
            if hidden and entry.object_id:   # the label recorded then may show them
                entry.object_label = f"{entry.model_key} {entry.object_id}"

    async def save_model(self, handler, obj, form, change):
        raise ReadOnlyEntryError("audit entries cannot be added or changed in the admin")

    async def delete_model(self, handler, obj):
        raise ReadOnlyEntryError("audit entries cannot be deleted")
