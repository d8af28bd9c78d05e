"""Binary files beside the documents: GridFS on MongoDB, a blob table on the embedded store.

One async API on every backend, reached through ``files_of(db)``::

    files = files_of(db)
    info = await files.put(data, filename="invoice.pdf", content_type="application/pdf")
    info.id, info.length, info.content_type, info.metadata
    async for chunk in files.stream(info.id):   # FileMissing when it is gone
        ...
    await files.delete(info.id)                  # True when something was removed
    await files.ids()                            # every stored id (orphan checks)

Files are immutable: replacing one is storing a new file and deleting the old
one. Ids are ObjectIds on every backend. Whoever stores a file owns its
lifetime; ``core.models.files.FileField`` ties it to the document that holds it.
"""
import datetime
from dataclasses import dataclass, field

from bson import ObjectId
from bson.errors import InvalidId

__all__ = ["CHUNK_SIZE", "FileInfo", "FileMissing", "Files", "files_of"]

#: bytes per stored chunk (GridFS's default)
CHUNK_SIZE = 255 * 1024
#: the GridFS bucket name on MongoDB (collections ``files.files`` and ``files.chunks``)
BUCKET = "files"


class FileMissing(LookupError):
    """No stored file has this id (never stored, or deleted)."""


@dataclass(frozen=True)
class FileInfo:
    """What is known of a stored file without reading it."""

    id: ObjectId
    filename: str
    content_type: str
    length: int
    uploaded: datetime.datetime
    metadata: dict = field(default_factory=dict)


def as_file_id(value):
    """``value`` as an ObjectId, or ``None`` when it cannot be one."""
    if isinstance(value, ObjectId):
        return value
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        return None


class Files:
    """The file API of one database; backends implement the ``_`` hooks."""

    chunk_size = CHUNK_SIZE

    def __init__(self, db):
        self.db = db

    async def put(self, data, *, filename, content_type, metadata=None, file_id=None,
                  uploaded=None):
        """Store ``data`` (bytes) as a new file and return its ``FileInfo``.

        ``file_id`` and ``uploaded`` are for ``loaddata``, which restores a dumped file
        as it was (an id already stored is an error of the backend)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("file data must be bytes")
        info = FileInfo(file_id or ObjectId(), str(filename), str(content_type), len(data),
                        uploaded or _now(), dict(metadata or {}))
        await self._put(info, bytes(data))
        return info

    async def info(self, file_id):
        """The ``FileInfo`` of ``file_id``, or ``None``."""
        file_id = as_file_id(file_id)
        return None if file_id is None else await self._info(file_id)

    async def stream(self, file_id):
        """Yield the file's bytes chunk by chunk; ``FileMissing`` when there is no such file."""
        file_id = as_file_id(file_id)
        if file_id is None:
            raise FileMissing(file_id)
        async for chunk in self._stream(file_id):
            yield chunk

    async def read(self, file_id):
        """The whole file as bytes (small files only; pages stream)."""
        return b"".join([chunk async for chunk in self.stream(file_id)])

    async def delete(self, file_id):
        """Remove the file; ``True`` when there was one."""
        file_id = as_file_id(file_id)
        return False if file_id is None else await self._delete(file_id)

    async def ids(self):
        """Every stored file id (``manage.py check`` compares them with the documents)."""
        return await self._ids()

    def _chunks(self, data):
        return [data[i:i + self.chunk_size] for i in range(0, len(data), self.chunk_size)] \
            or [b""]


def _now():
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class GridFiles(Files):
    """GridFS through the database's driver (motor's bucket or PyMongo's async one)."""

    def __init__(self, db):
        super().__init__(db)
        if db.driver == "motor":
            from motor.motor_asyncio import AsyncIOMotorGridFSBucket as Bucket
        else:
            from gridfs import AsyncGridFSBucket as Bucket
        self.bucket = Bucket(db.native, bucket_name=BUCKET, chunk_size_bytes=self.chunk_size)
        self.catalog = db.native[f"{BUCKET}.files"]

    async def _put(self, info, data):
        metadata = {"contentType": info.content_type, **info.metadata}
        await self.bucket.upload_from_stream_with_id(info.id, info.filename, data,
                                                     metadata=metadata)
        # GridFS stamps the upload time itself; a restored file keeps its own
        await self.catalog.update_one({"_id": info.id}, {"$set": {"uploadDate": info.uploaded}})

    @staticmethod
    def _info_of(doc):
        metadata = dict(doc.get("metadata") or {})
        content_type = metadata.pop("contentType", "application/octet-stream")
        uploaded = doc["uploadDate"]
        if uploaded.tzinfo is None:
            uploaded = uploaded.replace(tzinfo=datetime.timezone.utc)
        return FileInfo(doc["_id"], doc.get("filename") or "", content_type, doc["length"],
                        uploaded, metadata)

    async def _info(self, file_id):
        doc = await self.catalog.find_one({"_id": file_id})
        return None if doc is None else self._info_of(doc)

    async def _stream(self, file_id):
        from gridfs.errors import NoFile
        try:
            download = await self.bucket.open_download_stream(file_id)
        except NoFile:
            raise FileMissing(file_id) from None
        while True:
            chunk = await download.readchunk()
            if not chunk:
                return
            yield chunk

    async def _delete(self, file_id):
        from gridfs.errors import NoFile
        try:
            await self.bucket.delete(file_id)
        except NoFile:
            return False
        return True

    async def _ids(self):
        return [doc["_id"] async for doc in self.catalog.find({}, {"_id": 1})]


def files_of(db):
    """The ``Files`` of ``db`` (one per database object)."""
    files = getattr(db, "_files", None)
    if files is None:
        files = db._files = db.files_class(db)
    return files
