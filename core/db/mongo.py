"""The MongoDB backend: motor (default) or PyMongo's ``AsyncMongoClient``.

Both drivers expose the same async collection API, so one class serves both;
only the client constructor differs. Arguments were validated by
``core.db.base.Collection`` before reaching these hooks.
"""
import datetime
import functools
import logging

from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from . import subset
from .base import Collection
from .database import Database
from .files import GridFiles
from .projection import project

DRIVERS = ("motor", "pymongo")
NOT_IMPLEMENTED = 238
log = logging.getLogger("bastion.db")


def make_client(url, driver):
    """Build the async client for ``driver`` ('motor' or 'pymongo')."""
    options = dict(tz_aware=True, tzinfo=datetime.timezone.utc, connect=False)
    if "serverselectiontimeoutms" not in url.lower():
        options["serverSelectionTimeoutMS"] = 5000   # fail fast unless the URL says otherwise
    if driver == "motor":
        from motor.motor_asyncio import AsyncIOMotorClient
        return AsyncIOMotorClient(url, **options)
    if driver == "pymongo":
        from pymongo import AsyncMongoClient
        return AsyncMongoClient(url, **options)
    raise ValueError(f"MONGO_DRIVER must be one of {', '.join(DRIVERS)}, not {driver!r}")


def _is_duplicate(error):
    return error.code in (11000, 11001, 12582) or "UNIQUE constraint failed" in str(error)


def duplicates_as_duplicate_key_error(method):
    """Make every server report a unique-index violation as ``DuplicateKeyError``.

    MongoDB does; FerretDB v1 answers an *update* that breaks a unique index
    with a generic ``OperationFailure`` (code 1, "UNIQUE constraint failed").
    """
    @functools.wraps(method)
    async def wrapper(*args, **kwargs):
        try:
            return await method(*args, **kwargs)
        except (DuplicateKeyError, BulkWriteError):
            raise
        except OperationFailure as exc:
            if not _is_duplicate(exc):
                raise
            raise DuplicateKeyError(str(exc), 11000, exc.details) from exc
    return wrapper


class NativeSource:
    """A cursor's source on MongoDB: the driver's server-side cursor."""

    def __init__(self, cursor):
        self.cursor = cursor
        self.exhausted = False

    async def next_batch(self, length):
        docs = await self.cursor.to_list(length)
        self.exhausted = length is None or len(docs) < length
        return docs


class MongoCollection(Collection):
    def __init__(self, database, name):
        super().__init__(database, name)
        self.native = database.native[name]

    def _open_cursor(self, flt, projection, sort, skip, limit):
        cursor = self.native.find(flt, projection, skip=skip, limit=limit)
        if sort:
            cursor = cursor.sort(sort)
        return NativeSource(cursor)

    async def _count(self, flt, skip, limit):
        options = {}
        if skip:
            options["skip"] = skip
        if limit:
            options["limit"] = limit
        return await self.native.count_documents(flt, **options)

    async def _estimated_count(self):
        return await self.native.estimated_document_count()

    async def _distinct(self, key, flt):
        return await self.native.distinct(key, flt)

    @duplicates_as_duplicate_key_error
    async def _insert_one(self, document):
        return await self.native.insert_one(document)

    @duplicates_as_duplicate_key_error
    async def _insert_many(self, documents, ordered):
        return await self.native.insert_many(documents, ordered=ordered)

    @duplicates_as_duplicate_key_error
    async def _update(self, flt, update, upsert, many):
        method = self.native.update_many if many else self.native.update_one
        return await method(flt, update, upsert=upsert)

    @duplicates_as_duplicate_key_error
    async def _replace_one(self, flt, replacement, upsert):
        return await self.native.replace_one(flt, replacement, upsert=upsert)

    @duplicates_as_duplicate_key_error
    async def _find_one_and_update(self, flt, update, projection, sort, upsert, after):
        # the projection is applied here: FerretDB v1 has no findAndModify "fields"
        doc = await self.native.find_one_and_update(
            flt, update, sort=sort or None, upsert=upsert,
            return_document=ReturnDocument.AFTER if after else ReturnDocument.BEFORE)
        return None if doc is None else project(doc, *subset.normalize_projection(projection))

    async def _delete(self, flt, many):
        method = self.native.delete_many if many else self.native.delete_one
        return await method(flt)

    @duplicates_as_duplicate_key_error
    async def _create_index(self, spec, unique, name, expire_after):
        options = {"name": name}
        if unique:
            options["unique"] = True
        if expire_after is not None:
            options["expireAfterSeconds"] = expire_after
        try:
            return await self.native.create_index(spec, **options)
        except OperationFailure as exc:
            if expire_after is None or exc.code != NOT_IMPLEMENTED:
                raise
        # FerretDB v1 has no TTL indexes: keep the index for queries; expiry must be
        # (and in Bastion is) enforced when documents are read
        log.warning("server has no TTL indexes; %s.%s is a plain index", self.name, name)
        options.pop("expireAfterSeconds")
        return await self.native.create_index(spec, **options)

    async def _create_search_index(self, fields):
        # an ascending index per field: a case-insensitive $regex then reads the index's
        # keys instead of every document, and a case-sensitive ^prefix seeks in it. A
        # field that already leads an index (a unique one, say) is served by that index:
        # MongoDB refuses a second index on the same key under another name.
        leading = {info["key"][0][0]: name
                   for name, info in (await self.native.index_information()).items()}
        names = []
        for path in fields:
            if path in leading:
                names.append(leading[path])
            else:
                names.append(await self._create_index([(path, 1)], False, f"search_{path}",
                                                      None))
        return names

    async def _index_information(self):
        return await self.native.index_information()

    async def _drop(self):
        await self.native.drop()


class MongoDatabase(Database):
    collection_class = MongoCollection
    files_class = GridFiles

    def __init__(self, url, name, driver="motor"):
        super().__init__(name)
        self.driver = driver
        self.backend = driver
        self.client = make_client(url, driver)
        self.native = self.client[name]

    async def ping(self):
        await self.native.command("ping")

    async def list_collection_names(self):
        return sorted(await self.native.list_collection_names())

    async def drop_collection(self, name):
        self._collections.pop(name, None)
        await self.native.drop_collection(name)

    async def drop(self):
        self._collections.clear()
        await self.client.drop_database(self.name)

    async def close(self):
        result = self.client.close()
        if hasattr(result, "__await__"):
            await result
