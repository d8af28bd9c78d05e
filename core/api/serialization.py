"""Objects to JSON and JSON bodies to field values, through the model's fields.

    data = to_representation(model_admin, obj, handler)    # {"id", "version", fields...}
    values = parse_body(model_admin, handler, body, obj, partial=True)   # or 422

An object is ``{"id": "<24 hex>", "version": n, <field>: field.to_json(value)...}``:
datetimes ISO 8601 UTC, references their id as hex. Fields marked ``hidden``
(password hashes), the admin's ``exclude`` and the fields hidden from the user
(``ModelAdmin.hidden_fields``: ``-read:field`` grants) never appear; a dotted
``exclude`` (``address.street``) shows that part as ``null`` and a write keeps its stored
value (a list item by position), and a dotted read-only part (``lines.quantity``) is
accepted only unchanged.

A body may name only fields the admin lets a request write (``writable_fields``:
the form's fields minus read-only, non-editable and hidden ones); ``id`` and
``version`` and read-only fields are accepted only with the object's current
value (so a GET representation can be PUT back). Each value goes through the
field's ``to_python``, so a container where a scalar belongs (``{"$gt": ""}``) is a
422 naming the field and never reaches a query. ``null`` sets a field to its default
(``[]`` for a list, ``false`` for a boolean without another default), else to empty.
A file field shows ``{"name", "content_type", "size", "url"}`` and is written through
that url (``core.api.files``), never by a JSON body.

A list of sub-documents whose items carry protected parts (a dotted ``exclude`` or
read-only path below it: ``lines.unit_price``) shows each item with its stored position
as ``"_row": n`` (``ROW``). A write pairs every item with the stored row its ``_row``
names — its excluded parts are kept from that row and its read-only parts must equal
that row's — so a client may reorder, remove and add rows: an item without ``_row`` is
a new row (excluded parts get their defaults; read-only ones must be the defaults).
A ``_row`` that is not a stored position, or names one twice, is a 422 on
``lines.<i>._row``. (Pairing by position instead would give line 1's hidden parts to
line 2 when a client reorders.)

Nested values (sub-documents, lists, dicts) travel as JSON objects and arrays; a 422
names the dotted path of each bad part (``{"lines.2.quantity": "..."}``). A PATCH
may set one part with a dotted key: ``{"address.city": "Paris", "lines.1.quantity": 3,
"attributes.colour": "red"}`` changes that part and keeps the rest of the field
(positions count from 0 and must exist; a key may not also be set whole).
"""
import copy

from core.admin.views.object import nested_paths, without_paths
from core.i18n import gettext
from core.models import fields as model_fields
from core.models.errors import NON_FIELD_ERRORS, ValidationError
from core.models.files import FileField

__all__ = ["BodyError", "ROW", "is_hidden", "parse_body", "readable_fields", "row_lists",
           "to_representation", "writable_fields"]

#: the key naming a list item's stored position (lists whose items carry protected parts)
ROW = "_row"


class BodyError(Exception):
    """A body the API refuses: ``status`` (422), a message and ``{field: message}``."""

    def __init__(self, message, fields=None, status=422):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.status = status


def is_hidden(field):
    return bool(getattr(field, "hidden", False))


def readable_fields(model_admin, handler):
    """``{name: field}`` an API response shows to ``handler``'s user, in declaration order."""
    hidden = model_admin.hidden_fields(handler)
    return {name: field for name, field in model_admin.opts.fields.items()
            if not is_hidden(field) and name not in model_admin.exclude and name not in hidden}


def writable_fields(model_admin, handler, obj=None):
    """``{name: field}`` a JSON body may write (as the admin's form would; a file field is
    written through its own URL, ``core.api.files``)."""
    readonly = set(model_admin.get_readonly_fields(handler, obj))
    fields = model_admin.opts.fields
    out = {}
    for name in model_admin.get_fields(handler, obj):
        field = fields.get(name)
        if field is None or is_hidden(field) or name in readonly or name in model_admin.exclude \
                or not getattr(field, "editable", True) or isinstance(field, FileField):
            continue
        out[name] = field
    return out


def row_lists(model_admin, handler, obj=None):
    """The list-of-sub-documents fields whose items carry parts a request may not write
    (a dotted ``exclude`` or read-only path below them): their items travel with ``ROW``."""
    protected = set(nested_paths(model_admin.exclude)) | set(nested_paths(
        model_admin.get_readonly_fields(handler, obj)))
    fields = model_admin.opts.fields
    return {name for name in protected if isinstance(fields.get(name), model_fields.ListField)
            and isinstance(fields[name].item_field, model_fields.EmbeddedField)}


