"""The embedded backend: documents in SQLite, behind the same async API as motor.

Where SQLite work runs: writes on one writer thread (SQLite has one writer at a
time anyway), reads that may scan or decode many documents on two reader
threads, and *point reads* — documents by ``_id`` (one, or an ``$in`` of at most
``POINT_READ_IDS``), the estimated count — on the event loop's own thread, where
they cost a B-tree lookup instead of two thread hand-offs. A read of at most
``BOUNDED_READ_LIMIT`` documents (a list page) is tried there too, within
``store.INLINE_READ_STEPS`` SQLite steps: one that would take more (it scans) is
stopped and read again on a reader thread. A read on the loop never waits on a lock:
its connection's busy timeout is ``INLINE_BUSY_MS``, and a busy database sends the
read to a reader thread instead. ``:memory:`` lives in one
connection, so everything runs on its single thread. docs/storage.md has the
measurements behind this split.
"""
import asyncio
import contextlib
import datetime
import functools
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bson import ObjectId
from pymongo.results import DeleteResult, InsertManyResult, InsertOneResult, UpdateResult

from ..base import Collection
from ..database import Database, check_writes
from ..errors import BulkWriteError, DuplicateKeyError
from ..files import files_of
from .. import subset
from ..projection import project
from . import files, shapes
from .store import INLINE_READ_STEPS, Store

READER_THREADS = 2
TTL_SWEEP_SECONDS = 60
#: the most ``_id`` values a read may name and still run on the event loop's thread
POINT_READ_IDS = 50
#: the largest ``limit`` of a read tried on the event loop's thread within
#: ``store.INLINE_READ_STEPS``: an admin list page of 50 (``admin.options.DEFAULT_PER_PAGE``)
#: and the row that says there is a next
BOUNDED_READ_LIMIT = 51


def point_read_size(flt):
    """The most documents ``flt`` can match if it is ``{"_id": value}`` (1) or
    ``{"_id": {"$in": [at most POINT_READ_IDS values]}}`` (their number), else None.
    (Such a read is answered from the ``_id`` index: bounded, cheap enough for the loop.)"""
    if not isinstance(flt, dict) or len(flt) != 1 or "_id" not in flt:
        return None
    value = flt["_id"]
    if isinstance(value, dict):
        ids = value.get("$in") if len(value) == 1 else None
        if isinstance(ids, (list, tuple)) and len(ids) <= POINT_READ_IDS and not any(
                isinstance(i, (dict, list, tuple)) for i in ids):
            return len(ids)
        return None
    return None if isinstance(value, (list, tuple)) else 1


def is_point_filter(flt):
    return point_read_size(flt) is not None


#: the most values (keys, list items, scalars) a bounded read's filter may hold: compiling
#: it to SQL is Python work on the loop that the SQLite step bound does not count
BOUNDED_FILTER_VALUES = shapes.MAX_VALUES


def is_bounded_read(flt, limit, walk=None):
    """Is a read of ``flt`` with ``limit`` tried on the event loop's thread, within
    ``store.INLINE_READ_STEPS``? When its limit is at most ``BOUNDED_READ_LIMIT`` (so its
    documents' decoding is bounded too), its filter holds at most
    ``BOUNDED_FILTER_VALUES`` values (so is its compiling) and no ``$regex`` sets a budget
    of its own. ``walk``: ``flt``'s ``shapes.FilterWalk`` when the read has made it."""
    if not (limit and 0 < limit <= BOUNDED_READ_LIMIT):
        return False
    if walk is None:
        walk = shapes.FilterWalk(flt)
    return walk.values <= BOUNDED_FILTER_VALUES and not walk.regex


def _bulk_error(inserted, errors):
    """The ``BulkWriteError`` of a bulk insert that met duplicates (``(index, exc)`` pairs)."""
    return BulkWriteError({
        "writeErrors": [dict(exc.details, index=index) for index, exc in errors],
        "writeConcernErrors": [], "nInserted": inserted, "nUpserted": 0,
        "nMatched": 0, "nModified": 0, "nRemoved": 0, "upserted": []})


def _with_id(document):
    """Give ``document`` an ``_id`` in place (as pymongo does) and return it with ``_id``
    first: itself when it is already (a model's ``to_bson``), else a reordered copy."""
    if "_id" not in document:
        document["_id"] = ObjectId()
    elif next(iter(document)) == "_id":
        return document
    return {"_id": document["_id"], **{k: v for k, v in document.items() if k != "_id"}}


def _run_each(calls):
    """Run ``calls`` in turn until one raises: ``[(True, result) or (False, exception)]``."""
    outcomes = []
    for call in calls:
        try:
            outcomes.append((True, call()))
        except Exception as exc:
            outcomes.append((False, exc))
            break
    return outcomes


