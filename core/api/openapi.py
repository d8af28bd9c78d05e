"""``/api/openapi.json``: an OpenAPI 3.0 document for the models the caller may use.

Schemas come from the model fields (type, ``required``, ``enum`` for choices,
``maxLength``/``minLength``, ``minimum``/``maximum``, formats ``date-time``,
``date``, ``email`` and ``uri``, references as 24-hex ids, decimals as strings
with ``format: decimal``, sub-documents as nested object schemas, lists with
their items' schema, typed dicts with ``additionalProperties``). Paths and
operations are only those the caller's permissions allow: ``read`` → the GETs,
``write`` → POST, ``read`` and
``write`` → PUT/PATCH (a write answers with the object: seeing is reading),
``delete`` → DELETE. A model the caller may not use at all is left out.
"""
from core.models import fields as model_fields
from core.models.files import FileField

from .serialization import ROW, readable_fields, row_lists, writable_fields

__all__ = ["build_openapi", "field_schema"]

ID_SCHEMA = {"type": "string", "pattern": "^[0-9a-f]{24}$"}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
        "version": {"type": "integer", "nullable": True},
    },
}
# what POST answers a caller who may write but not read the model
CREATED_UNREADABLE = {"type": "object", "required": ["id", "version"], "properties": {
    "id": ID_SCHEMA, "version": {"type": "integer"}}}
ERROR_STATUSES = {
    "400": "Malformed JSON, cursor or query argument",
    "401": "Not authenticated (missing, unknown, revoked or expired token)",
    "403": "Not permitted (the model grant or the object rule)",
    "404": "No such model or object",
    "409": "Stale version or a taken unique value",
    "413": "Body too large",
    "415": "The body is not application/json",
    "422": "Invalid or unknown fields",
}


def _choice_type(values):
    if all(isinstance(v, bool) for v in values):
        return "boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "integer"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "number"
    if all(isinstance(v, str) for v in values):
        return "string"
    return None


def _strict_choices(field):
    """Are the choices the only values? (An "open" choice field that overrides the
    conversion, like the audit log's action, only suggests them.)"""
    if isinstance(field, model_fields.ChoiceField):
        return type(field).coerce is model_fields.ChoiceField.coerce
    return True


FILE_SCHEMA = {"type": "object", "readOnly": True, "required": ["name", "content_type", "size"],
               "properties": {"name": {"type": "string"}, "content_type": {"type": "string"},
                              "size": {"type": "integer"}, "width": {"type": "integer"},
                              "height": {"type": "integer"},
                              "url": {"type": "string", "description": "GET the bytes, PUT "
                                      "new ones, DELETE to clear"}}}
BINARY = {"type": "string", "format": "binary"}


def _decimal_schema(field):
    whole = field.max_digits - field.decimal_places
    places = rf"(\.\d{{1,{field.decimal_places}}})?" if field.decimal_places else ""
    return {"type": "string", "format": "decimal",
            "pattern": rf"^-?\d{{1,{max(whole, 1)}}}{places}$",
            "description": f"an exact decimal as text, at most {field.max_digits} digits, "
                           f"{field.decimal_places} after the point"}


def _document_schema(document):
    props = {name: _nullable(field_schema(sub), sub) for name, sub in document._fields.items()}
    schema = {"type": "object", "properties": props, "additionalProperties": False}
    required = [name for name, sub in document._fields.items() if sub.required]
    if required:
        schema["required"] = required
    return schema


def field_schema(field):
    """The JSON schema of one model field's JSON value."""
    if isinstance(field, FileField):
        return dict(FILE_SCHEMA)
    if isinstance(field, model_fields.ListField):
        schema = {"type": "array", "items": field_schema(field.item_field)}
        if field.choices is not None and _strict_choices(field):
            schema["items"] = {"enum": [value for value, _ in field.choices]}
        if field.max_items is not None:
            schema["maxItems"] = field.max_items
        if field.min_items is not None:
            schema["minItems"] = field.min_items
        if field.unique_items:
            schema["uniqueItems"] = True
        return schema
    if isinstance(field, model_fields.EmbeddedField):
        return _document_schema(field.document)
    if isinstance(field, model_fields.DictField):
        schema = {"type": "object", "description": "keys may not start with $ or hold a dot"}
        if field.value_field is not None:
            schema["additionalProperties"] = field_schema(field.value_field)
        return schema
    if isinstance(field, model_fields.DecimalField):
        return _decimal_schema(field)
    if isinstance(field, model_fields.DateField):
        return {"type": "string", "format": "date"}
    if field.choices is not None and _strict_choices(field):
        values = [value for value, _ in field.choices]
        kind = _choice_type(values)
        schema = {"enum": values}
        if kind:
            schema["type"] = kind
        return schema
    if isinstance(field, model_fields.ReferenceField):
        return dict(ID_SCHEMA)
    if isinstance(field, model_fields.DateTimeField):
        return {"type": "string", "format": "date-time"}
    if isinstance(field, model_fields.BooleanField):
        return {"type": "boolean"}
    if isinstance(field, model_fields.IntegerField):
        schema = {"type": "integer", "format": "int64"}
    elif isinstance(field, model_fields.FloatField):
        schema = {"type": "number"}
    else:
        schema = None
    if schema is not None:
        if field.min_value is not None:
            schema["minimum"] = field.min_value
        if field.max_value is not None:
            schema["maximum"] = field.max_value
        return schema
    if isinstance(field, model_fields.StringField):
        schema = {"type": "string"}
        if isinstance(field, model_fields.EmailField):
            schema["format"] = "email"
        elif isinstance(field, model_fields.URLField):
            schema["format"] = "uri"
        elif isinstance(field, model_fields.SlugField):
            schema["pattern"] = r"^[-\w]+$" if field.allow_unicode else r"^[-a-zA-Z0-9_]+$"
        if field.max_length is not None:
            schema["maxLength"] = field.max_length
        if field.min_length is not None:
            schema["minLength"] = field.min_length
        return schema
    if getattr(field, "accepts_containers", False):
        return {"type": "object"}
    return {}


