"""The history page of one object: ``/admin/<app>/<model>/<id>/history/``.

``HistoryHandler`` is an admin object page (``core.admin.handlers.ObjectHandler``):
it needs a logged-in user and ``read`` on the model (``ModelAdmin.may``),
answers 404 for a malformed id or an object that is not there (unless the log
still holds its history: a deleted object's history stays readable), checks the
object rule, and lists the object's audit entries newest first — when, who,
what, and a before/after table of the changed fields (never a field hidden from
the user: ``ModelAdmin.hidden_fields``). A JSON client gets the
same entries as JSON.

The audit app adds it to every object in the admin (``AuditApp.admin_object_pages``,
mounted by ``core.admin.routes`` while the app is installed; its template folder is
then the app's); a ``ModelAdmin`` may swap it with ``history_handler = MyHistory``.
"""
import datetime

from core.admin.handlers import ObjectHandler
from core.models import parse_id
from core.timezones import format_datetime

from .api import history
from .labels import reference_change_labels
from .models import ACTIONS

__all__ = ["HistoryHandler", "action_label", "format_change_value"]

HISTORY_LIMIT = 200


def format_change_value(value, zone=None):
    """A stored value as short human text for the before/after table (times in ``zone``)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.datetime):
        return format_datetime(value, zone, seconds=True)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {format_change_value(item, zone)}"
                         for key, item in value.items()) or "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_change_value(item, zone) for item in value) or "—"
    return str(value)


def action_label(action):
    """``"login_failed"`` → ``"Failed login"`` (an unknown action: its words)."""
    return dict(ACTIONS).get(action, str(action).replace("_", " ").capitalize())


class HistoryHandler(ObjectHandler):
    """GET: the object's audit entries, newest first (``read`` on the model)."""

    action = "read"
    template = "admin/audit/history.html"
    #: the most entries one page shows
    limit = HISTORY_LIMIT

    async def get_history_object(self, raw_id):
        """``(object or None, entries)``; 404 when neither the object nor its history exists."""
        obj = await self.find_object(raw_id)
        oid = parse_id(raw_id)
        if obj is not None:
            if not self.model_admin.may(self, "read", obj):
                self.deny("read", obj)
            self.object = obj
        entries = await history(self.model_admin.key, str(oid), limit=self.limit, db=self.db)
        # a deleted object's history stays readable, unless the admin scopes rows (then
        # nobody can tell whether the object was in this user's scope)
        if obj is None and (not entries or self.model_admin.has_row_scope(self)):
            raise self.no_such_object(raw_id)
        hidden = self.model_admin.hidden_fields(self)
        for entry in entries if hidden else ():      # fields hidden from this user
            entry.changes = {name: change for name, change in (entry.changes or {}).items()
                             if name.split(".", 1)[0] not in hidden}   # parts too
        return obj, entries

    async def get(self, object_id):
        obj, entries = await self.get_history_object(object_id)
        oid = str(parse_id(object_id))
        if obj is not None:
            label = self.model_admin.shown_object_label(self, obj)
        elif self.model_admin.hidden_fields(self):   # the recorded label may show them
            label = f"{str(self.opts.verbose_name).capitalize()} {oid}"
        else:
            label = next((e.object_label for e in entries if e.object_label), oid)
        references = await reference_change_labels(self, entries)
        if self.wants_json():
            return self.write_json({"model": self.model_admin.key, "id": oid, "label": label,
                                    "exists": obj is not None,
                                    "entries": [self.entry_json(entry, references)
                                                for entry in entries]})

        def change_value(value, entry=None, name=None, side=None):
            """A before/after value as text: a reference's label (``(hidden)`` when the
            reader may not read it), else the value itself."""
            if entry is not None and (entry.id, name, side) in references:
                return references[entry.id, name, side]
            return format_change_value(value, self.time_zone)

        self.render(self.template, obj=obj, entries=entries, history_label=label, object_id=oid,
                    limit=self.limit, links=self.object_links(obj) if obj is not None else {},
                    field_label=self.change_label, change_value=change_value,
                    action_label=action_label)

    @staticmethod
    def entry_json(entry, references):
        """An entry as JSON; a changed reference also carries ``before_label`` and
        ``after_label`` (as ``reference_change_labels`` shows them to this reader)."""
        data = entry.to_json()
        for name, change in (data.get("changes") or {}).items():
            for side in ("before", "after"):
                if (entry.id, name, side) in references:
                    change[f"{side}_label"] = references[entry.id, name, side]
        return data

    def change_label(self, name):
        """The label of a changed field: its verbose name, if the model still has it."""
        field = self.opts.fields.get(name)
        text = field.verbose_name if field is not None else name.replace("_", " ")
        return text[:1].upper() + text[1:]
