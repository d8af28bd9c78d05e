"""Labels for the references an audit entry's changes name, as the reader may see them.

A change of a ``ReferenceField`` is stored as the ids before and after. The history page
and the audit log's own pages show, instead, the label of each referenced object the
reader may read, ``(hidden)`` for one they may not (``ModelRequestHandler.reference_labels``:
the target's grant, row scope and object rule), and ``<id> (missing)`` for one deleted
since — never the label of an object the reader may not read.
"""
from core.models import fields as model_fields
from core.models.base import parse_id

__all__ = ["reference_change_labels"]

SIDES = ("before", "after")


def _reference_fields(site, model_key):
    admin = site.get(model_key) if site is not None and model_key else None
    if admin is None:
        return {}
    return {name: field for name, field in admin.opts.fields.items()
            if isinstance(field, model_fields.ReferenceField)}


async def reference_change_labels(handler, entries):
    """``{(entry id, field name, "before" | "after"): label}`` for every reference field
    the ``entries``' changes name, one query per target model and field (``handler``: the
    page's ``ModelRequestHandler``, whose user reads the labels)."""
    wanted = {}                               # (model key, field name) -> [ids]
    for entry in entries:
        fields = _reference_fields(handler.site, entry.model_key)
        for name, change in (entry.changes or {}).items():
            if name in fields and isinstance(change, dict):
                wanted.setdefault((entry.model_key, name), []).extend(
                    parse_id(change.get(side)) for side in SIDES)
    labels_by_field = {}
    for (model_key, name), ids in wanted.items():
        try:
            target = _reference_fields(handler.site, model_key)[name].target
        except LookupError:                   # the target model is not installed
            continue
        found = await handler.reference_labels(target, [i for i in ids if i is not None])
        labels_by_field[model_key, name] = {oid: label for oid, (label, _url) in found.items()}
    shown = {}
    for entry in entries:
        for name, change in (entry.changes or {}).items():
            labels = labels_by_field.get((entry.model_key, name))
            if labels is None or not isinstance(change, dict):
                continue
            for side in SIDES:
                oid = parse_id(change.get(side))
                if oid is not None and oid in labels:
                    shown[entry.id, name, side] = labels[oid]
    return shown