def file_url(model_admin, obj, name):
    """The API URL of ``obj``'s file field ``name`` (``core.api.files``)."""
    opts = model_admin.opts
    return f"/api/{opts.app_label}/{opts.model_name}/{obj.id}/files/{name}"


def to_representation(model_admin, obj, handler):
    """``obj`` as the API shows it to ``handler``'s user (a file: its description and
    ``url``)."""
    data = {"id": str(obj.id) if obj.id is not None else None, "version": obj.version}
    excluded = nested_paths(model_admin.exclude)
    rows = row_lists(model_admin, handler, obj)
    for name, field in readable_fields(model_admin, handler).items():
        value = obj._data.get(name)
        data[name] = field.to_json(without_paths(value, excluded[name])
                                   if name in excluded else value)
        if name in rows and isinstance(data[name], list):
            data[name] = [{**item, ROW: position} if isinstance(item, dict) else item
                          for position, item in enumerate(data[name])]
        if data[name] is not None and isinstance(field, FileField) and obj.id is not None:
            data[name]["url"] = file_url(model_admin, obj, name)
    return data


def _same(field, current, given):
    """Does the JSON value ``given`` say what ``current`` (a Python value) is?"""
    if isinstance(field, FileField) and isinstance(given, dict):
        given = {key: value for key, value in given.items() if key != "url"}
    if given == field.to_json(current):
        return True
    try:
        return field.to_python(given) == current
    except (ValidationError, TypeError, ValueError):
        return False


def parse_body(model_admin, handler, body, obj=None, partial=False):
    """``{name: python value}`` to set on ``obj`` from ``body`` (a dict); ``BodyError`` if not.

    ``obj`` is the stored object (``None`` when creating). With ``partial`` (PATCH)
    only the given fields change; otherwise (POST, PUT) a writable field the body
    leaves out takes its default.
    """
    writable = writable_fields(model_admin, handler, obj)
    known = model_admin.opts.fields
    shown = readable_fields(model_admin, handler)
    rows = row_lists(model_admin, handler, obj)
    errors = {}
    values = {}
    origins = {}                             # {list field: stored position of each item}
    parts = {}                               # PATCH by dotted key: {field: [(path, raw)]}
    for name, raw in body.items():
        if not isinstance(name, str):
            errors[str(name)] = gettext("Unknown field.")
            continue
        if name in ("id", "version"):
            continue                        # checked by the handler
        head = name.split(".", 1)[0]
        if partial and head != name and head in writable:
            parts.setdefault(head, []).append((name, raw))
            continue
        if name in writable:
            field = writable[name]
            if name in rows and isinstance(raw, list):
                stored = obj._data.get(name) if obj is not None else None
                raw, origins[name] = _take_origins(name, raw, len(stored or ()), errors)
            _parse_value(field, name, raw, values, errors)
            continue
        if name in shown and name in known:
            if obj is not None and _same(known[name], obj._data.get(name), raw):
                continue                    # a read-only field, unchanged
            if obj is None and raw is None:
                continue
            errors[name] = gettext("Upload a file with PUT to the object's files/<field> URL.") \
                if isinstance(known[name], FileField) else gettext("This field is read-only.")
            continue
        errors[name[:100]] = gettext("Unknown field.")
    for head, settings in parts.items():
        if head in body:
            for path, _raw in settings:
                errors[path[:200]] = gettext("Set %(field)s whole or by parts, not both.") % {
                    "field": head}
            continue
        field = writable[head]
        merged = copy.deepcopy(field.to_json(obj._data.get(head)) if obj is not None else None)
        failed = False
        for path, raw in settings:
            try:
                merged = _set_part(merged, path.split(".")[1:], raw)
            except LookupError as exc:
                errors[path[:200]] = exc.args[0]
                failed = True
        if not failed:
            if head in rows and isinstance(merged, list):      # parts keep their positions
                merged = [{k: v for k, v in item.items() if k != ROW}
                          if isinstance(item, dict) else item for item in merged]
                origins[head] = list(range(len(merged)))
            _parse_value(field, head, merged, values, errors)
    if not partial:
        for name, field in writable.items():
            if name not in body:
                values[name] = field.get_default()
    _keep_nested_parts(model_admin, handler, obj, values, errors, origins)
    if errors:
        raise BodyError(gettext("The body has invalid fields."), errors)
    return values


