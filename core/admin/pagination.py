"""Keyset pagination for list pages: fast on any page of a big collection.

A page is "the ``per_page`` objects after (or before) this position in the
sort order". The position is the last (first) row's sort-key values plus its
``_id`` (the tie-breaker that makes the order total), carried in an opaque,
signed, url-safe token::

    token = encode_cursor(secret, sort, values, "next")
    position = decode_cursor(secret, token, sort)     # CursorError if tampered
    for part in keyset_segments(sort, position.values, position.direction == "prev"):
        rows += find({"$and": [base_filter, part]}, sort, limit=remaining)

Nothing is skipped: with an index on the sort keys *and* ``_id`` (e.g.
``Index(["-created", "-id"])`` for ``ordering = ["-created"]``) the store seeks
to the cursor, so page 10,000 costs what page 1 costs. Missing and ``None``
values sort first ascending (as in MongoDB); ``keyset_filter`` (one filter) and
``keyset_segments`` (the same rows as index-friendly parts) handle them.

Counts follow the same rule: ``estimated_document_count`` when nothing narrows
the list, ``count_documents(filter, limit=CAP + 1)`` otherwise ("1,000+"). A count
is kept per collection and filter for ``COUNT_KEPT_SECONDS`` while this process
writes nothing to the collection (``Collection.writes``): the next pages of the same
list, and other users' lists with the very same filter (their row scope is part of
it, so the same filter means the same rows), reuse it; a write made by another
process shows in the count within those seconds. Requests that need the same count
while it is being read await that one read instead of counting again, and keep it as
of when that read started.
"""
import asyncio
import base64
import datetime
import hmac
import json
import time
import weakref

import bson
import bson.errors
from bson import ObjectId

from core.i18n import decimal_formatter
from core.signing import prefixed_digest

COUNT_CAP = 1000
#: how long a list's count is reused while this process writes nothing to its collection
COUNT_KEPT_SECONDS = 2.0
#: how many filters' counts are kept per collection (then it starts again)
MAX_KEPT_COUNTS = 500
#: ``{collection: {_count_key(filter): (writes, monotonic time, count)}}``
_kept_counts = weakref.WeakKeyDictionary()
#: ``{collection: {(_count_key(filter), writes): (monotonic time, task)}}``: the counts
#: being read now and when each read started
_counts_in_flight = weakref.WeakKeyDictionary()

__all__ = ["COUNT_CAP", "CursorError", "Page", "Position", "count_rows", "decode_cursor",
           "encode_cursor", "fetch_page", "format_count", "keyset_filter", "keyset_segments",
           "reverse_sort", "sort_values"]


class CursorError(ValueError):
    """The page token is malformed, forged or for another sort order (answer 400)."""


class Position:
    """A decoded cursor: ``values`` (one per sort key, ``_id`` last) and ``direction``."""

    def __init__(self, values, direction):
        self.values = values
        self.direction = direction

    def __repr__(self):
        return f"<Position {self.direction} {self.values!r}>"


# -- values <-> JSON ------------------------------------------------------------------------------
#: the token's JSON writer, made once (``json.dumps`` with ``separators`` makes one per call)
_JSON = json.JSONEncoder(separators=(",", ":"))
#: the JSON scalars a position value is written as itself
_PLAIN = frozenset({type(None), bool, int, float, str})


