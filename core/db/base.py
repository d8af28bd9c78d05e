"""The async collection API every backend offers, and the shared cursor.

``Collection`` is the subset of motor's ``AsyncIOMotorCollection`` that Bastion
uses (see ``core.db.subset`` for the filters, updates and values it accepts).
A backend subclasses it and implements the ``_``-prefixed hooks; the public
methods validate arguments first, so every backend rejects the same input with
the same ``UnsupportedOperation`` before touching data.
"""
import functools

from pymongo import ReturnDocument

from . import subset


def _counted_write(method):
    """A write method: ``Collection.writes`` counts it once it has finished or failed."""
    @functools.wraps(method)
    async def write(self, *args, **kwargs):
        try:
            return await method(self, *args, **kwargs)
        finally:
            self.writes += 1
    return write


class Cursor:
    """A lazy ``find``: chain ``sort``/``skip``/``limit``, then ``to_list`` or ``async for``.

    Mirrors motor's cursor shape. Nothing runs until the first fetch, which opens
    the backend's cursor (``Collection._open_cursor``); each fetch continues
    where the previous one stopped, and ``async for`` reads in batches of
    ``batch_size``. Documents changed or removed while a cursor is open are
    never skipped because of it: the result set is fixed when it opens.
    """

    batch_size = 100

    def __init__(self, collection, flt, projection, sort=None, skip=0, limit=0):
        self.collection = collection
        self._started = False
        self._exhausted = False
        self._source = None
        self.filter = subset.check_filter(flt)
        self.projection = projection
        subset.normalize_projection(projection)
        self._sort = subset.normalize_sort(sort)
        self._skip = 0
        self._limit = 0
        self.skip(skip)
        self.limit(limit)

    def _check_not_started(self):
        if self._started:
            raise RuntimeError("cannot change a cursor after it has been read")

    def sort(self, key_or_list, direction=None):
        """Order results; ``sort("f", -1)`` or ``sort([("a", 1), ("b", -1)])``."""
        self._check_not_started()
        self._sort = subset.normalize_sort(key_or_list, direction)
        return self

    def skip(self, count):
        self._check_not_started()
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError("skip must be a non-negative integer")
        self._skip = count
        return self

    def limit(self, count):
        """Return at most ``count`` documents (0 means no limit, as in MongoDB)."""
        self._check_not_started()
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError("limit must be a non-negative integer")
        self._limit = count
        return self

    async def to_list(self, length=None):
        """Fetch the next ``length`` documents (all remaining when ``None``) as a list."""
        if length is not None and (isinstance(length, bool) or not isinstance(length, int)
                                   or length < 0):
            raise ValueError("length must be a non-negative integer or None")
        self._started = True
        if self._exhausted:
            return []
        if self._source is None:
            self._source = self.collection._open_cursor(
                self.filter, self.projection, self._sort, self._skip, self._limit)
        docs = await self._source.next_batch(length or None)
        self._exhausted = self._source.exhausted
        return docs

    def __aiter__(self):
        return self._iterate()

    async def _iterate(self):
        while True:
            batch = await self.to_list(self.batch_size)
            for doc in batch:
                yield doc
            if self._exhausted:
                return


