"""Compiled filters kept by shape: a query's ``WHERE`` and ``ORDER BY`` text, compiled once
for every filter of the same shape.

A filter's SQL (``sql.compile_filter``, ``sql.compile_sort``) depends on its operators,
paths and the types of its values, never on the values themselves: those are bound as
parameters. Two filters of one shape, such as a list's keyset cursors
``{"created": {"$lte": d}, "$or": [...]}`` for two different pages, or ``{"_id": v}``
for two documents, share one compiled text; only the parameters differ::

    kept = CompiledFilters()
    where, params, order = kept.compile(flt, sort, known, guards, rowid)

``compile`` walks the filter once for its shape and its parameters (``shape_of``) and
compiles only a shape it has not seen (the two compilers' ~0.1 ms for a keyset page;
the walk costs a few µs). A read walks its filter once (``FilterWalk``): the walk also
says how many values the filter holds and whether it holds a ``$regex``, which decide
where the read runs and whether it has a time budget, and hands its shape and
parameters to ``compile``. A filter outside what the walk follows (``$regex``, a list or
sub-document value, a decimal, an ``$in`` of more than ``MAX_MEMBERS`` values, more than
``MAX_VALUES`` keys in all) is compiled every time, as is a shape whose compiled
parameters are not the walk's (a path that has held arrays binds a value twice). The
text is kept per collection state: its array paths and multikey tables are part of the
key, so a path that starts holding arrays is compiled again.
"""
import datetime
import threading

from bson import ObjectId

from ..subset import is_operator_doc
from . import codec, sql

__all__ = ["CompiledFilters", "FilterWalk", "MAX_MEMBERS", "MAX_SHAPES", "MAX_VALUES",
           "shape_of", "values_in"]

#: how many shapes one store keeps (the oldest is dropped first)
MAX_SHAPES = 256
#: the longest ``$in``/``$nin`` list kept as a shape: each length is a shape of its own,
#: so the ids of a page's references (one list per page, of any length) would fill the
#: kept shapes with texts of thousands of placeholders and push out the hot ones
MAX_MEMBERS = 32
#: the most values (keys, list items, scalars: ``values_in``) of a filter a read on the
#: event loop's thread may hold (``embedded.is_bounded_read``); the walk, which runs
#: there, stops past as many keys
MAX_VALUES = 200
#: value types whose SQL depends on the type alone (each binds one parameter; None none)
_SCALARS = frozenset({str, int, float, bool, type(None), ObjectId, datetime.datetime})
_COMPARISONS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte"})


class _Unshaped(Exception):
    """The filter holds something the walk does not follow: compile it every time."""


class FilterWalk:
    """What a read asks of its (validated) filter, from one walk: ``shape`` and ``params``
    (``shape_of``), ``values`` (``values_in``, counted up to ``MAX_VALUES + 1``) and
    ``regex`` (does it hold a ``$regex``). The count is the shape's, found once per shape
    (``_values_of``). A filter the walk does not follow has no shape (``None``); its count
    (by a walk that stops past ``MAX_VALUES``) and its ``$regex`` are found by walks of
    their own when first asked."""

    __slots__ = ("filter", "shape", "params", "_values", "_regex")

    def __init__(self, flt):
        self.filter = flt
        self.params = []
        try:
            self.shape = _document(flt, self.params, [0]) if flt else ()
            self._values, self._regex = None if self.shape else 0, False
        except _Unshaped:
            self.shape = self.params = self._values = self._regex = None

    @property
    def values(self):
        if self._values is None:
            self._values = values_in(self.filter, MAX_VALUES) if self.shape is None \
                else _values_of(self.shape, self.filter)
        return self._values

    @property
    def regex(self):
        if self._regex is None:
            self._regex = sql.uses_regex(self.filter)
        return self._regex


def shape_of(flt):
    """``(shape, params)``: a hashable key of ``flt``'s SQL and the values
    ``sql.compile_filter`` binds for it, in its order (``codec.sql_param`` of each); or
    ``(None, None)`` when the filter holds something the walk does not follow."""
    walk = FilterWalk(flt)
    return walk.shape, walk.params


def values_in(value, most):
    """How many keys, items and scalars ``value`` holds, counting stopped past ``most``."""
    if isinstance(value, dict):
        seen = len(value)
        for item in value.values():
            if seen > most:
                break
            seen += values_in(item, most - seen)
        return seen
    if isinstance(value, (list, tuple)):
        seen = 0
        for item in value:
            if seen > most:
                break
            seen += values_in(item, most - seen)
        return seen
    return 1


