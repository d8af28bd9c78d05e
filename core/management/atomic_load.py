"""``loaddata`` into the embedded store: every line validated and inserted at once, in one
transaction.

Worker processes (forked before the database opens; ``validation_workers`` of them, or
this process alone for a small file) validate the file ``CHUNK_LINES`` lines at a time
and encode each document as the row the store keeps (``encoded_row``). This process
takes the chunks back in file order and hands their rows to the store's writer thread
(``EmbeddedDatabase.bulk_load``), which inserts one chunk while the workers validate the
next ones. The whole load is one SQLite transaction: the first line that fails — invalid,
an ``_id`` already stored or repeated in the file, a unique index refusing it — rolls it
back, and so does SQLite for a load killed part-way (kill -9, a power cut: the next open
drops the uncommitted transaction). Either way the database's documents and files are as
they were; the indexes every installed model declares, created first in their own
transactions, stay. Other writers wait while it runs (SQLite has one writer at a time).

A journal entry of an interrupted load of the same file (``loaddata_journal``, left by an
earlier version of this command) is finished the resumable way instead:
``serialization.load``.
"""
import asyncio
import collections
import itertools
from collections import Counter

from core.auth.sessions import invalidate_auth_cache
from core.db.embedded import codec
from core.db.embedded.store import encoded_row
from core.db.errors import BulkWriteError, DuplicateKeyError
from core.db.files import FileInfo
from core.i18n import gettext

from . import serialization
from .base import CommandError
from .serialization import (FILES, InsertFailed, LoadError, cannot_read, cannot_store,
                            nothing_loaded, one_line, progress_bar, validate_lines)

#: lines a validating worker takes at a time (small enough that the inserts start soon
#: and the last chunk's insert, after every validation, is short)
CHUNK_LINES = 1000
#: chunks' inserts waiting for the writer thread at most (one running, one next)
INSERTS_QUEUED = 2


def in_one_transaction(database_url):
    """Whether a load into ``database_url`` is this one-transaction load: the embedded
    store's (a file or ``memory:``); MongoDB's is the resumable ``serialization.load``."""
    return str(database_url).partition(":")[0] in ("embedded", "memory")


def holds_lines(path):
    """Whether the file at ``path`` has a line that is not blank (``CommandError`` when it
    cannot be read): an empty file is loaded without opening the database."""
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 16), b""):
                if block.strip():
                    return True
    except OSError as exc:
        raise cannot_read(path, exc) from None
    return False


def validate_chunk(path, first, raws, registry):
    """Validate the raw lines numbered from ``first``: ``(counts, runs, bytes, error)``.

    ``runs``: ``[(model key, line numbers, items)]`` in file order, the items the rows
    ``encoded_row`` makes of the documents, packed (``pack_rows``), or for file lines
    their records; ``error``: ``(line, reason)`` of the first bad line, with no runs
    (nothing of the chunk is to be written). Runs in a worker process or here.
    """
    runs = []

    def take(number, model, document):
        key = model._meta.key
        if not runs or runs[-1][0] != key:
            runs.append((key, [], []))
        runs[-1][1].append(number)
        runs[-1][2].append(document if model is FILES
                           else stored_row(path, number, model, document))
    counts, nbytes, error = validate_lines(path, first, raws, registry, take)
    if error is not None:
        return counts, [], nbytes, error
    return counts, [(key, _compact(numbers), items if key == FILES._meta.key
                     else pack_rows(items)) for key, numbers, items in runs], nbytes, None


def stored_row(path, number, model, document):
    """The store's row of a validated document; ``LoadError`` if SQLite cannot hold it
    (text that is no UTF-8: a lone surrogate such as ``"\\ud800"`` in the JSON)."""
    try:
        row = encoded_row(document)
        if row[1]:                   # not ASCII: the text SQLite gets must encode
            row[0].encode("utf-8")
        return row
    except (OverflowError, ValueError, TypeError) as exc:
        raise cannot_store(path, number, model, exc) from None


def _compact(numbers):
    """Line numbers as a ``range`` when they follow each other (no blank line among
    them): what crosses from a worker is then three numbers."""
    if numbers[-1] - numbers[0] == len(numbers) - 1:
        return range(numbers[0], numbers[-1] + 1)
    return numbers


def pack_rows(rows):
    """Rows (``encoded_row``) as ``(texts, folds, array paths)``: their texts in one
    string, a newline after each but the last (JSON text holds none raw), their folds
    flags in bytes, and each row's array paths as one tuple shared by the rows with the
    same (or ``None`` when no row has any). A string crosses from a worker process as
    fast as its bytes are copied; a thousand tuples of three take ten times longer."""
    shared = {}
    paths = [shared.setdefault(tuple(row[2]), tuple(row[2])) for row in rows]
    return ("\n".join([row[0] for row in rows]), bytes([row[1] for row in rows]),
            paths if any(paths) else None)


def unpack_rows(packed):
    """The rows ``pack_rows`` packed."""
    texts, folds, paths = packed
    return list(zip(texts.split("\n"), folds,
                    itertools.repeat(()) if paths is None else paths))


