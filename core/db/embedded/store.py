"""The synchronous SQLite side of the embedded store. Runs only on executor threads.

Layout of the SQLite file:

    "c:<collection>"       one row per document: rowid, doc (JSON text, see codec)
    "i:<collection>:<ix>"  expression indexes over (rank, value) of each key
    bastion_collections    name → document count (kept by triggers: O(1) estimate)
    bastion_indexes        declared indexes: key spec, unique, TTL seconds
    bastion_arrays         dotted paths that have held an array, per collection
    "s:<collection>"       the search index (FTS5 trigram) of declared fields, see search
    "m:<collection>:<path>"  values of an indexed path that holds arrays, see multikey
    bastion_search         declared search fields, per collection

Writes run in ``BEGIN IMMEDIATE`` transactions (one writer at a time across
every process, WAL lets readers go on); reads run in a deferred transaction so
the array-path lookup and the query see the same snapshot.
"""
import copy
import json
import re
import sqlite3
import threading
import time
from contextlib import contextmanager

from bson import ObjectId

from ..errors import (
    DuplicateKeyError, OperationFailure, QueryTimeout, UnsupportedOperation, WriteError,
)
from ..projection import project
from . import codec, documents, multikey, search, shapes, sql

# the file layout's version (PRAGMA user_version); Store._migrate upgrades older files
SCHEMA_VERSION = 4

#: seconds a statement whose filter holds a $regex may run (see Store.regex_time_budget)
REGEX_TIME_BUDGET = 5.0
#: SQLite virtual-machine steps between two looks at the budget
PROGRESS_STEPS = 20_000
#: how long a read on the event loop's thread waits for a lock before it goes to a thread
INLINE_BUSY_MS = 20
#: SQLite virtual-machine steps a bounded read on the event loop's thread may take before
#: it is stopped and read again on a reader thread (a scan runs ~45 µs per 1,000 steps, so
#: ~0.5 ms at most; a 50-row page down an index takes ~1,500)
INLINE_READ_STEPS = 10_000
#: steps between two looks at that bound
INLINE_CHECK_STEPS = 1_000
#: how many (collection, array paths, schema version) answers ``Store._guards`` keeps
MAX_KEPT_GUARDS = 256
#: bytes of the file each connection reads through a memory map instead of ``read()``
#: calls into its own page cache (SQLite caps it at its build's maximum, 2 GiB by default):
#: a row read anywhere in a big file (a search's candidates) costs about half as much
MMAP_BYTES = 2 ** 40
INT64_MAX = 2 ** 63 - 1

META_SCHEMA = """
CREATE TABLE IF NOT EXISTS bastion_collections (name TEXT PRIMARY KEY, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bastion_indexes (
    coll TEXT NOT NULL, name TEXT NOT NULL, spec TEXT NOT NULL,
    is_unique INTEGER NOT NULL, ttl REAL, PRIMARY KEY (coll, name));
CREATE TABLE IF NOT EXISTS bastion_arrays (
    coll TEXT NOT NULL, path TEXT NOT NULL, PRIMARY KEY (coll, path)) WITHOUT ROWID;
"""


def quote(identifier):
    return '"' + identifier.replace('"', '""') + '"'


def table_name(collection):
    return quote(f"c:{collection}")


def index_table_name(collection, name):
    return quote(f"i:{collection}:{name}")


#: documents per multi-row ``INSERT`` of ``insert_many`` at most (two parameters each:
#: 10,000 of SQLite's 32,766; ``_insert_chunk_size`` lowers it for a build with fewer).
#: A batch of up to this many is one or two statements (``INSERT_ROWS_STEP``), so the
#: search index writes one or two segments for it (see ``Store._insert_chunk``): at 300k
#: articles 250 per statement cost the index 35 % more CPU than 5,000, and the gap grows
#: with the collection (more merging)
INSERT_CHUNK = 5000
#: a multi-row ``INSERT`` holds a multiple of this many rows, or fewer: a batch of another
#: size is written as two statements (``size // 250 * 250`` rows, then the rest). Each
#: text is compiled once and kept in the connection's statement cache (128 texts; a
#: 5,000-row text is ~1.3 MB, ~5 ms to compile), so a statement per batch size (loaddata's
#: runs, a duplicate's halves) let the writer's cache grow to ~170 MB; this way at most 20
#: long texts exist
INSERT_ROWS_STEP = 250


def row_values(doc):
    """``(doc text, folds)`` for a row: folds is 1 when the text has non-ASCII
    characters, where case-insensitive matching may fold (the tag, U+007F, is ASCII)."""
    text = codec.dumps(doc)
    return text, 0 if text.isascii() else 1


def _create_index_sql(coll, name, spec, unique):
    """The ``CREATE INDEX`` of declared index ``name`` of ``coll`` (``spec``: its keys)."""
    return (f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS "
            f"{index_table_name(coll, name)} ON {table_name(coll)} "
            f"({sql.index_definition(spec)})")


def encoded_row(doc):
    """``(text, folds, array paths)`` of ``doc``: what ``Store.insert_rows`` takes. Lets a
    bulk load encode documents where it has CPU to spare (``loaddata``'s validation
    worker processes) and insert them later."""
    text, folds = row_values(doc)
    return text, folds, sorted(codec.array_paths(doc))


def get_path(doc, path):
    node = doc
    for segment in path.split("."):
        if not isinstance(node, dict) or segment not in node:
            return None
        node = node[segment]
    return node


