"""``/admin/<app>/<model>/<id>/file/<field>/``: a file the object holds, to a reader.

The object is loaded like every object page (row scope, object rule, ``read``);
the field must be a ``FileField`` the user's page shows. The bytes stream chunk by
chunk with the stored (sniffed, allow-listed) content type, ``nosniff`` and a
sandboxing CSP; images open in the browser, everything else downloads, under a
file name reduced to something no header or browser can misread.
"""
from urllib.parse import quote

from core.db.files import FileMissing, files_of
from core.handlers.base import HTTPError
from core.models.files import IMAGE_CONTENT_TYPES, FileField, StoredFile

from .display import is_hidden
from .request import ModelRequestHandler, ObjectLoading

__all__ = ["FileDownloadHandler", "content_disposition", "shown_file_fields", "stream_file"]


def content_disposition(filename, inline=False):
    """A ``Content-Disposition`` value: an ASCII ``filename`` and the exact UTF-8 one."""
    ascii_name = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\;'
                         else "_" for ch in filename) or "file"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def stream_file(handler, value):
    """Answer ``handler``'s request with the stored file ``value`` (``StoredFile``), chunk
    by chunk, under the headers the module docstring names; 404 when it is gone."""
    chunks = files_of(handler.db).stream(value.id)
    try:
        first = await anext(chunks)
    except (FileMissing, StopAsyncIteration):
        raise HTTPError(404, handler.gettext("The file is missing.")) from None
    handler.set_header("Content-Type", value.content_type)
    handler.set_header("Content-Length", str(value.size))
    handler.set_header("Content-Disposition", content_disposition(
        value.name, inline=value.content_type in IMAGE_CONTENT_TYPES))
    handler.set_header("Content-Security-Policy", "default-src 'none'; sandbox")
    handler.set_header("X-Content-Type-Options", "nosniff")
    handler.write(first)
    try:
        async for chunk in chunks:
            await handler.flush()
            handler.write(chunk)
    except FileMissing:                   # deleted mid-download: cut the response
        handler.request.connection.close()
        return
    handler.finish()


def shown_file_fields(handler, obj):
    """The file fields of ``obj`` the user's pages show (``get_fields`` minus hidden and
    excluded ones): the only ones a download or an upload may name."""
    admin = handler.model_admin
    names = [n for n in admin.get_fields(handler, obj) if n not in admin.exclude]
    fields = handler.opts.fields
    return {name: fields[name] for name in names
            if isinstance(fields.get(name), FileField) and not is_hidden(fields[name])}


class FileDownloadHandler(ObjectLoading, ModelRequestHandler):
    """Streams one ``FileField`` value of one object (``read`` on the object)."""

    action = "read"

    async def get(self, object_id, field_name):
        obj = await self.get_object(object_id)
        if field_name not in shown_file_fields(self, obj):
            raise HTTPError(404, self.gettext("No such file."))
        value = obj._data.get(field_name)
        if not isinstance(value, StoredFile):
            raise HTTPError(404, self.gettext("No file here."))
        await stream_file(self, value)
