"""Paths through a reference: ``customer.address.city`` on the order list.

A ``list_display`` column or a ``list_filter`` entry may walk (through sub-documents)
to a ``ReferenceField`` and go on inside the referenced model::

    class OrderAdmin(ModelAdmin):
        list_display = ["customer", "customer.address.city"]
        list_filter = ["customer.address.country"]

``ReferencePath`` splits such a name into the local part (``customer``: the reference,
maybe a list of them) and the remote part (``address.city``: a path of the target
model, through its sub-documents but never through a second reference).

Seeing is reading, on the *target* model: a row shows the remote value only when the
user may read the target model (its grant, its admin's row scope and object rule for
that object) and the remote field is neither hidden from the user (``-read:address``)
nor left out by the target admin's ``exclude``; else the cell is empty ("—").

* a column (``column_values``) reads every referenced object of the page with ONE
  ``$in`` query per target model, whatever the number of rows and columns; whole
  documents, not a projection, because the target admin's row scope and object rule may
  read any field of them;
* a filter (``core.admin.filters.ReferencePathFilter``) and a search through a reference
  (``core.admin.search``) query the target model first and narrow the list with
  ``{"customer": {"$in": ids}}`` (``readable_ids``). That answer is exact or refused:
  past ``MAX_REFERENCE_MATCHES`` target objects the list is ``BadListArguments`` (a 400
  saying to narrow the search), never a silently shortened list.

Sorting by a path through a reference is refused (``?o=`` is a 400): the store cannot
order the rows by a value of another collection without reading all of it.
"""
from core.i18n import format_decimal, gettext
from core.models import fields as model_fields

from .errors import BadListArguments

__all__ = ["MAX_REFERENCE_MATCHES", "ReferencePath", "column_values", "readable_ids",
           "reference_path"]

#: how many target objects one search word or one filter may match through a reference
MAX_REFERENCE_MATCHES = 1000


class ReferencePath:
    """``local`` (the ``FieldPath`` to the reference), ``target`` (the referenced model),
    ``rest`` (the remote path's text) and ``remote`` (its ``FieldPath`` in the target)."""

    def __init__(self, path, local, target, rest, remote):
        self.path, self.local, self.target, self.rest, self.remote = \
            path, local, target, rest, remote
        self.fields = local.fields + remote.fields
        self.field = remote.field
        self.many = local.many or isinstance(local.field, model_fields.ListField) \
            or remote.many

    @property
    def verbose_name(self):
        return f"{self.local.verbose_name} {self.remote.verbose_name}"

    def ids(self, data):
        """The referenced ids in a row's ``_data`` (a list, maybe empty)."""
        value = self.local.value(data)
        values = value if isinstance(value, list) else [value]
        return [item for item in values if item is not None]

    def __repr__(self):
        return f"<ReferencePath {self.path}>"


def reference_path(opts, name):
    """The ``ReferencePath`` of ``name`` in ``opts`` (a model's ``_meta``).

    ``KeyError(sentence, kind)`` like ``Options.field_at`` when ``name`` is no path through
    exactly one reference: a missing part, a second reference (``customer.account.name``),
    a dict or a scalar on the way, or a target model that is not installed."""
    parts = name.split(".")
    for position in range(1, len(parts)):
        local = opts.field_at(".".join(parts[:position]))
        inner = local.field.item_field if isinstance(local.field, model_fields.ListField) \
            else local.field
        if not isinstance(inner, model_fields.ReferenceField):
            continue
        try:
            target = inner.target
        except LookupError:
            raise KeyError(f"{local.path} refers to a model that is not installed",
                           "through") from None
        rest = ".".join(parts[position:])
        try:
            remote = target._meta.field_at(rest)
        except KeyError as exc:
            raise KeyError(f"{local.path} → {target.__name__}: {exc.args[0]}",
                           exc.args[-1]) from None
        return ReferencePath(name, local, target, rest, remote)
    return opts.field_at(name)                      # raises: it crosses no reference


def shows_remote(ctx, target_admin, rest):
    """May this user see ``rest`` of the target model at all: its ``read`` grant, the
    field not hidden (``-read:``) nor excluded by the target admin?"""
    if target_admin is None or not target_admin.may(ctx, "read"):
        return False
    if not target_admin.visible(ctx, [rest]):
        return False
    return not any(rest == name or rest.startswith(name + ".")
                   for name in target_admin.exclude)


async def column_values(handler, objects, columns):
    """``{(column, row id): text}`` for the ``columns`` through a reference (the others
    are left out): the remote values of the referenced objects this user may read,
    comma-separated; a row whose target the user may not read has no entry (its cell
    shows the empty value). One query per target model."""
    from .views.display import format_value
    opts = handler.opts
    paths = {}
    for name in columns:
        if "." not in name or name in opts.fields:
            continue
        try:
            path = reference_path(opts, name)
        except KeyError:
            continue
        if isinstance(path, ReferencePath):
            paths[name] = path
    found = {}
    for target in {path.target for path in paths.values()}:
        target_admin = handler.admin_for(target)
        group = {name: path for name, path in paths.items() if path.target is target
                 and shows_remote(handler, target_admin, path.rest)}
        ids = list(dict.fromkeys(oid for path in group.values() for obj in objects
                                 for oid in path.ids(obj._data)))
        if not ids:
            continue
        readable = {obj.id: obj for obj in await handler.readable_objects(
            target, {"_id": {"$in": ids}})}
        for name, path in group.items():
            for obj in objects:
                texts = []
                for oid in path.ids(obj._data):
                    if oid not in readable:
                        continue
                    value = path.remote.value(readable[oid]._data)
                    for item in value if path.remote.many else [value]:
                        text = format_value(path.remote.field, item, handler.time_zone, "")
                        if text:
                            texts.append(text)
                if texts:
                    found[(name, obj.id)] = ", ".join(texts)
    return found


async def readable_ids(ctx, target_admin, clause, what):
    """The ids of the target objects matching ``clause`` that the user may read (the
    target's grant, row scope and object rule): ``None`` when they may not read the
    model. More than ``MAX_REFERENCE_MATCHES`` matches is ``BadListArguments`` naming
    ``what`` (the search word or the filter): the list would otherwise be cut silently."""
    if target_admin is None or not target_admin.may(ctx, "read"):
        return None
    target = target_admin.model
    found = await target.find(target_admin.scoped(ctx, clause), [("_id", 1)],
                              limit=MAX_REFERENCE_MATCHES + 1, db=ctx.db).to_list(None)
    if len(found) > MAX_REFERENCE_MATCHES:
        raise BadListArguments(gettext(
            "%(what)s matches more than %(count)s %(objects)s; narrow it down.") % {
            "what": what, "count": format_decimal(MAX_REFERENCE_MATCHES),
            "objects": target._meta.verbose_name_plural})
    return [obj.id for obj in found if target_admin.may(ctx, "read", obj)]
