"""``/api/<app>/<model>/<id>/files/<field>``: one file of one object, through the API.

======== ============= ==========================================================
GET      read          the bytes, as the admin's download page streams them
PUT      write (+read) the body's bytes become the field's file; the name comes from
                       ``?filename=`` (else ``Content-Disposition``); answers the
                       object (its ``version`` moved on), 422 when the file is refused
DELETE   write (+read) clears the field; answers the object
======== ============= ==========================================================

A JSON body can never set a file field (it shows ``{"name", "content_type", "size",
"url"}``); this is the one way to upload through the API. Writes take the version the
client saw in ``If-Match`` (409 on another one), run the admin's save hooks and write
the audit entry, like every API write. The body limit is the field's ``max_size``
(``FILE_UPLOAD_MAX_BYTES`` by default) instead of ``API_MAX_BODY_SIZE``.
"""
import email.message

from core.admin.views.files import shown_file_fields, stream_file
from core.admin.views.request import ObjectLoading
from core.models.files import FileField, StoredFile, Upload

from .handlers import ApiError, ApiHandler, _site_model_admin
from .serialization import to_representation

__all__ = ["ApiFileHandler"]


class ApiFileHandler(ObjectLoading, ApiHandler):
    """GET, PUT or DELETE the file of one ``FileField`` of one object."""

    allowed_methods = ("GET", "PUT", "DELETE")
    post = patch = ApiHandler.method_not_allowed

    def resolve_model_admin(self):
        self.model_admin = _site_model_admin(self)
        name = self.path_args[3] if len(self.path_args) > 3 else None
        field = self.model_admin.opts.fields.get(name)
        if not isinstance(field, FileField):
            raise ApiError(404, self.gettext("The %(name)s has no file field %(field)s.") % {
                "name": self.model_admin.opts.verbose_name, "field": repr(str(name)[:100])})
        self.file_field = field

    def max_body_size(self):
        return self.file_field.get_max_size() if self.request.method == "PUT" else \
            super().max_body_size()

    async def prepare(self):
        self.resolve_model_admin()             # the body limit depends on the field
        await super().prepare()

    def required_action(self):
        needed = {"GET": "read", "PUT": "write", "DELETE": "write"}.get(self.request.method)
        if needed is not None:
            self.action = needed
        self.needs_read = needed == "write"
        return needed

    async def load(self, object_id, name):
        obj = await self.get_object(object_id)
        if name not in shown_file_fields(self, obj):
            raise ApiError(404, self.gettext("The %(name)s has no file field %(field)s.") % {
                "name": self.opts.verbose_name, "field": repr(name)})
        return obj

    def filename(self):
        name = self.get_query_argument("filename", None)
        if name is None:
            header = self.request.headers.get("Content-Disposition")
            if header:
                message = email.message.Message()
                message["Content-Disposition"] = header
                name = message.get_filename()
        if not name:
            raise ApiError(400, self.gettext("Name the file: ?filename=invoice.pdf or a "
                                             "Content-Disposition header."))
        return name

    def expected_version(self):
        header = (self.request.headers.get("If-Match") or "").strip()
        if not header or header == "*":
            return None
        text = header[2:] if header.startswith("W/") else header
        text = text.strip('"')
        if not text.isdigit() or len(text) > 18:
            raise ApiError(400, self.gettext("If-Match takes the object's version, e.g. "
                                             "If-Match: %(example)s.") % {"example": '"3"'})
        return int(text)

    async def get(self, app_label, model_name, object_id, name):
        obj = await self.load(object_id, name)
        value = obj._data.get(name)
        if not isinstance(value, StoredFile):
            raise ApiError(404, self.gettext("The field holds no file."))
        await stream_file(self, value)

    async def change_file(self, object_id, name, value):
        """Set the field to ``value`` (an ``Upload`` or ``None``) and save, audited."""
        obj = await self.load(object_id, name)
        if name in self.model_admin.frozen_fields(self):      # -write:FIELD
            raise ApiError(422, self.gettext("The body has invalid fields."),
                           {name: self.gettext("This field is read-only.")})
        expected = self.expected_version()
        if expected is not None and expected != obj.version:
            raise ApiError(409, self.gettext("The object is at version %(version)s, not "
                                             "%(expected)s: someone changed it. Reload it and "
                                             "try again.") % {"version": obj.version,
                                                              "expected": expected},
                           version=obj.version)
        before = self.snapshot(obj)
        obj._data[name] = value
        await self.save(obj, change=True, before=before)
        self.set_header("ETag", f'"{obj.version}"')
        self.respond(to_representation(self.model_admin, obj, self))

    async def put(self, app_label, model_name, object_id, name):
        upload = Upload(self.request.body or b"", self.filename(),
                        self.request.headers.get("Content-Type", ""))
        await self.change_file(object_id, name, upload)

    async def delete(self, app_label, model_name, object_id, name):
        await self.change_file(object_id, name, None)