def _nullable(schema, field):
    if field.required or not schema:
        return schema
    return {**schema, "nullable": True}


ROW_SCHEMA = {"type": "integer", "minimum": 0,
              "description": "the row's stored position, as read; leave it out for a new "
                             "row (its hidden parts are kept from that row)"}


def _with_rows(schema, name, rows):
    """``schema`` of list field ``name`` with ``ROW`` in its items when ``name`` is one of
    ``rows`` (``serialization.row_lists``)."""
    if name not in rows or "properties" not in schema.get("items", {}):
        return schema
    items = schema["items"]
    return {**schema, "items": {**items, "properties": {**items["properties"],
                                                        ROW: dict(ROW_SCHEMA)}}}


def _object_schema(model_admin, handler):
    props = {"id": dict(ID_SCHEMA), "version": {"type": "integer"}}
    rows = row_lists(model_admin, handler)
    for name, field in readable_fields(model_admin, handler).items():
        schema = _nullable(_with_rows(field_schema(field), name, rows), field)
        if field.help_text:
            schema = {**schema, "description": str(field.help_text)}
        props[name] = schema
    return {"type": "object", "required": list(props), "properties": props}


def _input_schema(fields, required=(), version=False, rows=()):
    props = {name: _nullable(_with_rows(field_schema(field), name, rows), field)
             for name, field in fields.items()}
    if version:
        props["version"] = {"type": "integer", "description": "the version you read; "
                                                              "another one is a 409"}
    schema = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


def _errors(*codes):
    return {code: {"description": ERROR_STATUSES[code],
                   "content": {"application/json": {"schema": {
                       "$ref": "#/components/schemas/Error"}}}}
            for code in codes}


def _json(ref_or_schema):
    return {"application/json": {"schema": ref_or_schema}}


def _file_paths(admin, name, base, can_write, handler):
    """The ``files/<field>`` operations of a model's readable file fields."""
    paths = {}
    for field_name, field in readable_fields(admin, handler).items():
        if not isinstance(field, FileField):
            continue
        ops = {"get": {"operationId": f"download_{name}_{field_name}",
                       "summary": f"Download the {field.verbose_name}",
                       "responses": {"200": {"description": "The file's bytes",
                                             "content": {"*/*": {"schema": BINARY}}},
                                     **_errors("401", "403", "404")}}}
        if can_write:
            saved = {"200": {"description": "Saved", "content": _json(
                {"$ref": f"#/components/schemas/{name}"})}}
            ops["put"] = {
                "operationId": f"upload_{name}_{field_name}",
                "summary": f"Upload the {field.verbose_name} (the body is the file)",
                "parameters": [{"name": "filename", "in": "query", "schema": {
                    "type": "string"}, "description": "the file's name (or send "
                    "Content-Disposition)"}],
                "requestBody": {"required": True, "content": {"*/*": {"schema": BINARY}}},
                "responses": {**saved, **_errors("400", "401", "403", "404", "409", "413",
                                                 "422")}}
            ops["delete"] = {"operationId": f"clear_{name}_{field_name}",
                             "summary": f"Clear the {field.verbose_name}",
                             "responses": {**saved, **_errors("401", "403", "404", "409")}}
        ops["parameters"] = [{"name": "id", "in": "path", "required": True,
                              "schema": {"type": "string"}}]
        paths[f"{base}{{id}}/files/{field_name}"] = ops
    return paths