class ValidatingChunks(serialization.ValidatingChunks):
    """The file's chunks of ``CHUNK_LINES`` lines, each validated by ``validate_chunk``,
    in file order: ``async for counts, runs, nbytes, error in chunks``. ``start()`` it
    before the database opens (see ``serialization.ValidatingChunks``)."""

    def __init__(self, path, registry, workers=None):
        super().__init__(path, registry, validate_chunk, CHUNK_LINES, workers)


async def load_atomically(db, path, registry, chunks, stderr, progress=None):
    """Insert what ``chunks`` (a started ``ValidatingChunks``) validates, in one
    transaction; returns the ``Counter`` of what was loaded.

    Creates every installed model's indexes first (their own transactions). The first
    bad line — invalid, or refused by the store — raises ``LoadError`` naming it, the
    transaction rolled back: nothing of the file is written; a store failure that rolled
    it back (a COMMIT refused: a full disk) is a ``LoadError`` too. Once committed, the auth
    epoch moves (``invalidate_auth_cache``): loaded users and roles count at once.
    """
    bar = progress_bar(stderr, chunks.size, "loaddata", unit="B", enabled=progress)
    counts = Counter()
    inserting = collections.deque()      # (task, bytes of its chunk done when it is)
    bulk = None

    async def oldest():
        task, nbytes = inserting.popleft()
        await task
        bar.update(nbytes)

    try:
        for model in registry.models.values():      # every installed model's: ready to serve
            await model.ensure_indexes(db=db)
        async with db.bulk_load() as bulk:
            try:
                async for chunk_counts, runs, nbytes, error in chunks:
                    if error is not None:
                        while inserting:     # an earlier line's refusal is named first
                            await oldest()
                        raise LoadError(path, *error)
                    for n, (key, numbers, items) in enumerate(runs, start=1):
                        task = asyncio.ensure_future(
                            insert_run(bulk, registry, key, numbers, items))
                        inserting.append((task, nbytes if n == len(runs) else 0))
                    if not runs:
                        bar.update(nbytes)
                    counts.update(chunk_counts)
                    while len(inserting) > INSERTS_QUEUED:
                        await oldest()
                while inserting:
                    await oldest()
            except BaseException:
                tasks = [task for task, _ in inserting]
                inserting.clear()
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
        await invalidate_auth_cache(db)      # loaded users or roles count at once everywhere
    except InsertFailed as failure:
        raise LoadError(path, failure.line, f"{failure.reason}; {nothing_loaded(0)}") \
            from None
    except asyncio.CancelledError:                  # Ctrl-C
        if bulk is not None and bulk.committed:     # during the COMMIT, which went through
            asyncio.current_task().uncancel()
            print(gettext("loaddata interrupted too late: the load had committed"),
                  file=stderr, flush=True)
            await invalidate_auth_cache(db)
            return counts
        if bulk is None or bulk.rolled_back:
            print(gettext("loaddata interrupted; nothing was loaded"), file=stderr, flush=True)
        raise
    except Exception as exc:
        if isinstance(exc, CommandError) or bulk is None or not bulk.rolled_back:
            raise
        # the store failed (the COMMIT: a full disk, an I/O error) and the load rolled back
        raise LoadError(path, None, f"{type(exc).__name__}: {one_line(exc)}; "
                        f"{nothing_loaded(0)}") from None
    finally:
        bar.close()
    return counts


async def insert_run(bulk, registry, key, numbers, items):
    """Insert one run of a chunk (lines ``numbers`` of the model ``key``) in the bulk
    load; ``InsertFailed`` names the line the store refuses."""
    if key == FILES._meta.key:
        for number, record in zip(numbers, items):
            info = FileInfo(record["_id"], record["filename"], record["content_type"],
                            len(record["data"]), record["uploaded"], record["metadata"])
            try:
                await bulk.put_file(info, record["data"])
            except DuplicateKeyError:
                raise InsertFailed(number, gettext(
                    "file %(id)s: a file with this _id is already stored (or earlier in "
                    "this file)") % {"id": record["_id"]}) from None
        return
    model = registry.get_model(key)
    items = unpack_rows(items)
    try:
        await bulk.insert_rows(model._meta.collection, items)
    except BulkWriteError as exc:
        error = ((exc.details or {}).get("writeErrors") or [{}])[0]
        index = error.get("index", 0)
        index = index if isinstance(index, int) and 0 <= index < len(items) else 0
        oid = codec.loads(items[index][0])["_id"]
        if error.get("keyPattern") == {"_id": 1} or await bulk.holds(
                model._meta.collection, {"_id": oid}):        # its _id, before its other keys
            reason = gettext("%(model)s %(id)s: a document with this _id is already in the "
                             "database (or earlier in this file)") % {"model": key, "id": oid}
        else:
            reason = f"{key} {oid}: {one_line(error.get('errmsg') or exc)}"
        raise InsertFailed(numbers[index], reason) from None
    except Exception as exc:
        # an array in a uniquely indexed field (UnsupportedOperation), a full disk
        raise InsertFailed(numbers[0], gettext(
            "%(model)s: inserting lines %(first)s-%(last)s failed: %(reason)s") % {
            "model": key, "first": numbers[0], "last": numbers[-1],
            "reason": f"{type(exc).__name__}: {one_line(exc)}"}) from None