def _take_origins(name, items, stored_count, errors):
    """``(items without ROW, [stored position or None per item])`` of a list of rows;
    a ``ROW`` that is no stored position (``stored_count`` rows), or one given twice,
    is an error on ``<name>.<i>._row``."""
    cleaned, origins, seen = [], [], set()
    for position, item in enumerate(items):
        origin = None
        if isinstance(item, dict) and ROW in item:
            item = dict(item)
            origin = item.pop(ROW)
            if type(origin) is not int or not 0 <= origin < stored_count or origin in seen:
                errors[f"{name}.{position}.{ROW}"] = gettext(
                    "Not a row of the stored list: give each stored row the _row a GET "
                    "shows (once), and none to a new row.")
                origin = None
            seen.add(origin)
        cleaned.append(item)
        origins.append(origin)
    return cleaned, origins


def _parse_value(field, name, raw, values, errors):
    """Put ``field.to_python(raw)`` in ``values[name]``, or its errors (dotted paths) in
    ``errors``."""
    try:
        value = field.to_python(raw)
    except ValidationError as exc:
        errors.update({key if key != NON_FIELD_ERRORS else name: message
                       for key, message in exc.errors.items()})
        return
    except (OverflowError, ValueError, TypeError):
        errors[name] = gettext("The value is out of range or not valid.")
        return
    if value is None and field.has_default():
        value = field.get_default()         # null: the field's default ([], False...)
    values[name] = value


def _set_part(node, segments, raw):
    """The JSON value ``node`` with ``raw`` at ``segments`` (``LookupError`` if there is no
    such place): objects gain the key (a missing sub-document starts empty), list
    positions must exist."""
    head, rest = segments[0], segments[1:]
    if node is None:
        node = {}
    if isinstance(node, dict):
        node[head] = _set_part(node.get(head), rest, raw) if rest else raw
        return node
    if isinstance(node, list):
        if not head.isdigit() or int(head) >= len(node):
            raise LookupError(gettext("There is no item %(item)s in this list (it has "
                                      "%(count)d).") % {"item": head[:20], "count": len(node)})
        index = int(head)
        node[index] = _set_part(node[index], rest, raw) if rest else raw
        return node
    raise LookupError(gettext("This value has no parts to set."))


def model_errors(exc):
    """A model ``ValidationError`` as ``(message, {field: message})``."""
    fields = {name: message for name, message in exc.errors.items() if name != NON_FIELD_ERRORS}
    general = exc.errors.get(NON_FIELD_ERRORS)
    return (general or gettext("The object is not valid.")), fields


def reference_fields(values, model_admin):
    """``[(name, field, id)]`` of the reference values in ``values`` that are set."""
    out = []
    for name, value in values.items():
        field = model_admin.opts.fields.get(name)
        if isinstance(field, model_fields.ReferenceField) and value is not None:
            out.append((name, field, value))
    return out


def _part(value, path):
    for name in path.split("."):
        value = value._data.get(name) if isinstance(value, model_fields.SubDocument) else None
    return value


def _keep_nested_parts(model_admin, handler, obj, values, errors, origins=None):
    """Dotted ``readonly_fields`` / ``exclude`` (``lines.unit_price``) in a body: an
    excluded part keeps its stored value (a list item: of the stored row its ``ROW``
    names in ``origins``, ``{field: [position or None]}``; a new one its default), a
    read-only part must be given unchanged (else a 422 on its path)."""
    origins = origins or {}
    readonly = nested_paths(model_admin.get_readonly_fields(handler, obj))
    excluded = nested_paths(model_admin.exclude)
    for name in set(readonly) | set(excluded):
        if name not in values:
            continue
        stored = obj._data.get(name) if obj is not None else None
        new = values[name]
        pairs = list(enumerate(new)) if isinstance(new, list) else [(None, new)]
        for index, item in pairs:
            if not isinstance(item, model_fields.SubDocument):
                continue
            before = stored
            if index is not None:                    # a row: the stored row it came from
                row_origins = origins.get(name) or []
                origin = row_origins[index] if index < len(row_origins) else None
                before = stored[origin] if isinstance(stored, list) and origin is not None \
                    and origin < len(stored) else None
            fresh = type(item)()
            for path in excluded.get(name, []) + readonly.get(name, []):
                kept = _part(before, path) if before is not None else _part(fresh, path)
                if path in excluded.get(name, ()):
                    _put(item, path, kept)
                elif _part(item, path) != kept:
                    where = f"{name}.{path}" if index is None else f"{name}.{index}.{path}"
                    errors[where] = gettext("This field is read-only.")


def _put(document, path, value):
    head, _, rest = path.partition(".")
    if not rest:
        document._data[head] = copy.deepcopy(value)
    elif isinstance(document._data.get(head), model_fields.SubDocument):
        _put(document._data[head], rest, value)