#: ``{shape: values_in of its filters}`` (every filter of a shape holds as many values)
_values_by_shape = {}


def _values_of(shape, flt):
    values = _values_by_shape.get(shape)
    if values is None:
        values = values_in(flt, MAX_VALUES)
        if len(_values_by_shape) >= MAX_SHAPES:
            _values_by_shape.clear()
        _values_by_shape[shape] = values
    return values


def _document(flt, params, keys):
    """The shape of the filter document ``flt``; ``keys``: ``[how many keys the walk has
    met]``: past ``MAX_VALUES`` (a filter of more values) it stops."""
    if not isinstance(flt, dict):
        raise _Unshaped(type(flt))
    keys[0] += len(flt)
    if keys[0] > MAX_VALUES:
        raise _Unshaped("values")
    parts = []
    for key, value in flt.items():
        if key in ("$and", "$or", "$nor"):
            if not isinstance(value, (list, tuple)):
                raise _Unshaped(type(value))
            parts.append((key, tuple(_document(sub, params, keys) for sub in value)))
        elif is_operator_doc(value):
            parts.append((key, _operators(value, params)))
        else:
            parts.append((key, _scalar(value, params)))
    return tuple(parts)


def _operators(ops, params):
    parts = []
    for op, arg in ops.items():
        if op in _COMPARISONS:
            parts.append((op, _scalar(arg, params)))
        elif op in ("$in", "$nin"):
            parts.append((op, _members(arg, params)))
        elif op == "$exists":
            parts.append((op, bool(arg)))
        elif op == "$not" and is_operator_doc(arg):
            parts.append((op, _operators(arg, params)))
        else:                                   # $regex, $options, anything new
            raise _Unshaped(op)
    return tuple(parts)


def _scalar(value, params):
    kind = type(value)
    if kind not in _SCALARS:
        raise _Unshaped(kind)
    if value is not None:
        params.append(codec.sql_param(value))
    return kind


def _members(values, params):
    """An ``$in`` list: ``sql.FilterCompiler`` binds its values grouped by type rank, in
    the order each rank first appears (``null`` binds nothing)."""
    if not isinstance(values, (list, tuple)) or len(values) > MAX_MEMBERS:
        raise _Unshaped(type(values))
    kinds = tuple(_scalar(value, []) for value in values)
    by_rank = {}
    for value in values:
        if value is not None:
            by_rank.setdefault(codec.rank(value), []).append(codec.sql_param(value))
    for group in by_rank.values():
        params.extend(group)
    return kinds


class CompiledFilters:
    """The compiled text of up to ``MAX_SHAPES`` filter shapes read through one store (a
    new shape beyond them drops the oldest). Any thread may use it: a look-up takes no
    lock (a lost race compiles one shape twice, to the same text); keeping a new shape
    takes ``_keeping``, so two threads never drop the same oldest one."""

    def __init__(self, size=MAX_SHAPES):
        self.size = size
        self._kept = {}
        self._keeping = threading.Lock()

    def compile(self, flt, sort, known, guards, rowid, walk=None):
        """``(where, params, order)`` as ``sql.compile_filter(flt, known, guards, rowid)``
        and ``sql.compile_sort(sort, known, flt)`` give them; ``walk``: ``flt``'s
        ``FilterWalk`` when the read has made it (else it is made here)."""
        if walk is None:
            walk = FilterWalk(flt)
        shape, values = walk.shape, walk.params
        if shape is None:
            return self._compiled(flt, sort, known, guards, rowid)
        key = (shape, tuple((path, direction) for path, direction in sort), frozenset(known),
               frozenset(guards.items()), rowid)
        kept = self._kept.get(key)
        if kept is None:
            where, params, order = self._compiled(flt, sort, known, guards, rowid)
            if list(params.values()) != values:      # not the walk's parameters: not kept
                return where, params, order
            with self._keeping:
                while len(self._kept) >= self.size:
                    del self._kept[next(iter(self._kept))]
                self._kept[key] = (where, list(params), order)
            return where, params, order
        where, names, order = kept
        return where, dict(zip(names, values)), order

    @staticmethod
    def _compiled(flt, sort, known, guards, rowid):
        where, params = sql.compile_filter(flt, known, guards, rowid)
        return where, params, sql.compile_sort(sort, known, flt)
