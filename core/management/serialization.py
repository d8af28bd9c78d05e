"""Model documents as JSON lines: what ``manage.py dumpdata`` writes and ``loaddata`` reads.

The format: UTF-8 text, one document per line, each line one JSON object::

    {"model": "blog.article", "document": {"_id": {"$oid": "665f1c..."}, "version": 3,
     "title": "Hello", "created": {"$date": "2024-05-01T12:30:00.123Z"}, ...}}

``model`` is the model key (``app_label.model_name``); ``document`` is the stored
document exactly as the database holds it (``_id``, ``version``, every field,
keys the model does not declare), in MongoDB Extended JSON v2, *relaxed* mode
(``bson.json_util``): ObjectIds are ``{"$oid": ...}``, dates ``{"$date": ISO-8601
UTC}`` (``{"$date": {"$numberLong": ms}}`` before 1970; a ``DateField`` is its
midnight UTC), numbers plain JSON, decimals ``{"$numberDecimal": "12.50"}`` (exact,
trailing zeros kept), binary data ``{"$binary": {"base64": ..., "subType": "00"}}``;
sub-documents, lists and dicts are nested JSON as stored.
Blank lines are ignored; line numbers in errors count every line from 1.

A model with ``FileField``s brings its files: before the first document that
holds a file comes one line for that file (``core.db.files``)::

    {"file": {"_id": {"$oid": "..."}, "filename": "invoice.pdf", "content_type":
     "application/pdf", "uploaded": {"$date": ...}, "metadata": {...}},
     "data": {"$binary": {"base64": "JVBERi0x...", "subType": "00"}}}

``loaddata`` stores it again under the same id (and the counts name the files
apart from the documents); rolling a load back removes its files too.

Dumping streams each model's collection in ``_id`` order (``async for`` over the
cursor); nothing is held in memory but one batch. Loading into the embedded store
validates and inserts at once, in one transaction (``core.management.atomic_load``,
which uses this module's line reader). Loading into MongoDB, described here, reads the
file once: first it validates every line (JSON, a known model key, an ObjectId ``_id``, and
the document through its model: each field's ``from_bson``/``clean``, the model's
``clean``) into a ``Spool`` (a temporary BSON file; a big file's lines are
validated by two forked worker processes, in chunks taken back in file order),
then inserts those in batches, without validating them again (while one batch is
written, the next is read and its ``_id``s checked). The first bad line stops it before
anything is written; an insert that fails (an ``_id`` already present, a unique
index) removes every document the run inserted. Either way the error is one
line naming the file, the line and the reason.

A MongoDB load survives being killed (kill -9, a power cut): before each batch is
inserted, the ``loaddata_journal`` collection records, for the file's SHA-256,
the last line claimed so far — lines whose ``_id`` was checked absent. Running
``loaddata`` on the same file again resumes: lines up to there whose document is
in the database are kept as they are, the others inserted, then it goes on; the
journal entry goes when the load is complete (or rolled back). ``loaddata
--rollback FILE`` removes what an interrupted load of FILE inserted instead, and
``manage.py check`` names interrupted loads.
"""
import asyncio
import collections
import datetime
import functools
import hashlib
import json
import multiprocessing as mp
import os
import re
import signal
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor

import bson
from bson import ObjectId, json_util
from bson.codec_options import CodecOptions
from bson.decimal128 import Decimal128
from bson.errors import InvalidDocument, InvalidId
from bson.json_util import JSONMode, JSONOptions

from core.auth.sessions import invalidate_auth_cache
from core.i18n import gettext
from core.i18n import ngettext
from core.db import subset
from core.db.files import files_of
from core.db.errors import BulkWriteError, PyMongoError, UnsupportedOperation
from core.models import ValidationError
from core.models.files import file_fields, referenced_ids
from core.models.stored import stored_as_cleaned

from .base import CommandError

JSON_OPTIONS = JSONOptions(json_mode=JSONMode.RELAXED, tz_aware=True,
                           tzinfo=datetime.timezone.utc)
#: a progress bar appears on its own (``--progress`` unset) from this many documents on
PROGRESS_THRESHOLD = 1000
#: documents per insert_many, and per duplicate-_id check before it
BATCH_SIZE = 500
#: documents per write to the output while dumping
WRITE_BATCH = 500


# -- lines ---------------------------------------------------------------------------------
#: characters ``str.splitlines`` (and JavaScript) take for line breaks that JSON leaves raw
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def dump_line(key, document):
    """One line (with its ``\\n``) for a stored ``document`` of the model ``key``.

    Non-ASCII text stays readable UTF-8, except the characters some readers
    take for a line break (U+0085, U+2028, U+2029): those are escaped, so a
    document is always exactly one line whatever splits the file.
    """
    text = json_util.dumps({"model": key, "document": document}, json_options=JSON_OPTIONS,
                           ensure_ascii=False, separators=(",", ":"))
    return text.translate(_LINE_BREAKS) + "\n"


#: the key file lines are counted under (``describe_counts`` names them apart)
FILE_KEY = "files"


class _FileLines:
    """Stands for "a file line" where the loader expects a model (``parse_line``)."""

    class _meta:
        key = FILE_KEY
        collection = None