def build_openapi(site, handler):
    """The OpenAPI document for ``handler``'s user (``site``: the ``AdminSite``)."""
    paths = {}
    schemas = {"Error": ERROR_SCHEMA}
    for admin in (site.admins.values() if site is not None else ()):
        can_read = admin.may(handler, "read")
        can_write = admin.may(handler, "write")
        can_delete = admin.may(handler, "delete")
        if not (can_read or can_write or can_delete):
            continue
        name = admin.key.replace(".", "_")
        label = admin.opts.verbose_name
        schemas[name] = _object_schema(admin, handler)
        ref = {"$ref": f"#/components/schemas/{name}"}
        base = f"/api/{admin.opts.app_label}/{admin.opts.model_name}/"
        sortable = [n for n in admin.get_sortable_fields(handler)
                    if n in admin.opts.fields and n in readable_fields(admin, handler)
                    and not getattr(admin.opts.fields[n], "accepts_containers", False)]
        list_params = [
            {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200},
             "description": "search (every word in some search field)"},
            {"name": "o", "in": "query", "schema": {"type": "string", "enum": sorted(
                sortable + [f"-{f}" for f in sortable])}},
            {"name": "cursor", "in": "query", "schema": {"type": "string"},
             "description": "the next/previous token of a previous page"},
            {"name": "per_page", "in": "query", "schema": {
                "type": "integer", "enum": list(admin.list_per_page_choices)}},
        ]
        for filter_name in admin.get_list_filter(handler):
            field = admin.opts.fields.get(filter_name)
            if field is None:
                continue
            schema = field_schema(field)
            if isinstance(field, model_fields.BooleanField):
                schema = {"type": "string", "enum": ["true", "false", "1", "0"]}
            list_params.append({"name": filter_name, "in": "query", "schema": schema})
        list_ops = {"get": {
            "operationId": f"list_{name}", "summary": f"List {admin.opts.verbose_name_plural}",
            "parameters": list_params,
            "responses": {"200": {"description": "One page", "content": _json({
                "type": "object", "required": ["results", "next", "count"],
                "properties": {
                    "results": {"type": "array", "items": ref},
                    "next": {"type": "string", "nullable": True},
                    "previous": {"type": "string", "nullable": True},
                    "count": {"oneOf": [{"type": "integer"}, {"type": "string"}]}}})},
                **_errors("400", "401", "403", "404")}}}
        object_ops = {"get": {
            "operationId": f"get_{name}", "summary": f"Read one {label}",
            "responses": {"200": {"description": "The object", "content": _json(ref)},
                          **_errors("401", "403", "404")}}}
        if not can_read:                         # seeing is reading: no GET, no PUT/PATCH
            list_ops, object_ops = {}, {}
        if can_write:
            writable = writable_fields(admin, handler)
            required = [n for n, f in writable.items() if f.required and not f.has_default()]
            rows = row_lists(admin, handler)
            schemas[f"{name}_create"] = _input_schema(writable, required)
            schemas[f"{name}_replace"] = _input_schema(writable, required, version=True,
                                                       rows=rows)
            schemas[f"{name}_update"] = _input_schema(writable, version=True, rows=rows)
            body_errors = _errors("400", "401", "403", "404", "409", "413", "415", "422")
            list_ops["post"] = {
                "operationId": f"create_{name}", "summary": f"Create a {label}",
                "requestBody": {"required": True, "content": _json(
                    {"$ref": f"#/components/schemas/{name}_create"})},
                "responses": {"201": {"description": "Created", "content": _json(
                    ref if can_read else CREATED_UNREADABLE)}, **body_errors}}
        if can_write and can_read:
            object_ops["put"] = {
                "operationId": f"replace_{name}", "summary": f"Replace a {label}",
                "requestBody": {"required": True, "content": _json(
                    {"$ref": f"#/components/schemas/{name}_replace"})},
                "responses": {"200": {"description": "Saved", "content": _json(ref)},
                              **body_errors}}
            object_ops["patch"] = {
                "operationId": f"update_{name}", "summary": f"Change a {label}",
                "requestBody": {"required": True, "content": _json(
                    {"$ref": f"#/components/schemas/{name}_update"})},
                "responses": {"200": {"description": "Saved", "content": _json(ref)},
                              **body_errors}}
        if can_delete:
            object_ops["delete"] = {
                "operationId": f"delete_{name}", "summary": f"Delete a {label}",
                "responses": {"204": {"description": "Deleted"},
                              **_errors("401", "403", "404", "409")}}
        if list_ops:
            paths[base] = list_ops
        if object_ops:
            object_ops["parameters"] = [{"name": "id", "in": "path", "required": True,
                                         "schema": {"type": "string"}}]
            paths[base + "{id}"] = object_ops
        if can_read:
            paths.update(_file_paths(admin, name, base, can_write, handler))
    return {
        "openapi": "3.0.3",
        "info": {"title": "Bastion API", "version": "1",
                 "description": "The models you may use, with your permissions."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearerAuth": []}],
    }