class SnapshotSource:
    """A cursor's source on the embedded store.

    Reading everything at once (``to_list(None)``, or a batch that covers the
    limit) is one query. Reading in batches first fixes the result set — the
    matching rowids, in order, from one snapshot — then loads documents batch by
    batch, so a loop that updates or deletes what it iterates never skips a
    document (deleted ones are left out, updated ones are read as they are now).
    """

    def __init__(self, collection, flt, projection, sort, skip, limit):
        self.collection = collection
        self.query = (flt, sort, skip, limit)
        self.projection = projection
        self.rowids = None
        self.exhausted = False

    async def next_batch(self, length):
        store = self.collection.database.store
        flt, sort, skip, limit = self.query
        if self.rowids is None:
            most = point_read_size(flt)
            if length is None or (limit and length >= limit) or (most and length >= most):
                self.exhausted = True
                # a read on the loop's thread walks its filter once, here (one that runs
                # on a reader thread is walked there)
                walk = None
                if most is not None:
                    run, walk = self.collection._run_point_read, shapes.FilterWalk(flt)
                elif limit and 0 < limit <= BOUNDED_READ_LIMIT:
                    walk = shapes.FilterWalk(flt)
                    run = self.collection._run_bounded_read if is_bounded_read(
                        flt, limit, walk) else self.collection._run_read
                else:
                    run = self.collection._run_read
                return await run(store.find, flt, self.projection, sort, skip, limit, walk)
            self.rowids = await self.collection._run_read(store.find_rowids, flt, sort, skip,
                                                          limit)
        docs = []
        while self.rowids and (length is None or len(docs) < length):
            wanted = len(self.rowids) if length is None else length - len(docs)
            batch, self.rowids = self.rowids[:wanted], self.rowids[wanted:]
            docs += await self.collection._run_read(store.fetch_rowids, batch, self.projection)
        self.exhausted = not self.rowids
        return docs


def _insert_stored(store, name, stored):
    """Insert one document (``_id`` set) on the writer thread: its ``_id``, or raise the
    store's refusal (a duplicate key)."""
    _count, errors = store.insert(name, [stored], True)
    if errors:
        raise errors[0][1]
    return stored["_id"]


def _insert_one_result(inserted_id):
    return InsertOneResult(inserted_id, True)


def _delete_result(deleted):
    return DeleteResult({"n": deleted, "ok": 1.0}, True)


class EmbeddedCollection(Collection):

    async def _run_read(self, method, *args):
        return await self.database._run(self.database._readers, method, self.name, *args)

    async def _run_point_read(self, method, *args):
        """A bounded read (see ``is_point_filter``): on the loop's thread when it can."""
        return await self.database._run_point(method, self.name, *args)

    async def _run_bounded_read(self, method, *args):
        """A read with a small limit (see ``is_bounded_read``): on the loop's thread within
        ``INLINE_READ_STEPS``, else (it would scan) again on a reader thread."""
        return await self.database._run_point(method, self.name, *args,
                                              steps=INLINE_READ_STEPS)

    async def _run_write(self, method, *args, **kwargs):
        self.database._start_sweeper()
        return await self.database._run(self.database._writer, method, self.name, *args,
                                        **kwargs)

    def _open_cursor(self, flt, projection, sort, skip, limit):
        return SnapshotSource(self, flt, subset.normalize_projection(projection), sort, skip,
                              limit)

    async def _count(self, flt, skip, limit):
        return await self._run_read(self.database.store.count, flt, skip, limit)

    async def _estimated_count(self):
        return await self._run_point_read(self.database.store.estimated_count)

    async def _distinct(self, key, flt):
        return await self._run_read(self.database.store.distinct, key, flt)

    async def _insert_one(self, document):
        stored = _with_id(document)
        return _insert_one_result(await self._run_write(
            functools.partial(_insert_stored, self.database.store), stored))

    async def _insert_many(self, documents, ordered):
        stored = [_with_id(doc) for doc in documents]
        inserted, errors = await self._run_write(self.database.store.insert, stored, ordered)
        if errors:
            raise _bulk_error(inserted, errors)
        return InsertManyResult([doc["_id"] for doc in stored], True)

    @staticmethod
    def _update_result(result):
        raw = {"n": result["matched"] or (1 if result["upserted_id"] is not None else 0),
               "nModified": result["modified"], "ok": 1.0}
        if result["upserted_id"] is not None:
            raw["upserted"] = result["upserted_id"]
        return UpdateResult(raw, True)

    async def _update(self, flt, update, upsert, many):
        result = await self._run_write(self.database.store.update, flt, update,
                                       upsert=upsert, many=many)
        return self._update_result(result)

    async def _replace_one(self, flt, replacement, upsert):
        result = await self._run_write(self.database.store.update, flt, None, upsert=upsert,
                                       replacement=replacement)
        return self._update_result(result)

    async def _find_one_and_update(self, flt, update, projection, sort, upsert, after):
        result = await self._run_write(self.database.store.update, flt, update,
                                       upsert=upsert, sort=sort)
        doc = result["after"] if after else result["before"]
        if doc is None:
            return None
        return project(doc, *subset.normalize_projection(projection))

    async def _delete(self, flt, many):
        return _delete_result(await self._run_write(self.database.store.delete, flt, many))

    async def _create_index(self, spec, unique, name, expire_after):
        return await self._run_write(self.database.store.create_index, spec, unique, name,
                                     expire_after)

    async def _create_search_index(self, fields):
        await self._run_write(self.database.store.create_search_index, fields)
        return [f"search:{self.name}"] if fields else []

    async def _index_information(self):
        return await self._run_read(self.database.store.index_information)

    async def _drop(self):
        await self.database.drop_collection(self.name)

    def _write_plan(self, method, args):
        """For ``EmbeddedDatabase.write_each``: ``(call, answer)``, the store call that does
        ``method(*args)`` (checked already) on the writer thread, raising what the method
        raises, and what turns its return value into the method's result."""
        store = self.database.store
        if method == "insert_one":
            return (functools.partial(_insert_stored, store, self.name, _with_id(args[0])),
                    _insert_one_result)
        if method == "update_one":
            flt, update = args
            return (functools.partial(store.update, self.name, flt, update, upsert=False,
                                      many=False), self._update_result)
        (flt,) = args
        return functools.partial(store.delete, self.name, flt, False), _delete_result