FILES = _FileLines()
FILE_RECORD_KEYS = {"_id", "filename", "content_type", "uploaded", "metadata"}


def file_line(info, data):
    """One line (with its ``\n``) for a stored file (``FileInfo``) and its bytes."""
    record = {"_id": info.id, "filename": info.filename, "content_type": info.content_type,
              "uploaded": info.uploaded, "metadata": info.metadata}
    return json_util.dumps({"file": record, "data": bytes(data)}, json_options=JSON_OPTIONS,
                           ensure_ascii=False, separators=(",", ":")).translate(
        _LINE_BREAKS) + "\n"


class LineError(Exception):
    """A line that cannot be loaded; ``reason`` is one line of text."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def one_line(text):
    return " ".join(str(text).split())


#: a ``$date`` as dumpdata writes it (UTC, whole seconds or milliseconds)
_DUMPED_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3})?Z\Z")


def _extended_json_value(obj):
    """``json.loads``' object hook: ``json_util``'s, with the two values every dumped
    document is full of (``$oid``, a ``$date`` in dumpdata's form) read without it
    (a quarter of the time of ``json_util.loads``; the same values)."""
    if len(obj) == 1:
        oid = obj.get("$oid")
        if type(oid) is str and len(oid) == 24 and oid.isalnum():
            try:
                return ObjectId(oid)      # 24 letters and digits: hex, or InvalidId
            except InvalidId:
                pass                      # json_util names the error
        date = obj.get("$date")
        if type(date) is str and _DUMPED_DATE.match(date):
            # its "Z" read as datetime.timezone.utc (Python 3.11): a tenth of the time of
            # a naive parse and .replace(tzinfo=...)
            return datetime.datetime.fromisoformat(date)
    # a "$" in no key (one C-level join: most objects) is no "$" key either
    if "$" in "".join(obj) and any(key.startswith("$") for key in obj):
        return json_util.object_hook(obj, JSON_OPTIONS)
    return obj


def parse_line(text, registry):
    """``(model class, stored document)`` for one line, validated; raises ``LineError``."""
    try:
        data = json.loads(text, object_hook=_extended_json_value)
    except ValueError as exc:  # JSONDecodeError, a bad $date, a bad $oid (InvalidId)
        raise LineError(gettext("invalid JSON: %(reason)s") % {"reason": one_line(exc)}) from None
    except Exception as exc:
        raise LineError(gettext("invalid extended JSON: %(reason)s") % {
            "reason": f"{type(exc).__name__}: {one_line(exc)}"}) from None
    if not isinstance(data, dict):
        raise LineError(gettext("expected an object %(shape)s, not %(type)s") % {
            "shape": '{"model": ..., "document": ...}', "type": _json_type(data)})
    if "file" in data:
        return FILES, parse_file_record(data)
    extra = sorted(set(data) - {"model", "document"})
    if extra:
        raise LineError(gettext("unexpected key(s) %(keys)s; a line holds %(first)s and "
                                "%(second)s only") % {
            "keys": ", ".join(map(repr, extra)), "first": '"model"', "second": '"document"'})
    key, document = data.get("model"), data.get("document")
    if not isinstance(key, str):
        raise LineError(gettext("%(name)s must be a model key such as %(example)s") % {
            "name": '"model"', "example": '"blog.article"'})
    try:
        model = registry.get_model(key)
    except LookupError as exc:
        raise LineError(one_line(exc)) from None
    if not isinstance(document, dict):
        raise LineError(gettext("%(model)s: %(name)s must be an object, not %(type)s") % {
            "model": model._meta.key, "name": '"document"', "type": _json_type(document)})
    return model, clean_document(model, document)


def parse_file_record(data):
    """The file of a file line: ``{"_id", "filename", ..., "data": bytes}``; ``LineError``."""
    extra = sorted(set(data) - {"file", "data"})
    if extra:
        raise LineError(gettext("unexpected key(s) %(keys)s; a file line holds %(first)s and "
                                "%(second)s only") % {
            "keys": ", ".join(map(repr, extra)), "first": '"file"', "second": '"data"'})
    record, data = data.get("file"), data.get("data")
    if not isinstance(record, dict) or set(record) != FILE_RECORD_KEYS:
        raise LineError(gettext("%(name)s must be an object with %(keys)s") % {
            "name": '"file"', "keys": ", ".join(sorted(FILE_RECORD_KEYS))})
    if not isinstance(record["_id"], ObjectId):
        raise LineError(gettext("a file's %(name)s must be an ObjectId (%(shape)s)") % {
            "name": '"_id"', "shape": '{"$oid": ...}'})
    if not (isinstance(record["filename"], str) and isinstance(record["content_type"], str)
            and isinstance(record["uploaded"], datetime.datetime)
            and isinstance(record["metadata"], dict)):
        raise LineError(gettext("file %(id)s: filename and content_type are text, uploaded a "
                                "date, metadata an object") % {"id": record["_id"]})
    if not isinstance(data, bytes):
        raise LineError(gettext("file %(id)s: %(name)s must be binary (%(shape)s)") % {
            "id": record["_id"], "name": '"data"', "shape": '{"$binary": ...}'})
    return dict(record, data=data)


def _json_type(value):
    if value is None:
        return "null"
    return {dict: gettext("an object"), list: gettext("an array"), str: gettext("a string"),
            bool: gettext("a boolean")}.get(
        type(value), f"a {type(value).__name__}")


def clean_document(model, document):
    """The document ``model`` would store for ``document``; raises ``LineError``.

    Runs it through the model: ``from_bson``, ``clean()`` (every field's
    ``to_python`` and ``required``, then the model's own rules) and ``to_bson``.
    A declared field whose stored value would come out different (e.g. text
    in a number field, a permissions dict of the wrong shape that ``from_bson``
    would drop) is an error too: a dump is loaded as it is, never repaired.
    A document that ``core.models.stored`` can tell is already its model's stored
    form skips the round trip (the same answer, a quarter of the time); any
    other goes through it.
    """
    key = model._meta.key
    oid = document.get("_id")
    if "_id" not in document:
        raise LineError(gettext("%(model)s: the document has no %(name)s") % {
            "model": key, "name": '"_id"'})
    if not isinstance(oid, ObjectId):
        raise LineError(gettext("%(model)s: %(name)s must be an ObjectId (%(shape)s), not "
                                "%(value)s")
                        % {"model": key, "name": '"_id"',
                           "shape": '{"$oid": "<24 hex digits>"}', "value": repr(oid)})
    version = document.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)
                                or version < 1):
        raise LineError(gettext("%(where)s: version must be a whole number from 1, not %(value)s")
                        % {"where": f"{key} {oid}", "value": repr(version)})
    fast = stored_as_cleaned(model)
    if fast is not None and fast(document):
        return document
    return clean_through_model(model, document)


def clean_through_model(model, document):
    """``clean_document``'s round trip through ``model`` (``_id`` and ``version``
    checked already): the document it stores, or ``LineError``."""
    where = f"{model._meta.key} {document['_id']}"
    try:
        obj = model.from_bson(document)
        obj.clean()
        cleaned = obj.to_bson()
        subset.check_document(cleaned)
    except ValidationError as exc:
        raise LineError(f"{where}: {one_line(exc)}") from None
    except (UnsupportedOperation, ValueError, TypeError) as exc:
        raise LineError(f"{where}: {one_line(exc)}") from None
    for name in model._meta.fields:
        if name in document and not _same(cleaned.get(name), document[name]):
            raise LineError(gettext("%(where)s: %(field)s: %(value)s is not a value this model "
                                    "stores (it would store %(stored)s)") % {
                "where": where, "field": name, "value": _short(document[name]),
                "stored": _short(cleaned.get(name))})
    return cleaned


def _same(a, b):
    """Equal, and of the same JSON kinds (``True`` is not ``1``, ``"1"`` is not ``1``)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers):
        return a == b
    if isinstance(a, Decimal128) and isinstance(b, Decimal128):
        return a.to_decimal() == b.to_decimal()      # 12.5 is the 12.50 a field keeps
    return type(a) is type(b) and a == b


