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
import ctypes
import itertools
import multiprocessing as mp
import os
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

from core.auth.sessions import invalidate_auth_cache
from core.db.embedded import codec
from core.db.embedded.store import encoded_row
from core.db.errors import BulkWriteError, DuplicateKeyError
from core.db.files import FileInfo
from core.i18n import gettext

from .serialization import (FILES, InsertFailed, LineError, LoadError, cannot_read,
                            line_text, nothing_loaded, one_line, parse_line, progress_bar,
                            validation_workers)

#: lines a validating worker takes at a time (small enough that the inserts start soon
#: and the last chunk's insert, after every validation, is short)
CHUNK_LINES = 1000
#: chunks' inserts waiting for the writer thread at most (one running, one next)
INSERTS_QUEUED = 2

#: the registry the workers validate with: set before they fork, so they inherit it
_worker_registry = None
#: Linux's ``prctl`` option: the signal a process gets when the thread that forked it ends
PR_SET_PDEATHSIG = 1
#: how often a worker checks that the process that forked it still runs
PARENT_CHECK_SECONDS = 0.5


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


def validate_chunk(path, first, raws, registry=None):
    """Validate the raw lines numbered from ``first``: ``(counts, runs, bytes, error)``.

    ``runs``: ``[(model key, line numbers, items)]`` in file order, the items the rows
    ``encoded_row`` makes of the documents, packed (``pack_rows``), or for file lines
    their records; ``error``: ``(line, reason)`` of the first bad line, with no runs
    (nothing of the chunk is to be written). Runs in a worker process (``registry`` the
    one it inherited) or here.
    """
    registry = registry or _worker_registry
    counts, runs, nbytes = Counter(), [], 0
    for number, raw in enumerate(raws, start=first):
        try:
            text = line_text(path, number, raw)
            if text is not None:
                try:
                    model, document = parse_line(text, registry)
                except LineError as exc:
                    raise LoadError(path, number, exc.reason) from None
                key = model._meta.key
                if not runs or runs[-1][0] != key:
                    runs.append((key, [], []))
                runs[-1][1].append(number)
                runs[-1][2].append(document if model is FILES
                                   else stored_row(path, number, model, document))
                counts[key] += 1
        except LoadError as exc:
            return counts, [], nbytes, (exc.line, exc.reason)
        nbytes += len(raw)
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
        raise LoadError(path, number, gettext("%(model)s: cannot be stored: %(reason)s") % {
            "model": model._meta.key, "reason": one_line(exc)}) from None


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


def _chunks(handle):
    """``(first line number, [raw lines])`` of an open file, ``CHUNK_LINES`` lines each."""
    first, raws = 1, []
    for raw in handle:
        raws.append(raw)
        if len(raws) >= CHUNK_LINES:
            yield first, raws
            first, raws = first + len(raws), []
    if raws:
        yield first, raws


def die_with_parent(parent, forked_by_main_thread):
    """Pool initializer, run in each worker as it starts: the worker ends when ``parent``
    (the process that forked it) does, even killed with SIGKILL (an OOM kill), instead of
    waiting forever on the pipe it holds itself. On Linux the kernel sends it SIGKILL
    (``PR_SET_PDEATHSIG``, only when the main thread forked it: the signal comes when
    the forking *thread* ends); everywhere a daemon thread exits it once its parent
    process changes."""
    if forked_by_main_thread:
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):        # not Linux
            pass
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True,
                     name="bastion-loaddata-parent").start()


def _watch_parent(parent):
    while os.getppid() == parent:           # it changes when the parent process is gone
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


class ValidatingChunks:
    """The file's chunks of lines, validated, in file order: ``async for counts, runs,
    nbytes, error in chunks`` (see ``validate_chunk``).

    ``start()`` forks the workers and hands them their first chunks (call it before the
    database opens: no connection or thread of it crosses the fork); each chunk taken
    back sends the next one out, at most two per worker waiting. A small file
    (``validation_workers``: 1) is validated here, chunk by chunk, as it is taken.
    ``close()`` stops the workers.
    """

    def __init__(self, path, registry, workers=None):
        self.path = path
        self.registry = registry
        self.workers = workers
        self.size = 0
        self.handle = self.lines = self.pool = None
        self.pending = collections.deque()

    def start(self):
        global _worker_registry
        try:
            self.size = os.path.getsize(self.path)
            self.handle = open(self.path, "rb")
        except OSError as exc:
            raise cannot_read(self.path, exc) from None
        self.lines = _chunks(self.handle)
        if self.workers is None:
            self.workers = validation_workers(self.size)
        if self.workers > 1:
            _worker_registry = self.registry
            self.pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=mp.get_context("fork"),
                initializer=die_with_parent,
                initargs=(os.getpid(), threading.current_thread() is threading.main_thread()))
            self._send()
        return self

    def _next_lines(self):
        try:
            return next(self.lines, None)
        except OSError as exc:
            raise cannot_read(self.path, exc) from None

    def _send(self):
        while len(self.pending) < 2 * self.workers:
            chunk = self._next_lines()
            if chunk is None:
                return
            self.pending.append(self.pool.submit(validate_chunk, self.path, *chunk))

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.pool is None:
            chunk = self._next_lines()
            if chunk is None:
                raise StopAsyncIteration
            return validate_chunk(self.path, *chunk, registry=self.registry)
        if not self.pending:
            raise StopAsyncIteration
        future = self.pending.popleft()
        self._send()
        return await asyncio.wrap_future(future)

    def close(self):
        global _worker_registry
        for future in self.pending:
            future.cancel()
        self.pending.clear()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
            _worker_registry = None
        if self.handle is not None:
            self.handle.close()
            self.handle = None


async def load_atomically(db, path, registry, chunks, stderr, progress=None):
    """Insert what ``chunks`` (a started ``ValidatingChunks``) validates, in one
    transaction; returns the ``Counter`` of what was loaded.

    Creates every installed model's indexes first (their own transactions). The first
    bad line — invalid, or refused by the store — raises ``LoadError`` naming it, the
    transaction rolled back: nothing of the file is written. Once committed, the auth
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