class BulkLoad:
    """A bulk load into the embedded store in one transaction (``loaddata``): what
    ``EmbeddedDatabase.bulk_load`` yields. Every write goes to the writer thread, in the
    order made, inside the transaction ``Store.begin_load`` opened there; nothing of it
    is seen (or kept, after a crash) before the block ends and it commits."""

    def __init__(self, database):
        self.database = database
        #: set when the block ended: its transaction committed, or was rolled back
        self.committed = self.rolled_back = False

    async def insert_rows(self, collection, rows):
        """Insert rows encoded by ``store.encoded_row``, in order; ``BulkWriteError``, as
        ``insert_many``, when one is refused (the rows before it stay in the
        transaction: roll it back)."""
        store = self.database.store
        try:
            inserted, errors = await self.database._run(self.database._writer,
                                                        store.load_rows, collection, rows)
        finally:
            self.database[collection].writes += 1
        if errors:
            raise _bulk_error(inserted, errors)
        return inserted

    async def holds(self, collection, flt):
        """Whether a document of ``collection`` matches ``flt`` (the rows this load wrote
        included)."""
        return await self.database._run(self.database._writer, self.database.store.load_holds,
                                        collection, subset.check_filter(flt))

    async def put_file(self, info, data):
        """Store the file ``info`` (a ``FileInfo``) with its bytes under its id;
        ``DuplicateKeyError`` when that id is stored already."""
        chunks = files_of(self.database)._chunks(data)
        try:
            await self.database._run(self.database._writer, self.database.store.load_work,
                                     files.insert_file, info, chunks)
        except sqlite3.IntegrityError:
            raise DuplicateKeyError(f"E11000 duplicate key error: a file {info.id} is "
                                    "stored already", 11000) from None