def _short(value, limit=60):
    text = json_util.dumps(value, json_options=JSON_OPTIONS, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def read_lines(path):
    """``(line number, text, bytes read)`` for every line of the file at ``path`` (text
    ``None`` for a blank one)."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            yield number, line_text(path, number, raw), len(raw)


def line_text(path, number, raw):
    """The text of the raw line ``number`` (``None`` when blank); ``LoadError`` unless UTF-8."""
    text = raw.strip()
    if not text:
        return None
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LoadError(path, number, gettext("not UTF-8 text (%(reason)s at byte %(byte)s)")
                        % {"reason": exc.reason, "byte": exc.start}) from None


class LoadError(CommandError):
    """A file that cannot be loaded: ``error: FILE line N: reason``."""

    def __init__(self, path, line, reason):
        where = gettext("%(path)s line %(line)s") % {"path": path, "line": line} \
            if line is not None else str(path)
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


def read_documents(path, registry, upto=None):
    """``(line, model, document, bytes)`` per line, each validated; ``LoadError`` on a bad one.

    Blank lines yield ``(line, None, None, bytes)`` so a caller can count bytes.
    ``upto`` stops after that line.
    """
    for number, text, size in read_lines(path):
        if upto is not None and number > upto:
            return
        if text is None:
            yield number, None, None, size
            continue
        try:
            model, document = parse_line(text, registry)
        except LineError as exc:
            raise LoadError(path, number, exc.reason) from None
        yield number, model, document, size


# -- model selection -----------------------------------------------------------------------
def select_models(registry, names):
    """The models to dump: every installed one for no ``names``, else those named.

    A name is a model key (``blog.article``) or an app label (``blog``: its
    models). Unknown → ``CommandError``.
    """
    if not names:
        return list(registry.models.values())
    chosen = []
    for name in names:
        lowered = name.lower()
        if "." not in lowered and lowered in registry.apps:
            found = registry.get_models(lowered)
        else:
            try:
                found = [registry.get_model(lowered)]
            except LookupError as exc:
                raise CommandError(one_line(exc)) from None
        chosen.extend(m for m in found if m not in chosen)
    return chosen


# -- progress ------------------------------------------------------------------------------
class NoBar:
    """What a progress bar offers, doing nothing."""

    def update(self, n=1):
        pass

    def set_description(self, text):
        pass

    def close(self):
        pass


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def progress_bar(stream, total, desc, unit="doc", enabled=None):
    """A ``tqdm`` bar on ``stream`` (stderr), or a ``NoBar``.

    ``enabled`` True/False forces it; ``None`` shows it when ``stream`` is a
    terminal and ``total`` reaches ``PROGRESS_THRESHOLD`` (in documents; a byte
    total counts as large from 1 MB).
    """
    if enabled is None:
        threshold = PROGRESS_THRESHOLD if unit != "B" else 1 << 20
        enabled = _is_terminal(stream) and total is not None and total >= threshold
    if not enabled:
        return NoBar()
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit=unit, file=stream, unit_scale=True,
                dynamic_ncols=True, mininterval=0.2, leave=True)


# -- dumping -------------------------------------------------------------------------------
async def dump(db, models, write, stderr, progress=None):
    """Write every document of ``models`` as lines through ``write(text)``; returns counts.

    Streams: one cursor per model, in ``_id`` order, read in batches.
    """
    totals = [await db[m._meta.collection].estimated_document_count() for m in models]
    bar = progress_bar(stderr, sum(totals), "dumpdata", enabled=progress)
    counts = Counter()
    dumped_files = set()
    try:
        for model in models:
            key = model._meta.key
            bar.set_description(key)
            cursor = db[model._meta.collection].find({}, sort=[("_id", 1)])
            cursor.batch_size = WRITE_BATCH
            chunk, documents = [], 0
            holds_files = bool(file_fields(model))
            async for document in cursor:
                if holds_files:
                    chunk.extend(await file_lines(db, model, document, dumped_files, counts,
                                                  stderr))
                chunk.append(dump_line(key, document))
                documents += 1
                if documents >= WRITE_BATCH:
                    write("".join(chunk))
                    bar.update(documents)
                    counts[key] += documents
                    chunk, documents = [], 0
            if chunk:
                write("".join(chunk))
                bar.update(documents)
                counts[key] += documents
            counts.setdefault(key, 0)
    finally:
        bar.close()
    return counts


async def file_lines(db, model, document, dumped, counts, stderr):
    """The lines of the files ``document`` holds that were not dumped yet (a file that is
    gone is skipped with a warning: the document is dumped as it is)."""
    files = files_of(db)
    lines = []
    for file_id in referenced_ids(model, document):
        if file_id in dumped:
            continue
        dumped.add(file_id)
        info = await files.info(file_id)
        if info is None:
            print(f"warning: {model._meta.key} {document['_id']} holds file {file_id}, which "
                  "is not stored; dumped without it", file=stderr, flush=True)
            continue
        lines.append(file_line(info, await files.read(file_id)))
        counts[FILE_KEY] += 1
    return lines


# -- loading -------------------------------------------------------------------------------
class Spool:
    """The documents of a validated file, as validation left them, in a temporary file
    (BSON: written and read back by bson's C code), so the load inserts them without
    parsing and validating every line a second time.

    ``with Spool() as spool``: ``validate_file(..., spool=spool)`` fills it,
    ``load(..., spool=spool)`` reads it. The file goes at ``close()`` (the block's end).
    """

    _OPTIONS = CodecOptions(tz_aware=True, tzinfo=datetime.timezone.utc)

    def __init__(self):
        self.handle = tempfile.TemporaryFile(prefix="bastion-loaddata-")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.handle.close()

    def add_encoded(self, entries):
        """Entries already encoded by ``spool_entry`` (in the validation, here or in a
        worker), written as they are."""
        self.handle.write(entries)

    def documents(self, registry):
        """``(line, model, document, 0)`` for each entry written, in order (as
        ``read_documents`` yields them)."""
        self.handle.flush()
        self.handle.seek(0)
        for entry in bson.decode_file_iter(self.handle, self._OPTIONS):
            model = FILES if entry["m"] == FILE_KEY else registry.get_model(entry["m"])
            yield entry["n"], model, entry["d"], 0


#: processes that validate a big file's lines side by side (bounded by the CPUs there are)
VALIDATION_WORKERS = 2
#: files from this size on are validated by ``VALIDATION_WORKERS`` processes
PARALLEL_VALIDATION_BYTES = 2 << 20
#: lines a validation worker takes at a time
VALIDATION_CHUNK = 2000


def validation_workers(size):
    """How many processes validate a file of ``size`` bytes (1: this one, no pool)."""
    if size < PARALLEL_VALIDATION_BYTES or "fork" not in mp.get_all_start_methods():
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(VALIDATION_WORKERS, cpus or 1))


def validate_file(path, registry, stderr, progress=None, spool=None, workers=None):
    """First pass: every line valid? Returns ``Counter({model key: documents})``.

    With ``spool`` (a ``Spool``) every validated document goes into it, for ``load``.
    ``workers`` processes validate chunks of lines side by side (default:
    ``validation_workers``); the answer, the spool and the first error (the
    earliest bad line) are the same as with one."""
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise cannot_read(path, exc) from None
    workers = validation_workers(size) if workers is None else workers
    bar = progress_bar(stderr, size, gettext("validating"), unit="B", enabled=progress)
    counts = Counter()
    try:
        if workers > 1:
            _validate_in_pool(path, registry, spool, counts, bar, workers)
        else:
            for number, model, document, nbytes in read_documents(path, registry):
                if model is not None:
                    counts[model._meta.key] += 1
                    if spool is not None:
                        spool.add_encoded(spool_entry(path, number, model, document))
                bar.update(nbytes)
    except OSError as exc:
        raise cannot_read(path, exc) from None
    finally:
        bar.close()
    return counts


def cannot_read(path, exc):
    """The ``CommandError`` for a file that cannot be read (``exc``, an ``OSError``)."""
    return CommandError(gettext("cannot read %(path)s: %(reason)s") % {
        "path": path, "reason": exc.strerror or exc})


def spool_entry(path, number, model, document):
    """The ``Spool`` entry of a validated line, encoded; ``LoadError`` if BSON cannot
    hold it."""
    try:
        return bson.encode({"n": number, "m": model._meta.key, "d": document})
    except (InvalidDocument, OverflowError, ValueError, TypeError) as exc:
        raise cannot_store(path, number, model, exc) from None


def cannot_store(path, number, model, exc):
    """The ``LoadError`` of a valid line whose document cannot be encoded (``exc``)."""
    return LoadError(path, number, gettext("%(model)s: cannot be stored: %(reason)s") % {
        "model": model._meta.key, "reason": one_line(exc)})


def validate_lines(path, first, raws, registry, take):
    """Validate the raw lines numbered from ``first``, calling ``take(number, model,
    document)`` for each valid one (it may raise ``LoadError``). Returns ``(counts,
    bytes, error)``: ``error`` is ``(line, reason)`` of the first bad line (plain values:
    a ``LoadError`` does not survive pickling), ``None`` when every line is valid."""
    counts, nbytes = Counter(), 0
    for number, raw in enumerate(raws, start=first):
        try:
            text = line_text(path, number, raw)
            if text is not None:
                try:
                    model, document = parse_line(text, registry)
                except LineError as exc:
                    raise LoadError(path, number, exc.reason) from None
                take(number, model, document)
                counts[model._meta.key] += 1
        except LoadError as exc:
            return counts, nbytes, (exc.line, exc.reason)
        nbytes += len(raw)
    return counts, nbytes, None


def _validate_chunk(path, first, raws, registry, spooling=False):
    """Validate the raw lines numbered from ``first`` (``spooling``: encode ``Spool``
    entries). Returns ``(counts, encoded spool entries, bytes,
    None)``, or with ``(line, reason)`` of the first bad line last (what was valid before
    it is left out: nothing is written)."""
    entries = []

    def take(number, model, document):
        if spooling:
            entries.append(spool_entry(path, number, model, document))
    counts, nbytes, error = validate_lines(path, first, raws, registry, take)
    return counts, b"" if error else b"".join(entries), nbytes, error


def chunks_of(handle, size):
    """``(first line number, [raw lines])`` of an open file, ``size`` lines each."""
    first, raws = 1, []
    for raw in handle:
        raws.append(raw)
        if len(raws) >= size:
            yield first, raws
            first, raws = first + len(raws), []
    if raws:
        yield first, raws


#: the registry validation workers use: set before they fork, so they inherit it
_worker_registry = None
#: how often a worker checks that the process that forked it still runs
PARENT_CHECK_SECONDS = 0.5


def die_with_parent(parent):
    """Pool initializer, run in each worker as it starts: the worker ignores SIGINT (a
    terminal's Ctrl-C reaches the whole process group; the parent stops the workers, its
    ``close()``), and ends when ``parent`` (the process that forked it) does, even killed
    with SIGKILL (an OOM kill), instead of waiting forever on the pipe it holds itself: a
    daemon thread exits it once its parent process changes (within
    ``PARENT_CHECK_SECONDS``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # not the parent's handler (asyncio's)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True,
                     name="bastion-loaddata-parent").start()


def _watch_parent(parent):
    while os.getppid() == parent:           # it changes when the parent process is gone
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def _in_worker(validate, path, first, raws):
    return validate(path, first, raws, _worker_registry)


class ValidatingChunks:
    """A file's chunks of ``chunk_lines`` lines, each validated by ``validate(path, first
    line number, raw lines, registry)``, in file order: ``for result in chunks`` or
    ``async for result in chunks``.

    ``start()`` forks ``workers`` processes (default: ``validation_workers``; call it
    before a database opens: no connection or thread of it crosses the fork) and hands
    them their first chunks; each chunk taken back sends the next one out, at most two
    per worker waiting, so the first error taken is the earliest bad line. With one
    worker (a small file) the chunks are validated here, one by one, as they are taken.
    ``close()`` (or the ``with`` block's end) stops the workers.
    """

    def __init__(self, path, registry, validate, chunk_lines, workers=None):
        self.path = path
        self.registry = registry
        self.validate = validate
        self.chunk_lines = chunk_lines
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
        self.lines = chunks_of(self.handle, self.chunk_lines)
        if self.workers is None:
            self.workers = validation_workers(self.size)
        if self.workers > 1:
            _worker_registry = self.registry
            self.pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=mp.get_context("fork"),
                initializer=die_with_parent,
                initargs=(os.getpid(),))
            self._send()
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

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
            self.pending.append(self.pool.submit(_in_worker, self.validate, self.path,
                                                 *chunk))

    def _next(self):
        """The next chunk's result (validated here) or its future (a worker's); ``None``
        after the last."""
        if self.pool is None:
            chunk = self._next_lines()
            return None if chunk is None else self.validate(self.path, *chunk, self.registry)
        if not self.pending:
            return None
        future = self.pending.popleft()
        self._send()
        return future

    def __iter__(self):
        return self

    def __next__(self):
        result = self._next()
        if result is None:
            raise StopIteration
        return result.result() if isinstance(result, Future) else result

    def __aiter__(self):
        return self

    async def __anext__(self):
        result = self._next()
        if result is None:
            raise StopAsyncIteration
        return await asyncio.wrap_future(result) if isinstance(result, Future) else result

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


def _validate_in_pool(path, registry, spool, counts, bar, workers):
    """``validate_file``'s loop over ``workers`` forked processes (``ValidatingChunks``):
    the results are taken in file order, so the first error reported is the earliest
    bad line."""
    validate = functools.partial(_validate_chunk, spooling=spool is not None)
    with ValidatingChunks(path, registry, validate, VALIDATION_CHUNK, workers) as chunks:
        for result in chunks.start():
            _take(result, path, spool, counts, bar)


def _take(result, path, spool, counts, bar):
    chunk_counts, entries, nbytes, error = result
    if error is not None:
        raise LoadError(path, *error)
    counts.update(chunk_counts)
    if spool is not None:
        spool.add_encoded(entries)
    bar.update(nbytes)


class InsertFailed(Exception):
    """An insert refused a line."""

    def __init__(self, line, reason):
        super().__init__(reason)
        self.line = line
        self.reason = reason


#: one document per load in progress: ``_id`` the file's SHA-256, ``upto`` the last claimed line
JOURNAL_COLLECTION = "loaddata_journal"


def file_digest(path):
    """The SHA-256 (hex) of the file at ``path``: which load a journal entry belongs to."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise cannot_read(path, exc) from None
    return digest.hexdigest()


async def interrupted_load(db, path):
    """The digest of the file at ``path`` if the journal holds an interrupted load of it,
    else ``None`` (the file is read only when the journal holds any entry)."""
    if await db[JOURNAL_COLLECTION].find_one({}, {"_id": 1}) is None:
        return None
    digest = file_digest(path)
    found = await db[JOURNAL_COLLECTION].find_one({"_id": digest}, {"_id": 1})
    return None if found is None else digest


async def interrupted_loads(db):
    """The journal entries of loads that were interrupted (or are running now)."""
    return await db[JOURNAL_COLLECTION].find({}, sort=[("started", 1)]).to_list(None)


async def rollback_interrupted(db, path, registry, digest):
    """Remove what an interrupted load of this file inserted; returns how many went.

    ``CommandError`` when no load of this file was interrupted.
    """
    journal = await db[JOURNAL_COLLECTION].find_one({"_id": digest})
    if journal is None:
        raise CommandError(gettext("%(path)s: no interrupted load of this file to roll back") % {
            "path": path})
    removed = await remove_loaded(db, path, registry, journal.get("upto") or 0)
    await db[JOURNAL_COLLECTION].delete_one({"_id": digest})
    return removed


async def load(db, path, registry, stderr, total, progress=None, digest=None, spool=None):
    """Second pass: insert every document in batches; returns ``Counter`` of loaded.

    Call ``validate_file`` first; with the ``spool`` it filled, the documents come from
    there (validated once), else the file is read and validated again. Creates every
    installed model's indexes first (a model with no line in the file included). On a
    failed insert, removes what this run (and the interrupted runs it resumed) inserted
    and raises ``LoadError`` naming the line.
    With ``digest`` (``file_digest``), progress is journaled and an interrupted load
    of the same file is resumed (see the module docstring); ``counts.resumed`` then
    says how many documents were already in.
    """
    for model in registry.models.values():      # every installed model's: ready to serve
        await model.ensure_indexes(db=db)
    bar = progress_bar(stderr, sum(total.values()), "loaddata", enabled=progress)
    counts = Counter()
    counts.resumed = 0
    batch, batch_model = [], None
    # lines up to here may hold documents of this run: their _ids were absent before it
    claimed = Claimed()
    journal = Journal(db, digest, path) if digest is not None else None
    if journal is not None:
        claimed.upto = claimed.resumed_upto = await journal.open(sum(total.values()))
    in_flight = InFlight()

    async def flush():
        nonlocal batch
        if batch:
            old = [item for item in batch if item[0] <= claimed.resumed_upto]
            new = [item for item in batch if item[0] > claimed.resumed_upto]
            if old:
                await in_flight.wait()
                counts.resumed += await finish_batch(db, batch_model, old)
            if new:
                await insert_batch(db, batch_model, new, claimed, journal, in_flight)
            counts[batch_model._meta.key] += len(batch)
            bar.update(len(batch))
            batch = []

    try:
        try:
            source = (spool.documents(registry) if spool is not None
                      else read_documents(path, registry))
            for number, model, document, _ in source:
                if model is None:
                    continue
                if model is not batch_model or len(batch) >= BATCH_SIZE:
                    await flush()
                    batch_model = model
                batch.append((number, document))
            await flush()
            await in_flight.wait()
        finally:
            await in_flight.settle()
            bar.close()
    except InsertFailed as failure:
        removed = await undo(db, path, registry, claimed.upto, journal)
        raise LoadError(path, failure.line, f"{failure.reason}; {nothing_loaded(removed)}") \
            from None
    except LoadError as exc:  # the file changed since it was validated
        removed = await undo(db, path, registry, claimed.upto, journal)
        raise LoadError(path, exc.line, gettext(
            "%(reason)s (the file changed while loading); %(outcome)s") % {
            "reason": exc.reason, "outcome": nothing_loaded(removed)}) from None
    except (Exception, asyncio.CancelledError) as exc:
        # the database went away, or Ctrl-C: take back what we can, then report
        try:
            removed = await undo(db, path, registry, claimed.upto, journal)
        except Exception:
            raise exc from None
        if isinstance(exc, asyncio.CancelledError):
            print(ngettext("loaddata interrupted; removed the %(count)d document it had "
                           "inserted", "loaddata interrupted; removed the %(count)d documents "
                           "it had inserted", removed) % {"count": removed},
                  file=stderr, flush=True)
            raise
        raise LoadError(path, batch[0][0] if batch else None,
                        f"{type(exc).__name__}: {one_line(exc)}; {nothing_loaded(removed)}") \
            from None
    if journal is not None:
        await journal.close()
    await invalidate_auth_cache(db)      # loaded users or roles count at once everywhere
    return counts


async def undo(db, path, registry, upto, journal):
    """Remove lines 1..``upto``, then the journal entry (kept if the removal fails, so a
    re-run can still finish or roll back)."""
    removed = await remove_loaded(db, path, registry, upto)
    if journal is not None:
        await journal.close()
    return removed


class Journal:
    """A load's entry in ``loaddata_journal``: the last claimed line, written before each
    batch is inserted."""

    def __init__(self, db, digest, path):
        self.collection = db[JOURNAL_COLLECTION]
        self.digest = digest
        self.path = str(path)

    async def open(self, documents):
        """Start (or resume) the load; returns the line an interrupted run claimed up to."""
        found = await self.collection.find_one({"_id": self.digest})
        if found is not None:
            return int(found.get("upto") or 0)
        await self.collection.insert_one({
            "_id": self.digest, "path": self.path, "documents": documents, "upto": 0,
            "started": datetime.datetime.now(datetime.timezone.utc)})
        return 0

    async def claim(self, upto):
        await self.collection.update_one({"_id": self.digest}, {"$set": {"upto": upto}})

    async def close(self):
        await self.collection.delete_one({"_id": self.digest})


async def finish_batch(db, model, batch):
    """Lines an interrupted run claimed: insert those whose document is not in the
    database; returns how many were in already."""
    if model is FILES:
        files = files_of(db)
        missing = [(number, record) for number, record in batch
                   if await files.info(record["_id"]) is None]
        await store_files(files, missing)
        return len(batch) - len(missing)
    collection = db[model._meta.collection]
    ids = [document["_id"] for _, document in batch]
    present = {doc["_id"] for doc in await collection.find(
        {"_id": {"$in": ids}}, {"_id": 1}).to_list(None)}
    missing = [(number, document) for number, document in batch
               if document["_id"] not in present]
    if missing:
        await insert_documents(collection, model._meta.key, missing)
    return len(batch) - len(missing)


def nothing_loaded(removed):
    if not removed:
        return gettext("nothing was loaded")
    return ngettext("nothing was loaded (the %(count)d document this run had inserted was "
                    "removed)", "nothing was loaded (the %(count)d documents this run had "
                    "inserted were removed)", removed) % {"count": removed}


class Claimed:
    """The last line whose ``_id`` was checked absent before this load inserted it
    (``resumed_upto``: the part an interrupted run had claimed)."""

    upto = 0
    resumed_upto = 0


class InFlight:
    """The batch ``load`` is inserting while it reads and checks the next one: at most one,
    so the database does its part (SQLite, on its writer thread) while this process
    decodes the next batch and asks which of its ``_id``s exist."""

    def __init__(self):
        self.task = None
        self.collection, self.ids = None, frozenset()

    def holding(self, collection, ids):
        """Those of ``ids`` the batch in flight inserts into ``collection``."""
        return self.ids.intersection(ids) if collection == self.collection else set()

    async def start(self, insert, collection, ids):
        """Wait for the batch in flight (its ``InsertFailed`` raised here), then start
        ``insert`` (a coroutine) for the batch of ``ids`` into ``collection``."""
        try:
            await self.wait()
        except BaseException:
            insert.close()            # never started
            raise
        self.task = asyncio.ensure_future(insert)
        self.collection, self.ids = collection, frozenset(ids)

    async def wait(self):
        """Wait for the batch in flight; ``InsertFailed`` if it failed."""
        task, self.task = self.task, None
        self.collection, self.ids = None, frozenset()
        if task is not None:
            await task

    async def settle(self):
        """After a failure elsewhere: let the batch in flight end (its outcome left aside)
        before what this run inserted is removed."""
        try:
            await self.wait()
        except (Exception, asyncio.CancelledError):
            pass


async def insert_batch(db, model, batch, claimed, journal=None, in_flight=None):
    """Insert ``[(line, document)]`` of one model; ``InsertFailed`` names the refused line.

    First asks which of the batch's ``_id``s exist already: such a line fails
    before anything of the batch is written, so the rollback (``remove_loaded``
    up to ``claimed.upto``) never removes a document this run did not insert.
    The claim is journaled before the insert, so a killed run is resumed.
    With ``in_flight`` (an ``InFlight``), the insert is left running there (the
    ``_id``s of the batch still in flight count as present) and this returns.
    """
    if model is FILES:
        if in_flight is not None:
            await in_flight.wait()
        return await insert_file_batch(db, batch, claimed, journal)
    collection = db[model._meta.collection]
    key = model._meta.key
    ids = [document["_id"] for _, document in batch]
    present = {doc["_id"] for doc in await collection.find(
        {"_id": {"$in": ids}}, {"_id": 1}).to_list(None)}
    if in_flight is not None:
        present |= in_flight.holding(model._meta.collection, ids)
    if present:
        if in_flight is not None:
            await in_flight.wait()    # an earlier line's failure in flight is named first
        number, document = next((n, d) for n, d in batch if d["_id"] in present)
        raise InsertFailed(number, gettext("%(model)s %(id)s: a document with this _id is "
                                           "already in the database (or earlier in this "
                                           "file)") % {
            "model": key, "id": document["_id"]})
    claimed.upto = batch[-1][0]
    if journal is not None:
        await journal.claim(claimed.upto)
    if in_flight is None:
        await insert_documents(collection, key, batch)
    else:
        await in_flight.start(insert_documents(collection, key, batch), model._meta.collection,
                              ids)


async def insert_file_batch(db, batch, claimed, journal=None):
    """``insert_batch`` for file lines: ``InsertFailed`` when a file id is stored already."""
    files = files_of(db)
    for number, record in batch:
        if await files.info(record["_id"]) is not None:
            raise InsertFailed(number, gettext("file %(id)s: a file with this _id is already "
                                               "stored (or earlier in this file)") % {
                "id": record["_id"]})
    claimed.upto = batch[-1][0]
    if journal is not None:
        await journal.claim(claimed.upto)
    await store_files(files, batch)


async def store_files(files, batch):
    for _number, record in batch:
        await files.put(record["data"], filename=record["filename"],
                        content_type=record["content_type"], metadata=record["metadata"],
                        file_id=record["_id"], uploaded=record["uploaded"])


async def insert_documents(collection, key, batch):
    """``insert_many`` of ``[(line, document)]``; ``InsertFailed`` names the refused line."""
    try:
        # every document passed subset.check_document in clean_document
        await collection.insert_many([document for _, document in batch], ordered=True,
                                     checked=True)
    except BulkWriteError as exc:
        errors = (exc.details or {}).get("writeErrors") or [{}]
        index = errors[0].get("index", 0)
        index = index if isinstance(index, int) and 0 <= index < len(batch) else 0
        number, document = batch[index]
        message = errors[0].get("errmsg") or str(exc)
        raise InsertFailed(number, f"{key} {document['_id']}: {one_line(message)}") from None
    except PyMongoError as exc:
        first, last = batch[0][0], batch[-1][0]
        raise InsertFailed(first, gettext("%(model)s: inserting lines %(first)s-%(last)s "
                                          "failed: %(reason)s") % {
            "model": key, "first": first, "last": last,
            "reason": f"{type(exc).__name__}: {one_line(exc)}"}) from None


async def remove_loaded(db, path, registry, upto):
    """Delete the documents of lines 1..``upto`` (by ``_id``); returns how many went."""
    removed = 0
    pending = {}

    async def delete(collection, ids):
        result = await db[collection].delete_many({"_id": {"$in": ids}})
        return getattr(result, "deleted_count", 0) or 0

    if upto < 1:
        return 0
    for _number, model, document, _ in read_documents(path, registry, upto=upto):
        if model is None:
            continue
        if model is FILES:
            removed += await files_of(db).delete(document["_id"])
            continue
        ids = pending.setdefault(model._meta.collection, [])
        ids.append(document["_id"])
        if len(ids) >= BATCH_SIZE:
            removed += await delete(model._meta.collection, ids)
            pending[model._meta.collection] = []
    for collection, ids in pending.items():
        if ids:
            removed += await delete(collection, ids)
    return removed


def describe_counts(counts):
    """``"3 documents (accounts.user 1, blog.article 2)"``, then ``" and 2 files"`` if any."""
    documents = {key: n for key, n in counts.items() if key != FILE_KEY}
    total = sum(documents.values())
    parts = ", ".join(f"{key} {n}" for key, n in documents.items())
    text = ngettext("%(count)d document", "%(count)d documents", total) % {"count": total}
    files = counts.get(FILE_KEY, 0)
    if parts:
        text += f" ({parts})"
    if files:
        text += " " + ngettext("and %(count)d file", "and %(count)d files", files) % {
            "count": files}
    return text