def _dump(value):
    if type(value) in _PLAIN:            # most sort keys: no chain of type tests
        return value
    if isinstance(value, ObjectId):
        return {"o": str(value)}
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return {"d": value.isoformat()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise CursorError(f"cannot page on a value of type {type(value).__name__}")


def _load(value):
    if isinstance(value, dict) and len(value) == 1:
        (tag, text), = value.items()
        if not isinstance(text, str):
            raise CursorError("bad value in cursor")
        try:
            if tag == "o":
                return ObjectId(text)
            if tag == "d":
                moment = datetime.datetime.fromisoformat(text)
                if moment.tzinfo is None:
                    raise ValueError("naive")
                return moment
        except (ValueError, TypeError):
            raise CursorError("bad value in cursor") from None
        raise CursorError("bad value in cursor")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise CursorError("bad value in cursor")


def _signature(secret, payload):
    return base64.urlsafe_b64encode(
        prefixed_digest(secret, b"bastion.cursor:", payload)[:16]).rstrip(b"=")


def _sort_id(sort):
    return ",".join(f"{'-' if d < 0 else ''}{path}" for path, d in sort)


def encode_cursor(secret, sort, values, direction):
    """An opaque token for the position ``values`` in ``sort``; ``direction`` "next"/"prev"."""
    body = _JSON.encode({"s": _sort_id(sort), "v": [_dump(v) for v in values],
                         "d": direction}).encode()
    payload = base64.urlsafe_b64encode(body).rstrip(b"=")
    return (payload + b"." + _signature(secret, payload)).decode("ascii")


def decode_cursor(secret, token, sort):
    """The ``Position`` in ``token``; ``CursorError`` unless signed by us for ``sort``."""
    if not isinstance(token, str) or len(token) > 4096 or token.count(".") != 1:
        raise CursorError("The page cursor is not valid.")
    payload, signature = token.encode("ascii", "replace").split(b".")
    if not hmac.compare_digest(signature, _signature(secret, payload)):
        raise CursorError("The page cursor is not valid.")
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
    except (ValueError, TypeError):
        raise CursorError("The page cursor is not valid.") from None
    if not isinstance(data, dict) or data.get("s") != _sort_id(sort):
        raise CursorError("The page cursor belongs to another sort order.")
    values, direction = data.get("v"), data.get("d")
    if direction not in ("next", "prev") or not isinstance(values, list) \
            or len(values) != len(sort):
        raise CursorError("The page cursor is not valid.")
    return Position([_load(v) for v in values], direction)


# -- queries -------------------------------------------------------------------------------------
def reverse_sort(sort):
    return [(path, -direction) for path, direction in sort]


def sort_values(doc, sort):
    """The values of ``doc`` (a stored document) at each sort path."""
    out = []
    for path, _ in sort:
        value = doc
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        out.append(value)
    return out


def _after(path, direction, value):
    """A filter for "strictly after ``value`` at ``path``" in ``direction`` (1 or -1).

    ``None`` (and a missing field) sorts before every other value.
    """
    if direction > 0:
        return {path: {"$ne": None}} if value is None else {path: {"$gt": value}}
    if value is None:
        return None                     # nothing sorts below null
    return {"$or": [{path: {"$lt": value}}, {path: None}]}


def keyset_filter(sort, values, backwards=False):
    """Rows after (``backwards``: before) ``values`` in ``sort`` (the last key is unique).

    ``(k1 > v1) or (k1 == v1 and k2 > v2) or ...``, with null handling.
    """
    if backwards:
        sort = reverse_sort(sort)
    branches = []
    for i, (path, direction) in enumerate(sort):
        after = _after(path, direction, values[i])
        if after is None:
            continue
        equal = [{p: values[j]} for j, (p, _) in enumerate(sort[:i])]
        branches.append({"$and": equal + [after]} if equal else after)
    if not branches:
        return {"_id": {"$in": []}}
    return branches[0] if len(branches) == 1 else {"$or": branches}


def keyset_segments(sort, values, backwards=False):
    """Filters whose results, concatenated in this order, are the rows after ``values``.

    The same rows as ``keyset_filter``, split so that each part reads one range of an
    index on the sort keys (an ``$or`` across the first key would make the store scan
    and sort): ``first key beyond the cursor (or equal, then the other keys beyond
    it)``, and separately the ``None``/missing values of the first key, which sort
    before every other value. Run them in order, each with the page's remaining limit.
    """
    if backwards:
        sort = reverse_sort(sort)
    (path, direction), rest = sort[0], sort[1:]
    value = values[0]
    tail = keyset_filter(rest, values[1:]) if rest else None

    def tied(equal):
        if tail is None:
            return None
        return {"$and": [equal, tail]}

    if value is None:
        nulls = tied({path: None})
        segments = [nulls] if nulls is not None else []
        if direction > 0:
            segments.append({path: {"$ne": None}})
        return segments
    bound, beyond = ("$gte", "$gt") if direction > 0 else ("$lte", "$lt")
    after = {path: {beyond: value}}
    inner = {"$or": [after, tail]} if tail is not None else after
    segments = [{"$and": [{path: {bound: value}}, inner]}]
    if direction < 0:
        segments.append({path: None})
    return segments


def format_count(count, capped):
    """``"1,234"``, or ``"1,000+"`` when a capped count hit the cap, in the active
    language's digits (``"1 234"`` in French, ``"1.234"`` in German)."""
    digits = decimal_formatter()
    if capped and count > COUNT_CAP:
        return f"{digits(COUNT_CAP)}+"
    return digits(count)


# -- one page of rows --------------------------------------------------------------------------
class Page:
    """One page of a list: ``objects`` in ``sort`` order, whether there are rows before
    (``has_prev``) and after (``has_next``) it, and ``cursor(obj, direction)``."""

    def __init__(self, objects, sort, has_prev, has_next, secret):
        self.objects = objects
        self.sort = sort
        self.has_prev = has_prev
        self.has_next = has_next
        self._secret = secret

    def cursor(self, obj, direction):
        """The token of the page after (``"next"``) or before (``"prev"``) ``obj`` (a
        projected object's from its stored document: its query fetched the sort keys)."""
        stored = obj._stored if obj._projected is not None else obj.to_bson()
        return encode_cursor(self._secret, self.sort, sort_values(stored, self.sort),
                             direction)

    @property
    def next_cursor(self):
        return self.cursor(self.objects[-1], "next") if self.has_next and self.objects \
            else None

    @property
    def prev_cursor(self):
        return self.cursor(self.objects[0], "prev") if self.has_prev and self.objects \
            else None


async def fetch_page(model, db, flt, sort, position, per_page, secret, fields=None):
    """The ``Page`` of ``model`` objects matching ``flt`` after/before ``position``.

    ``position`` is a decoded cursor (``None``: the first page). Each keyset segment
    reads one index range, with the page's remaining limit; usually only the first runs.
    ``fields``: only those are fetched (projected objects; the sort keys are added).
    """
    if fields is not None:
        fields = list(dict.fromkeys([*fields, *(path.split(".", 1)[0] for path, _ in sort
                                                if path != "_id")]))
    backwards = position is not None and position.direction == "prev"
    query_sort = reverse_sort(sort) if backwards else sort
    segments = [None] if position is None else keyset_segments(
        sort, position.values, backwards=backwards)
    objects = []
    for segment in segments:
        wanted = per_page + 1 - len(objects)
        if wanted <= 0:
            break
        part = flt if segment is None else ({"$and": [flt, segment]} if flt else segment)
        objects += await model.find(part, sort=query_sort, limit=wanted, db=db,
                                    fields=fields).to_list(wanted)
    more = len(objects) > per_page
    objects = objects[:per_page]
    if backwards:
        objects.reverse()
        has_prev, has_next = more, True
    else:
        has_prev, has_next = position is not None, more
    return Page(objects, sort, has_prev, has_next, secret)


def _count_key(flt):
    """The key a count of ``flt`` is kept under: its exact BSON (``repr`` cuts a compiled
    pattern short, so two filters could share one); ``None``: not kept (a value BSON
    cannot hold)."""
    if not flt:
        return b""
    try:
        return bson.encode(flt)
    except (bson.errors.InvalidDocument, TypeError, ValueError, OverflowError):
        return None


async def _read_once(collection, key, writes, read, now):
    """``(started, count)``: the count ``read()`` gives, read once for all the requests
    that ask for the same filter (``key``; ``None``: not shareable) of ``collection``
    while it is being read and nothing was written (``writes``): the first request's read
    runs as a task the others await too, so ten lists opened at once count once, not ten
    times. ``started`` is the ``now`` of the request that began the read, the moment the
    count is as of, however late a request joined it. A request that goes away does not
    stop the read the others await; an error reaches every one of them."""
    if key is None:
        return now, await read()
    in_flight = _counts_in_flight.get(collection)
    if in_flight is None:
        in_flight = _counts_in_flight[collection] = {}
    flight = in_flight.get((key, writes))
    if flight is None:
        task = asyncio.ensure_future(read())
        flight = in_flight[(key, writes)] = (now, task)
        task.add_done_callback(
            lambda done, flight_key=(key, writes): _landed(in_flight, flight_key, done))
    started, task = flight
    return started, await asyncio.shield(task)


def _landed(in_flight, flight_key, task):
    """A count read in flight ended: later requests read again (or take the kept count);
    its error, if every request that awaited it went away, is not left unretrieved."""
    flight = in_flight.get(flight_key)
    if flight is not None and flight[1] is task:
        del in_flight[flight_key]
    if not task.cancelled():
        task.exception()


async def count_rows(model, db, flt):
    """``(count, text, estimated)``: the collection's estimate when ``flt`` is empty,
    else a count capped at ``COUNT_CAP + 1`` (``"1,000+"``); kept for
    ``COUNT_KEPT_SECONDS`` (see the module's text)."""
    collection = model.get_collection(db)
    kept = _kept_counts.get(collection)
    if kept is None:
        kept = _kept_counts[collection] = {}
    key = _count_key(flt)
    writes, now = collection.writes, time.monotonic()     # before the count is read
    held = kept.get(key) if key is not None else None
    if held is not None and held[0] == writes and now - held[1] < COUNT_KEPT_SECONDS:
        count = held[2]
    else:
        if flt:
            def read():
                return model.count(flt, limit=COUNT_CAP + 1, db=db)
        else:
            read = collection.estimated_document_count
        started, count = await _read_once(collection, key, writes, read, now)
        if key is not None:
            if len(kept) >= MAX_KEPT_COUNTS:
                kept.clear()
            kept[key] = (writes, started, count)
    if flt:
        return count, format_count(count, capped=True), False
    return count, format_count(count, capped=False), True
