"""``FileField`` and ``ImageField``: a document that owns an uploaded file.

The file's bytes live beside the documents (``core.db.files``: GridFS on
MongoDB, a blob table on the embedded store); the document holds a small
sub-document describing it::

    {"id": ObjectId(...), "name": "invoice.pdf", "content_type": "application/pdf",
     "size": 48213}                                  # ImageField adds "width", "height"

Assign an ``Upload`` (bytes, the client's file name) and save::

    order.invoice = Upload(data, "invoice.pdf")
    await order.save()            # sniffs, checks, stores the bytes, then the document
    order.invoice.name, order.invoice.size

Checks, on assignment's ``clean()`` and again on save: at most ``max_size``
bytes (default ``FILE_UPLOAD_MAX_BYTES``, 8 MiB), a content type *sniffed from
the bytes* (the client's claim is never trusted) in ``content_types``; an
``ImageField`` decodes the image (off the event loop) and records its size.

Lifetime: saving a document that replaced or cleared a file deletes the old
file after the document is written; a failed save deletes the file it had just
stored; deleting the document deletes its files. The only window for an orphan
is a crash between two of those steps; ``manage.py check --files`` lists any.
Input from forms and the JSON API can only be an ``Upload``, ``None`` (clear) or
the value already stored: a client can never point a document at a file id.
"""
import asyncio
import functools
import io
from dataclasses import asdict, dataclass

from bson import ObjectId

from core.i18n import format_decimal, gettext

from .errors import ValidationError
from .fields import Field

__all__ = ["DEFAULT_CONTENT_TYPES", "DEFAULT_MAX_SIZE", "FileField", "ImageField",
           "IMAGE_CONTENT_TYPES", "StoredFile", "Upload", "sniff_content_type"]

DEFAULT_MAX_SIZE = 8 * 1024 * 1024
IMAGE_CONTENT_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
#: what a ``FileField`` accepts unless told otherwise: documents and images, never
#: anything a browser would run (HTML, SVG, JavaScript)
DEFAULT_CONTENT_TYPES = ("application/pdf", "text/plain", "text/csv") + IMAGE_CONTENT_TYPES
#: text types a client may name for bytes that sniff as plain text
TEXT_TYPES = ("text/plain", "text/csv")
#: pixels an image may have (width × height); bigger ones are refused before decoding
MAX_IMAGE_PIXELS = 50_000_000
FILENAME_MAX_LENGTH = 255


@dataclass(frozen=True)
class Upload:
    """Bytes a user sent, not stored yet. ``content_type`` is the client's claim."""

    data: bytes
    filename: str
    content_type: str = ""

    def __repr__(self):
        return f"<Upload {self.filename!r} {len(self.data)} bytes>"


@dataclass(frozen=True)
class StoredFile:
    """A stored file as the document describes it."""

    id: ObjectId
    name: str
    content_type: str
    size: int
    width: int = None
    height: int = None

    def to_bson(self):
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_bson(cls, doc):
        return cls(doc["id"], doc.get("name", ""), doc.get("content_type",
                   "application/octet-stream"), doc.get("size", 0), doc.get("width"),
                   doc.get("height"))

    def __str__(self):
        return self.name


def sniff_content_type(data, claimed=""):
    """The content type the bytes show (``application/octet-stream`` when unknown).

    Magic numbers decide (``puremagic``: pure Python, maintained, no libmagic);
    bytes with no signature that decode as UTF-8 text without control characters
    are ``text/plain``, or ``text/csv`` when the client said so.
    """
    import puremagic
    try:
        sniffed = puremagic.from_string(bytes(data[:8192]), mime=True)
    except (puremagic.PureError, ValueError):
        sniffed = ""
    if sniffed:
        return sniffed
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    if any(ch < " " and ch not in "\t\r\n\f" for ch in text):
        return "application/octet-stream"
    claimed = (claimed or "").split(";")[0].strip().lower()
    return claimed if claimed in TEXT_TYPES else "text/plain"


def clean_filename(name):
    """A file name safe to store and show: the last path part, no control characters."""
    name = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch >= " " and ch != "\x7f").strip().strip(".")
    return name[:FILENAME_MAX_LENGTH] or "file"