class Store:
    """One SQLite database file (or ``:memory:``) holding many collections.

    ``regex_time_budget``: seconds a statement whose filter holds a ``$regex`` may
    run before it is stopped with ``QueryTimeout`` (``None``: no budget). Literal
    searches run in SQLite's C code without the GIL; the budget bounds a broad one
    over a big collection, and the per-row Python callback of a real regular
    expression, which holds the GIL while it runs.
    """

    regex_time_budget = REGEX_TIME_BUDGET

    def __init__(self, path, database_name):
        self.path = path
        self.database_name = database_name
        self.memory = path == ":memory:"
        self._local = threading.local()
        self._connections = []
        self._lock = threading.Lock()
        self._tables = set()          # collections whose table is known to exist
        self._plans = search.Plans()  # search pages' plans, see _search_plan
        self._filters = shapes.CompiledFilters()    # reads' SQL text by filter shape
        self._kept_guards = {}        # multikey guards by schema version, see _guards
        #: bounded reads stopped on the loop's thread and read again on a reader thread
        self.inline_interrupts = 0

    # -- connections --------------------------------------------------------
    def connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._open()
        return conn

    def _open(self):
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                               timeout=30)
        conn.create_function(sql.REGEX_FUNCTION, 3, sql.regex_function, deterministic=True)
        search.register(conn)
        if not self.memory:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.executescript(META_SCHEMA + search.META_SCHEMA)
        self._migrate(conn)
        with self._lock:
            self._connections.append(conn)
        return conn

    @staticmethod
    def _migrate(conn):
        """Bring a file written by an older Bastion up to ``SCHEMA_VERSION`` (once)."""
        if conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version < 1:      # 1: the row's "folds" flag (literal-search prefilter)
                for (coll,) in conn.execute("SELECT name FROM bastion_collections").fetchall():
                    columns = {row[1] for row in conn.execute(
                        f"PRAGMA table_info({table_name(coll)})")}
                    if columns and "folds" not in columns:
                        conn.execute(f"ALTER TABLE {table_name(coll)} ADD COLUMN "
                                     "folds INTEGER NOT NULL DEFAULT 1")
            if version < 4:      # 2: decimals and binary data in the rank expression;
                # 3: compact keys, pages that fill up; 4: a one-byte tag, ObjectIds in
                # base 64, dates in plain milliseconds, ranks 0 and 1 for ObjectIds and
                # booleans (every document rewritten, its indexes dropped first)
                searched = Store._drop_indexes(conn)
                Store._rewrite_documents(conn, codec.upgrade_v3_text)
                Store._rebuild_indexes(conn)
                for coll, fields in searched.items():
                    search.create(conn, coll, table_name(coll), fields)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @staticmethod
    def _drop_indexes(conn):
        """Drop every declared index, multikey side table (``_rebuild_indexes`` builds
        them again) and search index, so that rewriting the documents writes only their
        table; return the search fields each collection had (``search.create`` builds
        them again)."""
        for coll, name in conn.execute("SELECT coll, name FROM bastion_indexes").fetchall():
            conn.execute(f"DROP INDEX IF EXISTS {index_table_name(coll, name)}")
        searched = {}
        for (coll,) in conn.execute("SELECT name FROM bastion_collections").fetchall():
            fields = search.declared_fields(conn, coll)
            if fields:
                searched[coll] = fields
            search.drop(conn, coll)    # one of another layout is built on its declaration
            multikey.drop(conn, coll)
        return searched

    @staticmethod
    def _rewrite_documents(conn, rewrite, batch=1000):
        """Replace each stored document's text by ``rewrite(text)`` where it differs, in
        rowid order, ``batch`` rows at a time (with ``_drop_indexes`` first, only the
        table is written)."""
        for (coll,) in conn.execute("SELECT name FROM bastion_collections").fetchall():
            table, last = table_name(coll), 0
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                                (f"c:{coll}",)).fetchone():
                continue
            while True:
                rows = conn.execute(f"SELECT rowid, doc FROM {table} WHERE rowid>? "
                                    f"ORDER BY rowid LIMIT ?", (last, batch)).fetchall()
                if not rows:
                    break
                last = rows[-1][0]
                changed = [(new, rowid) for rowid, text in rows
                           if (new := rewrite(text)) != text]
                conn.executemany(f"UPDATE {table} SET doc=? WHERE rowid=?", changed)

    @staticmethod
    def _rebuild_indexes(conn):
        """Drop and build again every declared index and multikey side table with the
        current key expressions (``sql.index_definition``, ``sql.Operand.key``)."""
        for (coll,) in conn.execute("SELECT name FROM bastion_collections").fetchall():
            multikey.drop(conn, coll)
            indexes = Store._indexes(conn, coll)
            for name, spec, unique, _ttl in indexes:
                conn.execute(f"DROP INDEX IF EXISTS {index_table_name(coll, name)}")
                conn.execute(_create_index_sql(coll, name, spec, unique))
            arrays = Store._arrays(conn, coll)
            if arrays:
                multikey.ensure(conn, coll, table_name(coll), indexes, arrays)

    def close(self):
        with self._lock:
            for conn in self._connections:
                try:
                    conn.close()
                except sqlite3.Error:  # pragma: no cover - closing is best effort
                    pass
            self._connections.clear()

    def run_inline(self, method, *args, steps=None):
        """Run the read ``method(*args)`` on the calling thread, never waiting on a lock
        longer than ``INLINE_BUSY_MS``: ``(True, result)``, or ``(False, None)`` when
        the database was busy (the caller then reads on a reader thread).

        ``steps``: the read's statements may take that many SQLite virtual-machine
        steps in all (counted by a progress handler every ``INLINE_CHECK_STEPS``); one
        that would take more is interrupted and answers ``(False, None)`` too, so a read
        that turns out to scan costs the loop at most the bound. ``method`` must not set
        a progress handler of its own (a ``$regex`` filter's budget does)."""
        conn = self.connection()
        if not getattr(self._local, "inline", False):
            conn.execute(f"PRAGMA busy_timeout={INLINE_BUSY_MS}")
            self._local.inline = True
        checks = None
        if steps is not None:
            checks = [steps // INLINE_CHECK_STEPS - 1]     # the last check interrupts

            def spent():
                checks[0] -= 1
                return checks[0] < 0
            conn.set_progress_handler(spent, INLINE_CHECK_STEPS)
        try:
            return True, method(*args)
        except sqlite3.OperationalError as exc:
            if checks is not None and checks[0] < 0:
                # the read's COMMIT may have been stopped too: end its transaction here
                conn.set_progress_handler(None, 0)
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                self.inline_interrupts += 1
                return False, None
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            return False, None
        finally:
            if checks is not None:
                conn.set_progress_handler(None, 0)

    def ping(self):
        self.connection().execute("SELECT 1").fetchone()

    def change_marker(self):
        """What has been committed as this thread's connection sees it: ``(connection,
        data_version, total_changes)``. ``data_version`` moves when any *other* connection
        commits; ``total_changes`` counts the rows this one changed; the connection itself
        keeps two threads' values apart (each counts on its own)."""
        conn = self.connection()
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        return conn, version, conn.total_changes

    # -- transactions -------------------------------------------------------
    def _read(self, work):
        conn = self.connection()
        conn.execute("BEGIN")
        try:
            return work(conn)
        finally:
            if conn.in_transaction:      # an interrupted statement ends it (see _budgeted)
                conn.execute("COMMIT")

    def _write(self, work):
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work(conn)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    @contextmanager
    def _budgeted(self, conn, walk):
        """Run the block's statements on ``conn`` within ``regex_time_budget`` when the
        filter walked (``shapes.FilterWalk``) holds a ``$regex``; an interrupted statement
        becomes ``QueryTimeout``."""
        seconds = self.regex_time_budget
        if seconds is None or not walk.regex:
            yield
            return
        sql.start_budget(seconds)
        conn.set_progress_handler(sql.budget_spent, PROGRESS_STEPS)
        try:
            yield
        except sqlite3.OperationalError as exc:
            reason = sql.stop_budget()
            if reason is None:
                raise
            raise QueryTimeout(f"The search was stopped: {reason} "
                               f"({seconds:g} s). Narrow it down and try again.") from exc
        finally:
            conn.set_progress_handler(None, 0)
            sql.stop_budget()

    # -- schema -------------------------------------------------------------
    def _exists(self, conn, coll):
        if coll in self._tables:
            return True
        row = conn.execute("SELECT 1 FROM bastion_collections WHERE name=?", (coll,)).fetchone()
        if row:
            self._tables.add(coll)
        return bool(row)

    def _ensure_table(self, conn, coll):
        """Create the collection's table, ``_id`` index and count triggers (in a write txn)."""
        if self._exists(conn, coll):
            return
        table, literal = table_name(coll), sql.sql_string(coll)
        # folds: the text holds non-ASCII characters besides tags (see sql.FilterCompiler)
        conn.execute(f"CREATE TABLE IF NOT EXISTS {table} "
                     f"(doc TEXT NOT NULL, folds INTEGER NOT NULL DEFAULT 1)")
        conn.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {index_table_name(coll, '_id_')} "
                     f"ON {table} ({sql.index_definition([('_id', 1)])})")
        conn.execute(f"CREATE TRIGGER IF NOT EXISTS {quote(f't:{coll}:ins')} AFTER INSERT ON "
                     f"{table} BEGIN UPDATE bastion_collections SET count=count+1 "
                     f"WHERE name={literal}; END")
        conn.execute(f"CREATE TRIGGER IF NOT EXISTS {quote(f't:{coll}:del')} AFTER DELETE ON "
                     f"{table} BEGIN UPDATE bastion_collections SET count=count-1 "
                     f"WHERE name={literal}; END")
        conn.execute("INSERT OR IGNORE INTO bastion_collections VALUES (?, 0)", (coll,))
        conn.execute("INSERT OR IGNORE INTO bastion_indexes VALUES (?, '_id_', ?, 1, NULL)",
                     (coll, json.dumps([["_id", 1]])))
        self._tables.add(coll)

    @staticmethod
    def _arrays(conn, coll):
        """The paths of ``coll`` that have held an array."""
        return {row[0] for row in conn.execute(
            "SELECT path FROM bastion_arrays WHERE coll=?", (coll,))}

    @staticmethod
    def _indexes(conn, coll):
        """``[(name, spec, unique, ttl)]`` of ``coll``'s declared indexes, oldest first."""
        return [(name, [tuple(k) for k in json.loads(spec)], bool(unique), ttl)
                for name, spec, unique, ttl in conn.execute(
                    "SELECT name, spec, is_unique, ttl FROM bastion_indexes WHERE coll=? "
                    "ORDER BY rowid", (coll,))]

    # -- writing documents ---------------------------------------------------
    def _unique_indexes(self, conn, coll):
        """``[(name, spec)]`` of the collection's unique indexes."""
        return [(name, spec) for name, spec, unique, _ttl in self._indexes(conn, coll) if unique]

    def _check_arrays(self, conn, coll, doc, known, unique=None):
        """Record the doc's array paths; refuse arrays in uniquely indexed fields.

        ``unique``: the ``_unique_indexes`` already read in this transaction (a batch
        reads them once, not per document)."""
        paths = codec.array_paths(doc)
        if not paths:
            return
        self._refuse_unique_arrays(
            paths, self._unique_indexes(conn, coll) if unique is None else unique)
        self._record_arrays(conn, coll, paths - known, known)

    @staticmethod
    def _refuse_unique_arrays(paths, unique):
        for name, spec in unique:
            for path, _dir in spec:
                if any(path == p or path.startswith(p + ".") for p in paths):
                    raise UnsupportedOperation(
                        f"field {path!r} is in the unique index {name!r} and cannot hold an "
                        "array in the embedded store")

    def _record_arrays(self, conn, coll, new, known):
        """Record ``new`` array paths (and the multikey side tables they call for: built
        from the rows already there, so call it before or after inserting them)."""
        for path in new:
            conn.execute("INSERT OR IGNORE INTO bastion_arrays VALUES (?, ?)", (coll, path))
        known |= new
        if new:
            multikey.ensure(conn, coll, table_name(coll), self._indexes(conn, coll), known)

    def _guards(self, conn, coll, known):
        """``{path: side table}`` of the multikey indexes a filter may use (see multikey),
        kept per schema version: a side table and its triggers are made and dropped only
        by schema changes, which move ``schema_version`` (in every process), so the
        version read in this transaction says whether the kept answer holds for it (one
        cheap statement instead of a search of ``sqlite_master`` on every read)."""
        if not known:
            return {}
        version = conn.execute("PRAGMA schema_version").fetchone()[0]
        key = (coll, frozenset(known), version)
        guards = self._kept_guards.get(key)
        if guards is None:
            guards = multikey.guard_paths(coll, multikey.existing(conn, coll), known)
            if len(self._kept_guards) >= MAX_KEPT_GUARDS:
                self._kept_guards.clear()
            self._kept_guards[key] = guards
        return guards

    def _duplicate(self, conn, coll, error, doc):
        """Turn SQLite's UNIQUE failure into the DuplicateKeyError MongoDB raises."""
        message = str(error)
        prefix = f"i:{coll}:"
        name = message.split("index '", 1)[-1].rstrip("'") if "index '" in message else ""
        name = name[len(prefix):] if name.startswith(prefix) else "_id_"
        spec = next((s for n, s, _u, _t in self._indexes(conn, coll) if n == name), [])
        key_pattern = {path: direction for path, direction in spec}
        key_value = {path: get_path(doc, path) for path, _d in spec}
        shown = ", ".join(f"{p}: {v!r}" for p, v in key_value.items())
        errmsg = (f"E11000 duplicate key error collection: {self.database_name}.{coll} "
                  f"index: {name} dup key: {{ {shown} }}")
        details = {"code": 11000, "errmsg": errmsg, "keyPattern": key_pattern,
                   "keyValue": key_value}
        return DuplicateKeyError(errmsg, 11000, details)

    def _insert_row(self, conn, coll, doc, known, unique=None):
        self._check_arrays(conn, coll, doc, known, unique)
        try:
            conn.execute(f"INSERT INTO {table_name(coll)} (doc, folds) VALUES (?, ?)",
                         row_values(doc))
        except sqlite3.IntegrityError as exc:
            raise self._duplicate(conn, coll, exc, doc) from None

    def insert(self, coll, docs, ordered):
        """Insert documents (each already has ``_id``); return ``(count, errors)``.

        An ordered insert stops at the first duplicate and keeps what went
        before it, as MongoDB does; errors are ``(index, DuplicateKeyError)``.
        """
        return self.insert_rows(coll, [encoded_row(doc) for doc in docs], ordered)

    def insert_rows(self, coll, rows, ordered):
        """``insert`` for rows already encoded by ``encoded_row`` (``loaddata``'s bulk
        load encodes them in its validation workers); returns ``(count, errors)``.

        One multi-row ``INSERT`` per ``INSERT_CHUNK`` rows (``_insert_chunk``; two when
        they are not a multiple of ``INSERT_ROWS_STEP``); a chunk that holds a duplicate
        is split (``_insert_halves``) down to the row that names it."""
        return self._write(lambda conn: self._insert_rows(conn, coll, rows, ordered))

    def _insert_rows(self, conn, coll, rows, ordered):
        """``insert_rows``' work in the transaction open on ``conn``."""
        self._ensure_table(conn, coll)
        known = self._arrays(conn, coll)
        unique = self._unique_indexes(conn, coll)
        inserted, errors = 0, []
        size = _insert_chunk_size(conn)
        for start in range(0, len(rows), size):
            count, stop = self._insert_halves(conn, coll, rows[start:start + size], start,
                                              known, unique, ordered, errors)
            inserted += count
            if stop:
                break
        return inserted, errors

    # -- a bulk load in one transaction (loaddata) ----------------------------
    def begin_load(self):
        """Open the transaction a bulk load (``load_rows``, ``load_work``) writes in, on
        this thread's connection (the writer thread's), until ``end_load``.

        ``BEGIN IMMEDIATE``: other writers, in any process, wait for it (their busy
        timeout) while it lasts; readers go on and see none of it before it commits."""
        self.connection().execute("BEGIN IMMEDIATE")

    def _loading(self):
        conn = self.connection()
        if not conn.in_transaction:
            raise OperationFailure("no bulk load is open on this thread (begin_load)")
        return conn

    def load_rows(self, coll, rows):
        """``insert_rows`` (ordered) inside the bulk load's transaction: ``(count,
        errors)``; a refused row's statement is undone, the transaction goes on."""
        return self._insert_rows(self._loading(), coll, rows, True)

    def load_holds(self, coll, flt):
        """Whether a document of ``coll`` matches ``flt``, as the bulk load's transaction
        sees it (its own rows included): which of a refused row's unique keys clashed."""
        conn = self._loading()
        if not self._exists(conn, coll):
            return False
        return bool(self._query(conn, coll, "1", shapes.FilterWalk(flt), (), 0, 1,
                                self._arrays(conn, coll)))

    def load_work(self, work, *args):
        """``work(conn, *args)`` inside the bulk load's transaction (a file's rows)."""
        return work(self._loading(), *args)

    def end_load(self, commit):
        """Commit the bulk load's transaction, or roll it back (``commit`` false: the
        tables it created are forgotten too). Nothing happens when SQLite has already
        rolled it back (a full disk)."""
        conn = self.connection()
        if not conn.in_transaction:
            if commit:
                raise OperationFailure("the bulk load's transaction was rolled back")
            self._tables.clear()
            return
        if commit:
            conn.execute("COMMIT")
            return
        conn.execute("ROLLBACK")
        self._tables.clear()

    def _insert_halves(self, conn, coll, rows, start, known, unique, ordered, errors):
        """Insert ``rows`` (the batch's from position ``start`` on) as one statement (two
        when their number is not a multiple of ``INSERT_ROWS_STEP``), or, when one of them
        is a duplicate, each half in turn the same way; a single row that
        is a duplicate is added to ``errors`` as ``(position, DuplicateKeyError)``.
        Returns ``(rows inserted, stop)``: ``stop`` once an ordered insert met one.

        A duplicate costs about two dozen statements of a 5,000-row batch (23 for one on its
        last row), not one per row: each statement is a segment of the search index (see
        ``_insert_chunk``)."""
        head = len(rows) // INSERT_ROWS_STEP * INSERT_ROWS_STEP
        if 0 < head < len(rows):           # bounded statement texts (INSERT_ROWS_STEP)
            return self._insert_split(conn, coll, rows, head, start, known, unique,
                                      ordered, errors)
        failure = self._insert_chunk(conn, coll, rows, known, unique)
        if failure is None:
            return len(rows), False
        if len(rows) == 1:                 # the duplicate: its document names the key
            errors.append((start, self._duplicate(conn, coll, failure,
                                                  codec.loads(rows[0][0]))))
            return 0, ordered
        return self._insert_split(conn, coll, rows, len(rows) // 2, start, known, unique,
                                  ordered, errors)

    def _insert_split(self, conn, coll, rows, at, start, known, unique, ordered, errors):
        """``_insert_halves`` of ``rows[:at]``, then (unless it stopped) of ``rows[at:]``."""
        first, stop = self._insert_halves(conn, coll, rows[:at], start, known, unique,
                                          ordered, errors)
        if stop:
            return first, True
        second, stop = self._insert_halves(conn, coll, rows[at:], start + at, known,
                                           unique, ordered, errors)
        return first + second, stop

    def _insert_chunk(self, conn, coll, rows, known, unique):
        """Insert encoded ``rows`` with one multi-row ``INSERT``: None, or the
        ``sqlite3.IntegrityError``, with nothing changed, when one of them is a duplicate
        (the caller then splits them to know which; a single row's error names its key).

        One statement per chunk rather than per document: SQLite opens a statement
        savepoint for each statement, and the search index (FTS5) writes its pending
        entries out at every savepoint, so a statement per document costs a tiny index
        segment (and its merging) per document: 3-4 times the CPU of seeding. For the
        same reason a chunk is as long as ``_insert_chunk_size`` allows."""
        new = set()
        for _text, _folds, paths in rows:
            if paths:
                paths = set(paths)
                self._refuse_unique_arrays(paths, unique)
                new |= paths - known
        params = [value for text, folds, _paths in rows for value in (text, folds)]
        try:
            # a failing statement is undone on its own (ON CONFLICT ABORT), the
            # transaction goes on
            conn.execute(f"INSERT INTO {table_name(coll)} (doc, folds) VALUES "
                         f"{', '.join(['(?, ?)'] * len(rows))}", params)
        except sqlite3.IntegrityError as exc:
            return exc
        self._record_arrays(conn, coll, new, known)
        return None

    def update(self, coll, flt, update, *, upsert=False, many=False, sort=(),
               replacement=None):
        """Apply an update (or a replacement) to the first/all matches.

        Returns ``dict(matched, modified, upserted_id, before, after)`` where
        before/after are the first matched document before and after the change.
        """
        def work(conn):
            self._ensure_table(conn, coll)
            known = self._arrays(conn, coll)
            rows = self._query(conn, coll, "rowid, doc", shapes.FilterWalk(flt), sort, 0,
                               0 if many else 1, known)
            result = {"matched": len(rows), "modified": 0, "upserted_id": None,
                      "before": None, "after": None}
            for rowid, text in rows:
                doc = codec.loads(text)
                new = self._updated(doc, update, replacement)
                if result["before"] is None:
                    result["before"], result["after"] = doc, new
                if codec.canonical(new) == codec.canonical(doc):
                    continue
                self._check_arrays(conn, coll, new, known)
                try:
                    conn.execute(f"UPDATE {table_name(coll)} SET doc=?, folds=? WHERE rowid=?",
                                 (*row_values(new), rowid))
                except sqlite3.IntegrityError as exc:
                    raise self._duplicate(conn, coll, exc, new) from None
                result["modified"] += 1
            if not rows and upsert:
                seed = documents.upsert_seed(flt)
                if replacement is not None:
                    seed = {"_id": seed["_id"]} if "_id" in seed else {}
                    seed.update(copy.deepcopy(replacement))
                else:
                    documents.apply_update(seed, update, inserting=True)
                new = {"_id": seed.pop("_id", None) or ObjectId(), **seed}
                self._insert_row(conn, coll, new, known)
                result["upserted_id"] = new["_id"]
                result["after"] = new
            return result
        return self._write(work)

    @staticmethod
    def _updated(doc, update, replacement):
        if replacement is None:
            new = copy.deepcopy(doc)
            documents.apply_update(new, update)
            return new
        if "_id" in replacement and codec.canonical(replacement["_id"]) != codec.canonical(
                doc["_id"]):
            raise WriteError("After applying the update, the (immutable) field '_id' was "
                             "found to have been altered", 66)
        rest = {k: copy.deepcopy(v) for k, v in replacement.items() if k != "_id"}
        return {"_id": doc["_id"], **rest}

    def delete(self, coll, flt, many):
        def work(conn):
            if not self._exists(conn, coll):
                return 0
            walk = shapes.FilterWalk(flt)
            where, params = self._compile(conn, coll, flt, self._arrays(conn, coll), walk)
            limit = "" if many else " LIMIT 1"
            table = table_name(coll)
            with self._budgeted(conn, walk):
                return conn.execute(
                    f"DELETE FROM {table} WHERE rowid IN "
                    f"(SELECT rowid FROM {table} WHERE {where}{limit})", params).rowcount
        return self._write(work)

    # -- reading --------------------------------------------------------------
    @staticmethod
    def _search_match(conn, coll, walk, known):
        """The search-index query that narrows the filter walked (``shapes.FilterWalk``; see
        ``search``), or None: only a ``$regex`` is narrowed, so a filter without one reads
        no search declaration."""
        flt = walk.filter
        fields = search.declared_fields(conn, coll) if flt and walk.regex else []
        return search.SearchIndex(coll, fields).match_query(flt, known) if fields else None

    def _compile(self, conn, coll, flt, known, walk=None):
        """``(where, params)`` for ``flt`` in a delete, narrowed by the search index to its
        candidates when the index names fewer than ``search.FEW_CANDIDATES`` of them (a
        page query picks its plan with ``_search_plan`` instead); ``walk``: its
        ``shapes.FilterWalk`` when the caller has made it."""
        where, params = sql.compile_filter(flt, known, self._guards(conn, coll, known),
                                           f"{table_name(coll)}.rowid")
        match = self._search_match(conn, coll, walk or shapes.FilterWalk(flt), known)
        if match is not None and search.few_candidates(conn, coll, match):
            params["_match"] = match
            where = f"rowid IN ({search.candidates_sql(coll, ':_match')}) AND ({where})"
        return where, params

    def _query(self, conn, coll, columns, walk, sort, skip, limit, known, extra=None):
        """Run ``SELECT columns … WHERE filter ORDER BY sort LIMIT/OFFSET`` on ``conn``.

        ``walk`` is the filter's ``shapes.FilterWalk``; ``known`` the collection's array
        paths, read in the same transaction; ``extra`` the named parameters ``columns``
        use. A filter the search index narrows is read by the plan ``search.choose_plan``
        picks for it.
        """
        table = table_name(coll)
        where, params, order = self._filters.compile(
            walk.filter, sort, known, self._guards(conn, coll, known), f"{table}.rowid", walk)
        params.update(extra or {})
        source = table
        match = self._search_match(conn, coll, walk, known)
        plan, set_from, near = (None, None, None) if match is None else self._search_plan(
            conn, coll, match, None if not limit else skip + limit,
            sort[0] if order else None)
        if plan == search.SORTED:
            # the candidates one by one, each joined to its row (then sorted)
            source, params["_match"] = search.driven_by_index(coll, table, ":_match"), match
            columns = _ROWID.sub(f"{table}.rowid", columns)
        elif plan == search.PROBE:
            params.update(_match=match, _from=set_from)
            if near is not None:
                params["_near"] = near
            probe = search.probe_condition(coll, f"{table}.rowid", ":_match", ":_from",
                                           None if near is None else ":_near")
            where = f"{probe} AND ({where})"
        query = f"SELECT {columns} FROM {source} WHERE {where}"
        if order:
            query += f" ORDER BY {order}"
        query += " LIMIT :_limit OFFSET :_skip"
        params.update(_limit=_sql_limit(limit), _skip=min(skip, INT64_MAX))
        with self._budgeted(conn, walk):
            return conn.execute(query, params).fetchall()

    def _search_plan(self, conn, coll, match, wanted, first_key):
        """``search.choose_plan`` for the FTS5 query ``match`` and a sort whose first
        term is ``first_key`` (``(path, direction)``; None: unsorted): reads at most
        ``search.SAMPLE`` candidates, the collection's size, its rowid range and the
        first key of its oldest and newest rows. ``(plan, set_from, near)``: a ``probe``
        whose walk meets the newest rows first splits its set at ``near``
        (``search.near_rowid``; None: one set).

        The choice is kept for ``search.PLAN_SECONDS`` per (collection, query, rows
        wanted, sort): the next keyset pages of a search, and the same search again, skip
        the sample. Any plan gives the same rows (in the same order when the sort ends on
        a unique key; ties otherwise come in no set order, as in MongoDB), so a choice
        made before a write is never wrong, at worst slower until it expires.
        """
        key = (coll, match, wanted, first_key)
        now = time.monotonic()
        kept = self._plans.get(key)
        if kept is not None and kept[0] > now:
            return kept[1]
        table = table_name(coll)
        sampled, oldest = conn.execute(search.sample_sql(coll),
                                       (match, search.SAMPLE)).fetchone()
        first, last = conn.execute(f"SELECT (SELECT min(rowid) FROM {table}), "
                                   f"(SELECT max(rowid) FROM {table})").fetchone()
        rows = conn.execute("SELECT count FROM bastion_collections WHERE name=?",
                            (coll,)).fetchone()
        newest_first = False
        if first_key is not None and first is not None and last != first:
            path, direction = first_key
            columns = ", ".join(sql.index_columns(path, 1))
            ends = [conn.execute(f"SELECT {columns} FROM {table} WHERE rowid=?",
                                 (rowid,)).fetchone() for rowid in (first, last)]
            try:
                newest_first = ends[1] > ends[0] if direction == -1 else ends[1] < ends[0]
            except TypeError:          # keys of one rank in two types: no guess
                newest_first = False
        plan, set_from = search.choose_plan(sampled, oldest or 0, rows[0] if rows else 0,
                                            first or 0, last or 0, wanted,
                                            first_key is not None, newest_first)
        near = None
        if plan == search.PROBE and newest_first and wanted is not None:
            near = search.near_rowid(conn, coll, match, sampled, set_from, wanted)
        chosen = (plan, set_from, near)
        self._plans.put(key, chosen, now + search.PLAN_SECONDS)
        return chosen

    def _select(self, coll, columns, walk, sort, skip, limit, params=None):
        """``_query`` in its own read transaction (empty for a collection never written);
        ``params`` are named parameters the ``columns`` use."""
        def work(conn):
            if not self._exists(conn, coll):
                return []
            return self._query(conn, coll, columns, walk, sort, skip, limit,
                               self._arrays(conn, coll), params)
        return self._read(work)

    def find(self, coll, flt, projection, sort, skip, limit, walk=None):
        """The documents of ``coll`` matching ``flt``; ``walk``: its ``shapes.FilterWalk``
        when the caller has made it (the read then walks the filter no more)."""
        if walk is None:
            walk = shapes.FilterWalk(flt)
        heads = _projected_heads(projection)
        if heads is None:
            rows = self._select(coll, "doc", walk, sort, skip, limit)
            return [project(codec.loads(text), *projection) for (text,) in rows]
        values, types, params = _projected_columns(heads)

        def work(conn):
            if not self._exists(conn, coll):
                return []
            rows = self._query(conn, coll, f"rowid, {values}", walk, sort, skip, limit,
                               self._arrays(conn, coll), params)
            return _typed_rows(conn, coll, rows, values, types, params)
        return _projected_documents(self._read(work), heads, projection)

    def find_rowids(self, coll, flt, sort, skip, limit):
        return [rowid for (rowid,) in self._select(coll, "rowid", shapes.FilterWalk(flt), sort,
                                                   skip, limit)]

    def fetch_rowids(self, coll, rowids, projection):
        """Documents for ``rowids``, in that order; rows deleted since are left out (an
        inclusion projection decodes only the members it keeps)."""
        marks = ",".join("?" * len(rowids))
        heads = _projected_heads(projection)
        if heads is None:
            found = dict(self.connection().execute(
                f"SELECT rowid, doc FROM {table_name(coll)} WHERE rowid IN ({marks})", rowids))
            return [project(codec.loads(found[rowid]), *projection)
                    for rowid in rowids if rowid in found]
        values, types, params = _projected_columns(heads)
        conn = self.connection()
        found = dict(conn.execute(
            f"SELECT rowid, {values} FROM {table_name(coll)} WHERE rowid IN "
            f"(SELECT value FROM json_each(:_rowids))",
            dict(params, _rowids=json.dumps(rowids))))
        rows = [(rowid, found[rowid]) for rowid in rowids if rowid in found]
        return _projected_documents(_typed_rows(conn, coll, rows, values, types, params),
                                    heads, projection)

    def count(self, coll, flt, skip, limit):
        """Count matches; the LIMIT sits inside SQL so a capped count stops early. A
        filter the search index narrows is counted from its candidates, unless the word
        is so common that the table's rows reach the cap sooner (``_search_plan``)."""
        walk = shapes.FilterWalk(flt)

        def work(conn):
            if not self._exists(conn, coll):
                return 0
            known = self._arrays(conn, coll)
            where, params, _order = self._filters.compile(
                flt, (), known, self._guards(conn, coll, known), f"{table_name(coll)}.rowid",
                walk)
            params.update(_limit=_sql_limit(limit), _skip=min(skip, INT64_MAX))
            source = table_name(coll)
            match = self._search_match(conn, coll, walk, known)
            if match is not None and self._search_plan(
                    conn, coll, match, None if not limit else skip + limit,
                    None)[0] == search.SORTED:
                # read candidates from the index one by one, check each, stop at the cap
                source, params["_match"] = search.driven_by_index(coll, source, ":_match"), match
            with self._budgeted(conn, walk):
                return conn.execute(
                    f"SELECT count(*) FROM (SELECT 1 FROM {source} WHERE {where} "
                    f"LIMIT :_limit OFFSET :_skip)", params).fetchone()[0]
        return self._read(work)

    def estimated_count(self, coll):
        row = self.connection().execute(
            "SELECT count FROM bastion_collections WHERE name=?", (coll,)).fetchone()
        return row[0] if row else 0

    def distinct(self, coll, path, flt):
        docs = self.find(coll, flt, (None, [], True), [], 0, 0)
        seen, values = set(), []
        for doc in docs:
            for value in _values_at(doc, path.split(".")):
                items = value if isinstance(value, list) else [value]
                for item in items:
                    key = codec.canonical(item)
                    if key not in seen:
                        seen.add(key)
                        values.append(item)
        return values

    # -- indexes --------------------------------------------------------------
    def create_index(self, coll, spec, unique, name, ttl):
        def work(conn):
            self._ensure_table(conn, coll)
            for existing, existing_spec, existing_unique, existing_ttl in self._indexes(conn, coll):
                if existing == name:
                    if (existing_spec, existing_unique, existing_ttl) != (
                            list(spec), unique, ttl):
                        raise OperationFailure(
                            f"An existing index has the same name as the requested index: "
                            f"{name}", 86)
                    # a file from before multikey side tables gets them here
                    multikey.ensure(conn, coll, table_name(coll), self._indexes(conn, coll),
                                    self._arrays(conn, coll))
                    return name
            if unique:
                arrays = self._arrays(conn, coll)
                for path, _dir in spec:
                    if any(path == p or path.startswith(p + ".") for p in arrays):
                        raise UnsupportedOperation(
                            f"cannot create unique index {name!r}: {path!r} holds arrays")
            try:
                conn.execute(_create_index_sql(coll, name, spec, unique))
            except sqlite3.IntegrityError:
                raise DuplicateKeyError(
                    f"E11000 duplicate key error: cannot create unique index {name} on "
                    f"{self.database_name}.{coll}: duplicates exist", 11000) from None
            conn.execute("INSERT INTO bastion_indexes VALUES (?, ?, ?, ?, ?)",
                         (coll, name, json.dumps(spec), int(unique), ttl))
            multikey.ensure(conn, coll, table_name(coll), self._indexes(conn, coll),
                            self._arrays(conn, coll))
            return name
        return self._write(work)

    def create_search_index(self, coll, fields):
        """Declare ``fields`` searchable: build and keep their FTS5 trigram index (see
        ``search``). Returns True when it was built (or removed) now."""
        def work(conn):
            if not fields and not self._exists(conn, coll):
                return False
            self._ensure_table(conn, coll)
            return search.create(conn, coll, table_name(coll), fields)
        return self._write(work)

    def search_fields(self, coll):
        """The fields ``create_search_index`` declared for ``coll``."""
        return self._read(lambda conn: search.declared_fields(conn, coll))

    def index_information(self, coll):
        def work(conn):
            if not self._exists(conn, coll):
                return {}
            info = {}
            for name, spec, unique, ttl in self._indexes(conn, coll):
                entry = {"v": 2, "key": spec}
                if unique and name != "_id_":
                    entry["unique"] = True
                if ttl is not None:
                    entry["expireAfterSeconds"] = int(ttl) if float(ttl).is_integer() else ttl
                info[name] = entry
            return info
        return self._read(work)

    def ttl_indexes(self):
        """``[(collection, field, seconds)]`` for every TTL index in the file."""
        rows = self.connection().execute(
            "SELECT coll, spec, ttl FROM bastion_indexes WHERE ttl IS NOT NULL")
        return [(coll, json.loads(spec)[0][0], ttl) for coll, spec, ttl in rows]

    # -- collections ------------------------------------------------------------
    def collection_names(self):
        return [row[0] for row in self.connection().execute(
            "SELECT name FROM bastion_collections ORDER BY name")]

    def drop_collection(self, coll):
        def work(conn):
            search.drop(conn, coll)
            multikey.drop(conn, coll)
            conn.execute(f"DROP TABLE IF EXISTS {table_name(coll)}")
            for table in ("bastion_collections", "bastion_indexes", "bastion_arrays"):
                column = "name" if table == "bastion_collections" else "coll"
                conn.execute(f"DELETE FROM {table} WHERE {column}=?", (coll,))
            self._tables.discard(coll)
        self._write(work)

    def drop_all(self):
        for coll in self.collection_names():
            self.drop_collection(coll)