class EmbeddedDatabase(Database):
    """A SQLite file (or ``:memory:``) seen as one MongoDB-like database."""

    collection_class = EmbeddedCollection
    files_class = files.EmbeddedFiles

    def __init__(self, path, name="bastion"):
        super().__init__(name)
        self.memory = path == ":memory:"
        self.backend = "memory" if self.memory else "embedded"
        if not self.memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.store = Store(path, name)
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="bastion-db-write")
        self._readers = self._writer if self.memory else ThreadPoolExecutor(
            READER_THREADS, thread_name_prefix="bastion-db-read")
        self._sweeper = None
        self._closed = False
        #: point reads on the event loop's thread (off: every read on a reader thread)
        self.inline_reads = True

    async def _run(self, executor, method, *args, **kwargs):
        if self._closed:
            raise RuntimeError("the database is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, functools.partial(method, *args, **kwargs))

    async def _run_point(self, method, *args, steps=None):
        """Run a point read on this thread (the event loop's); on a reader thread when the
        store is ``:memory:`` (one connection, one thread), inline reads are off, the
        database is busy, or the read would take more than ``steps`` SQLite steps."""
        if self._closed:
            raise RuntimeError("the database is closed")
        if self.inline_reads and not self.memory:
            done, result = self.store.run_inline(method, *args, steps=steps)
            if done:
                return result
        return await self._run(self._readers, method, *args)

    @contextlib.asynccontextmanager
    async def bulk_load(self):
        """``async with db.bulk_load() as load``: a ``BulkLoad`` whose writes are one
        transaction, committed when the block ends, rolled back when it raises (or when
        the process dies: SQLite drops an uncommitted transaction). Other writers, in
        any process, wait for it meanwhile; nothing else of this database may write
        while it is open (a write would fail: its ``BEGIN`` finds the load's). A task
        cancelled during the COMMIT waits for it: ``load.committed`` then says whether
        it went through, ``load.rolled_back`` whether a rollback ran (also after a COMMIT
        that failed: a full disk, an I/O error, which raises)."""
        store = self.store
        await self._run(self._writer, store.begin_load)
        load = BulkLoad(self)

        async def roll_back():
            # shielded: a Ctrl-C does not stop it half-way; a no-op when SQLite has
            # already rolled the transaction back
            await asyncio.shield(self._run(self._writer, store.end_load, False))
            load.rolled_back = True
        try:
            yield load
        except BaseException:
            await roll_back()
            raise
        commit = asyncio.ensure_future(self._run(self._writer, store.end_load, True))
        try:
            await asyncio.shield(commit)
        except asyncio.CancelledError:
            # the COMMIT goes on on the writer thread: wait for it to say what happened
            await asyncio.wait({commit})
            load.committed = not commit.cancelled() and commit.exception() is None
            if not load.committed:
                await roll_back()
            raise
        except BaseException:
            await roll_back()       # the COMMIT failed: SQLite may keep the transaction open
            raise
        load.committed = True

    async def write_each(self, writes):
        """``Database.write_each`` in one call on the writer thread (one hand-off instead of
        one per write); each write is still its own transaction."""
        plans = []
        for name, method, args in check_writes(writes):
            collection = self[name]
            plans.append((collection, *collection._write_plan(method, args)))
        self._start_sweeper()
        outcomes = await self._run(self._writer, _run_each, [call for _c, call, _a in plans])
        results = []
        for index, (collection, _call, answer) in enumerate(plans):
            if index >= len(outcomes):
                results.append(None)            # after a failed write: not run
                continue
            collection.writes += 1
            done, value = outcomes[index]
            results.append(answer(value) if done else value)
        return results

    def change_marker(self):
        """``Database.change_marker`` from this thread's connection (the one the loop reads
        with): SQLite's ``data_version``, which moves when another connection commits (the
        writer thread, a reader, another process), with the rows this connection changed
        itself. ``None`` on ``:memory:`` (one connection: its own writes do not move
        ``data_version``), with inline reads off, or when the database is busy."""
        if self._closed:
            raise RuntimeError("the database is closed")
        if self.memory or not self.inline_reads:
            return None
        return self.store.run_inline(self.store.change_marker)[1]

    async def ping(self):
        """``SELECT 1`` on the loop's thread (it takes no lock): a health probe never
        queues behind the reads the reader threads are busy with."""
        await self._run_point(self.store.ping)

    async def list_collection_names(self):
        return await self._run(self._readers, self.store.collection_names)

    async def drop_collection(self, name):
        self._collections.pop(name, None)
        await self._run(self._writer, self.store.drop_collection, name)

    async def drop(self):
        self._collections.clear()
        await self._run(self._writer, self.store.drop_all)
        await self._run(self._writer, self.store._write, files.drop_tables)

    # -- TTL indexes -----------------------------------------------------------
    def _start_sweeper(self):
        if self._sweeper is None and not self._closed:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def _sweep_forever(self):
        while not self._closed:
            await asyncio.sleep(TTL_SWEEP_SECONDS)
            try:
                await self.sweep_expired()
            except Exception:  # pragma: no cover - a failed sweep retries next round
                pass

    async def sweep_expired(self, now=None):
        """Delete documents whose TTL index says they expired; return how many.

        Runs every minute on its own while the database is in use, like
        MongoDB's TTL monitor; call it directly to sweep at once.
        """
        now = now or datetime.datetime.now(datetime.timezone.utc)
        removed = 0
        for coll, field, seconds in await self._run(self._readers, self.store.ttl_indexes):
            cutoff = now - datetime.timedelta(seconds=seconds)
            removed += await self._run(self._writer, self.store.delete, coll,
                                       {field: {"$lt": cutoff}}, True)
        return removed

    async def close(self):
        if self._closed:
            return
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writer, self.store.close)
        self._writer.shutdown(wait=True)
        if self._readers is not self._writer:
            self._readers.shutdown(wait=True)
        self.store.close()