class FileField(Field):
    """A file the document owns (see the module docstring).

    ``max_size``       bytes allowed (default: the ``FILE_UPLOAD_MAX_BYTES`` setting).
    ``content_types``  sniffed types allowed (default ``DEFAULT_CONTENT_TYPES``).
    """

    accepts_containers = True
    default_content_types = DEFAULT_CONTENT_TYPES
    #: a model's own field only: a ``SubDocument``, a ``ListField`` or a ``DictField``
    #: refuses it with a ``TypeError`` when declared (downloads, replacement and cleanup
    #: follow one file per model field)
    top_level_only = True

    def __init__(self, *, max_size=None, content_types=None, **options):
        super().__init__(**options)
        self.max_size = max_size
        self.content_types = tuple(content_types or self.default_content_types)

    def get_max_size(self):
        if self.max_size is not None:
            return self.max_size
        from core.conf import settings
        return int(getattr(settings, "FILE_UPLOAD_MAX_BYTES", DEFAULT_MAX_SIZE))

    # -- conversion ----------------------------------------------------------------
    def coerce(self, value):
        if isinstance(value, StoredFile):
            return value
        if isinstance(value, Upload):
            return self.check_upload(value)
        raise self.error(gettext("Upload a file."))

    def is_empty(self, value):
        return value is None or value == ""

    def check_upload(self, upload):
        """An ``Upload`` with a clean name and its sniffed type, or a ``ValidationError``."""
        if not isinstance(upload.data, (bytes, bytearray, memoryview)):
            raise self.error(gettext("Upload a file."))
        if not upload.data:
            raise self.error(gettext("The file is empty."), code="empty")
        limit = self.get_max_size()
        if len(upload.data) > limit:
            raise self.error(gettext("The file is too large (%(size)s bytes); at most "
                                     "%(limit)s bytes are allowed.")
                             % {"size": format_decimal(len(upload.data)),
                                "limit": format_decimal(limit)},
                             code="too_large")
        content_type = sniff_content_type(upload.data, upload.content_type)
        if content_type not in self.content_types:
            raise self.error(gettext("Files of type %(type)s are not allowed here "
                                     "(allowed: %(allowed)s).")
                             % {"type": content_type, "allowed": ", ".join(self.content_types)},
                             code="content_type")
        return Upload(bytes(upload.data), clean_filename(upload.filename), content_type)

    def to_bson(self, value):
        if value is None:
            return None
        if isinstance(value, Upload):
            raise self.error(gettext("The upload was not stored: save the object."))
        return value.to_bson()

    def from_bson(self, value):
        return StoredFile.from_bson(value) if isinstance(value, dict) and "id" in value \
            else None

    def to_json(self, value):
        if not isinstance(value, StoredFile):
            return None
        out = value.to_bson()
        out.pop("id")
        return out

    def display(self, value):
        return value.name if isinstance(value, (StoredFile, Upload)) else ""

    # -- storage: called by Model.save() / Model.delete() ---------------------------
    async def describe(self, upload):
        """Extra facts recorded with a checked upload (``ImageField``: its size)."""
        return {}

    async def store_pending(self, instance, files):
        """Store an assigned ``Upload`` (before the document is written); return the
        new file's id, or ``None`` when there was nothing to store."""
        value = instance._data.get(self.name)
        if not isinstance(value, Upload):
            return None
        extra = await self.describe(value)
        info = await files.put(value.data, filename=value.filename,
                               content_type=value.content_type,
                               metadata={"model": instance._meta.key, "field": self.name})
        instance._data[self.name] = StoredFile(info.id, value.filename, value.content_type,
                                               info.length, **extra)
        return info.id

    def file_ids(self, doc):
        """The file ids a stored document's value of this field holds."""
        value = (doc or {}).get(self.name)
        return [value["id"]] if isinstance(value, dict) and "id" in value else []


class ImageField(FileField):
    """A ``FileField`` for images: the bytes must decode as one of ``IMAGE_CONTENT_TYPES``
    (Pillow), and ``width``/``height`` are recorded."""

    default_content_types = IMAGE_CONTENT_TYPES

    async def describe(self, upload):
        loop = asyncio.get_running_loop()
        try:
            width, height = await loop.run_in_executor(None, _image_size, upload.data)
        except ValueError as exc:
            raise self.error(str(exc), code="invalid_image") from None
        return {"width": width, "height": height}


def _image_size(data):
    """``(width, height)`` of image bytes, after Pillow fully decoded them."""
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ValueError("The image has too many pixels.")
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ValueError("Upload a valid image; the file is not one or it is damaged.") \
            from None
    return width, height


@functools.lru_cache(maxsize=None)
def file_fields(model):
    """The model's ``FileField``s, by name (computed once per model class: every save and
    delete asks; callers only read the dict)."""
    return {name: field for name, field in model._meta.fields.items()
            if isinstance(field, FileField)}


async def store_uploads(instance, files):
    """Store every pending ``Upload`` of ``instance``; return the new file ids.

    A failure (a damaged image) deletes what this call stored and re-raises it
    as a ``ValidationError`` naming the field.
    """
    stored = []
    try:
        for field in file_fields(type(instance)).values():
            file_id = await field.store_pending(instance, files)
            if file_id is not None:
                stored.append(file_id)
    except ValidationError:
        await delete_files(files, stored)
        raise
    return stored


async def delete_files(files, ids):
    for file_id in ids:
        await files.delete(file_id)


def referenced_ids(model, doc):
    """Every file id a stored document of ``model`` holds."""
    return [file_id for field in file_fields(model).values() for file_id in field.file_ids(doc)]


async def orphaned_files(models, db):
    """``FileInfo``s of stored files no document of ``models`` holds (``manage.py check``).

    Reads every document of the models that have file fields (their file fields
    only). A file uploaded by a request still running shows here for a moment too.
    """
    from core.db.files import files_of
    files = files_of(db)
    held = set()
    for model in models:
        names = file_fields(model)
        if not names:
            continue
        projection = {name: 1 for name in names}
        async for doc in model.get_collection(db).find({}, projection):
            held.update(referenced_ids(model, doc))
    return [info for file_id in await files.ids() if file_id not in held
            for info in [await files.info(file_id)] if info is not None]