#: a bare ``rowid`` in a column list (qualified when the query joins the search index)
_ROWID = re.compile(r"\browid\b")


def _insert_chunk_size(conn):
    """Rows per multi-row ``INSERT`` on ``conn``: ``INSERT_CHUNK``, or fewer when the
    SQLite build takes fewer parameters per statement (two per row)."""
    limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return max(1, min(INSERT_CHUNK, limit // 2))


def _sql_limit(limit):
    """MongoDB's limit (0: none) as SQLite's (-1: none); beyond int64 is no limit either."""
    return -1 if not limit or limit > INT64_MAX else limit


def _values_at(doc, segments):
    """Values at a dotted path with MongoDB's array traversal (for ``distinct``)."""
    head, rest = segments[0], segments[1:]
    if not isinstance(doc, dict) or head not in doc:
        return []
    value = doc[head]
    if not rest:
        return [value]
    if isinstance(value, list):
        return [v for item in value for v in _values_at(item, rest)]
    return _values_at(value, rest)


def _projected_heads(projection):
    """The top-level members an inclusion projection reads (``_id`` first), or ``None``
    when whole documents are read (no projection, an exclusion)."""
    mode, paths, include_id = projection
    if mode != "include":
        return None
    return list(dict.fromkeys((["_id"] if include_id else []) +
                              [path.split(".", 1)[0] for path in paths]))


def _projected_columns(heads):
    """``(values, types, params)``: SQL for one JSON array of a row's ``heads`` (one
    ``json_extract`` of many paths: the document is parsed once a row, not once a
    member; an absent member reads ``null``), SQL for the array of their ``json_type``s
    (SQL ``NULL`` for an absent member: it tells absent from ``null``; read only for
    the rows whose values may hold a ``null``, see ``_typed_rows``), and the named
    parameters both use. Paths never hold a quote (``subset.check_path``)."""
    if not heads:
        return "NULL", "NULL", {}
    params = {f"_p{n}": f'$."{head}"' for n, head in enumerate(heads)}
    paths = ", ".join(f":_p{n}" for n in range(len(heads)))
    if len(heads) == 1:                 # one path would give the value, not an array
        paths += ", :_p0"
    types = ", ".join(f"json_type(doc, :_p{n})" for n in range(len(heads)))
    return f"json_extract(doc, {paths})", f"json_array({types})", params


def _typed_rows(conn, coll, rows, values, types, params):
    """``[(values, types)]`` for ``rows`` of ``(rowid, values)``: ``types`` is None for
    a row whose values hold no ``null`` (every member present), else read again with
    its values in one statement, so the two agree even outside a transaction (a row
    deleted since is left out). A string that merely holds "null" costs that second
    read, never a wrong document; the documents with no ``null`` (most) cost no
    ``json_type`` and no second ``json_extract``."""
    again = [rowid for rowid, text in rows if text is not None and "null" in text]
    if not again:
        return [(text, None) for _, text in rows]
    typed = {rowid: (text, kinds) for rowid, text, kinds in conn.execute(
        f"SELECT rowid, {values}, {types} FROM {table_name(coll)} WHERE rowid IN "
        f"(SELECT value FROM json_each(:_rowids))", dict(params, _rowids=json.dumps(again)))}
    again = set(again)
    return [typed[rowid] if rowid in again else (text, None) for rowid, text in rows
            if rowid in typed or rowid not in again]


def _projected_documents(rows, heads, projection):
    """The documents ``_typed_rows`` gives: the value arrays of all the rows parsed as
    one JSON text (one parse a page), each member's values decoded together
    (``codec.decode_column``), a member the row's types say is absent left out; then a
    dotted path's inside cut as ``project`` does."""
    if not heads:
        return [{} for _ in rows]
    arrays = json.loads("[" + ",".join([text for text, _ in rows]) + "]")
    columns = [codec.decode_column(column) for column in zip(*arrays)]
    docs = [dict(zip(heads, values)) for values in zip(*columns)]
    for doc, (_, types) in zip(docs, rows):
        if types is not None:
            for head, kind in zip(heads, json.loads(types)):
                if kind is None:
                    del doc[head]
    if any("." in path for path in projection[1]):
        docs = [project(doc, *projection) for doc in docs]
    return docs