class Collection:
    """The async collection subset. Backends implement the ``_`` hooks.

    ``writes`` counts the writes this process has made through this collection (one
    more when each finishes, failed ones included): a cache of what it read may keep
    its answer while the count is the one read before its query (``core.admin`` keeps
    reference labels so). Writes by other processes are not counted."""

    def __init__(self, database, name):
        self.database = database
        self.name = name
        self.writes = 0

    def __repr__(self):
        return f"<{type(self).__name__} {self.database.name}.{self.name}>"

    # -- reads -------------------------------------------------------------
    def find(self, filter=None, projection=None, *, sort=None, skip=0, limit=0):
        return Cursor(self, filter, projection, sort, skip, limit)

    async def find_one(self, filter=None, projection=None, *, sort=None):
        docs = await self.find(filter, projection, sort=sort, limit=1).to_list(1)
        return docs[0] if docs else None

    async def count_documents(self, filter=None, *, skip=0, limit=0):
        """Count matches; ``limit`` caps the count and stops scanning early."""
        for name, value in (("skip", skip), ("limit", limit)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer")
        return await self._count(subset.check_filter(filter), skip, limit)

    async def estimated_document_count(self):
        return await self._estimated_count()

    async def distinct(self, key, filter=None):
        subset.check_path(key)
        return await self._distinct(key, subset.check_filter(filter))

    # -- writes ------------------------------------------------------------
    @_counted_write
    async def insert_one(self, document):
        subset.check_document(document)
        return await self._insert_one(document)

    @_counted_write
    async def insert_many(self, documents, ordered=True, *, checked=False):
        """Insert ``documents``; ``checked=True`` when the caller has just passed each one
        through ``subset.check_document`` (``loaddata``: validated once, not twice)."""
        documents = list(documents)
        if not documents:
            raise TypeError("documents must be a non-empty list")
        if not checked:
            for doc in documents:
                subset.check_document(doc)
        return await self._insert_many(documents, ordered)

    @_counted_write
    async def update_one(self, filter, update, upsert=False):
        return await self._update(subset.check_filter(filter), subset.check_update(update),
                                  upsert, many=False)

    @_counted_write
    async def update_many(self, filter, update, upsert=False):
        return await self._update(subset.check_filter(filter), subset.check_update(update),
                                  upsert, many=True)

    @_counted_write
    async def replace_one(self, filter, replacement, upsert=False):
        return await self._replace_one(subset.check_filter(filter),
                                       subset.check_replacement(replacement), upsert)

    @_counted_write
    async def find_one_and_update(self, filter, update, projection=None, sort=None,
                                  upsert=False, return_document=ReturnDocument.BEFORE):
        subset.normalize_projection(projection)
        return await self._find_one_and_update(
            subset.check_filter(filter), subset.check_update(update), projection,
            subset.normalize_sort(sort), upsert, bool(return_document))

    @_counted_write
    async def delete_one(self, filter):
        return await self._delete(subset.check_filter(filter), many=False)

    @_counted_write
    async def delete_many(self, filter):
        return await self._delete(subset.check_filter(filter), many=True)

    # -- indexes and lifecycle ---------------------------------------------
    async def create_index(self, keys, *, unique=False, name=None, expireAfterSeconds=None):
        """Create an index if missing; return its name.

        ``expireAfterSeconds`` (single datetime field) makes it a TTL index:
        documents are removed some time after that field's value plus the delay.
        """
        spec = subset.normalize_index_keys(keys)
        if expireAfterSeconds is not None and (len(spec) != 1 or unique):
            raise subset.UnsupportedOperation("a TTL index has one field and is not unique")
        return await self._create_index(spec, bool(unique), name or subset.index_name(spec),
                                        expireAfterSeconds)

    async def create_search_index(self, fields):
        """Declare the string ``fields`` a search looks in (case-insensitive literal
        ``$regex``, the admin's ``?q=``) and build what serves such searches best.

        The embedded store keeps an FTS5 trigram index of them, written in the same
        transaction as each document, and answers a literal ``$regex`` of three or more
        characters on them from it (same results as without it); MongoDB gets an
        ascending index per field (see docs/storage.md). Declaring other fields replaces
        the declaration; ``[]`` removes it. Idempotent; returns the index names.
        """
        fields = list(dict.fromkeys(fields))
        for path in fields:
            subset.check_path(path)
            if path == "_id":
                raise subset.UnsupportedOperation("_id is not a search field")
        return await self._create_search_index(fields)

    async def index_information(self):
        """``{name: {"key": [(path, dir)], "unique": bool, ...}}`` like pymongo."""
        return await self._index_information()

    @_counted_write
    async def drop(self):
        await self._drop()
