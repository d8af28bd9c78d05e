"""Translate subset filters and sorts into SQLite expressions over the JSON column.

Every field path is read through two expressions, built by one function so that
a query's expression is character-for-character the one in a declared index and
SQLite's planner uses the index:

    rank(path)  = MongoDB's type rank of the value (missing and null share rank 1)
    value(path) = the stored JSON scalar (ObjectIds, dates, decimals and binary
              data are tagged strings, see ``codec``)

``{"n": {"$gt": 5}}`` becomes ``rank(n) = 2 AND value(n) > 5``: type bracketing
for free, and ``ORDER BY rank, value`` is MongoDB's mixed-type sort order.

A path that has ever held an array in this collection (the store records them)
also matches through the array's elements, as MongoDB does, with
``EXISTS (SELECT 1 FROM json_each(...))``; such paths cannot be sorted on.
"""
import itertools
import re
import threading
import time
from functools import lru_cache

import _sre
from bson.decimal128 import Decimal128

from ..errors import UnsupportedOperation
from ..subset import is_operator_doc
from . import codec

REGEX_FUNCTION = "bastion_regex"


def json_path(segments):
    """``["a", "b"]`` → ``$."a"."b"`` (quoted so any field name is safe)."""
    return "$" + "".join(f'."{segment}"' for segment in segments)


def sql_string(text):
    return "'" + text.replace("'", "''") + "'"


def tagged(letter=""):
    """SQL for the text ``codec.TAG + letter`` (``char(127,111)``: the tag and "o")."""
    return f"char({','.join(str(ord(c)) for c in codec.TAG + letter)})"


class Operand:
    """Where a value is read from: a JSON source expression and a path in it,
    or the ``type``/``value`` columns of a ``json_each`` row."""

    def __init__(self, type_expr, value_expr):
        self.type = type_expr
        self.value = value_expr

    @classmethod
    def at(cls, source, segments):
        path = sql_string(json_path(segments))
        return cls(f"json_type({source},{path})", f"json_extract({source},{path})")

    @property
    def rank(self):
        # the tag and its letter read at once: TAG + "o" is an ObjectId, "d" a date,
        # "n" a decimal (a number), "b" binary data; anything else is a string
        t, x, c = self.type, self.value, codec
        return (f"(CASE {t} WHEN 'integer' THEN {c.RANK_NUMBER} WHEN 'real' THEN "
                f"{c.RANK_NUMBER} WHEN 'text' THEN (CASE substr({x},1,2) "
                f"WHEN {tagged(c.OID)} THEN {c.RANK_OID} WHEN {tagged(c.DATE)} THEN "
                f"{c.RANK_DATE} WHEN {tagged(c.DECIMAL)} THEN {c.RANK_NUMBER} "
                f"WHEN {tagged(c.BINARY)} THEN {c.RANK_BINARY} ELSE {c.RANK_STRING} END) "
                f"WHEN 'true' THEN {c.RANK_BOOL} WHEN 'false' THEN {c.RANK_BOOL} "
                f"WHEN 'object' THEN {c.RANK_OBJECT} WHEN 'array' THEN {c.RANK_ARRAY} "
                f"ELSE {c.RANK_NULL} END)")

    @property
    def key(self):
        """The value as indexed and compared (``codec.sql_param`` writes parameters the
        same way): an ObjectId is its 16 base-64 characters without the tag, a date its
        epoch milliseconds as an integer (6 bytes in an index entry), anything else the
        stored scalar. Ranks tell the types apart, so keys of one rank compare like the
        values. ``ifnull``: null and missing index as one key, as in a MongoDB unique
        index."""
        x = self.value
        return (f"ifnull(CASE substr({x},1,2) WHEN {tagged(codec.OID)} THEN substr({x},3) "
                f"WHEN {tagged(codec.DATE)} THEN CAST(substr({x},3) AS INTEGER) "
                f"ELSE {x} END,0)")


def index_columns(path, direction):
    """The two indexed expressions for one key of an index (or ORDER BY term)."""
    operand = Operand.at("doc", path.split("."))
    suffix = " DESC" if direction == -1 else ""
    return [operand.rank + suffix, operand.key + suffix]


def index_definition(spec):
    """The column list of the SQLite index for the key ``spec`` (``[(path, ±1)]``).

    When the last key is descending every direction is reversed: SQLite reads an
    index backwards as readily as forwards, so the same sorts are served, while
    keys that grow with time (dates, ObjectIds: ``created desc, _id desc``) now
    arrive at the right edge of their range, where B-tree pages fill up, instead
    of the left edge, where each split leaves two half-empty pages (half the
    bytes of such an index).
    """
    flip = -1 if spec and spec[-1][1] == -1 else 1
    return ", ".join(column for path, direction in spec
                     for column in index_columns(path, direction * flip))


@lru_cache(maxsize=512)
def compile_regex(pattern, options):
    flags = 0
    for letter, flag in (("i", re.IGNORECASE), ("m", re.MULTILINE),
                         ("s", re.DOTALL), ("x", re.VERBOSE)):
        if letter in options:
            flags |= flag
    return re.compile(pattern, flags)


_REGEX_SPECIALS = frozenset(".^$*+?{}[]|()\\")
GLOB_SPECIALS = frozenset("*?[")
#: longer literals go to the regex callback (SQLite caps LIKE/GLOB patterns at 50,000 bytes)
MAX_LITERAL_LENGTH = 1000

#: the longest string the Python regex callback will look at; a longer value makes the
#: query fail with ``QueryTimeout`` rather than hold the GIL for as long as it takes
REGEX_SUBJECT_LIMIT = 1_000_000


def regex_literal(pattern, options):
    """The literal text ``pattern`` matches (e.g. ``re.escape`` output), or None.

    Literal searches — what an admin search box sends — are run by SQLite's C
    functions (``instr``, ``LIKE``, ``GLOB``) instead of a Python callback per row.
    """
    if "x" in options:
        return None
    out, chars = [], iter(pattern)
    for char in chars:
        if char == "\\":
            escaped = next(chars, None)
            if escaped is None or escaped.isalnum() or escaped == "_":
                return None
            out.append(escaped)
        elif char in _REGEX_SPECIALS:
            return None
        else:
            out.append(char)
    literal = "".join(out)
    if not literal or "\x00" in literal or len(literal) > MAX_LITERAL_LENGTH:
        return None
    return literal


def like_pattern(literal):
    """``literal`` as a LIKE pattern with ``\\`` as the escape character."""
    return "%" + "".join("\\" + c if c in "%_\\" else c for c in literal) + "%"


# -- case-insensitive literals as GLOB character classes ------------------------------------
# Python's re (the reference the embedded store answers like) matches a cased pattern
# character p, under IGNORECASE, against every character s whose simple lower-case
# mapping is lower(p) or one of re's extra equivalents of lower(p) (i/ı, s/ſ, µ/μ...).
_lower = getattr(_sre, "unicode_tolower", None)
_iscased = getattr(_sre, "unicode_iscased", None)
#: characters that lower-case to a letter without being its upper or title case
#: (tests/embedded checks this table against every code point of this Python)
ODD_LOWERS = {0x69: (0x130,), 0xdf: (0x1e9e,), 0xe5: (0x212b,), 0x3b8: (0x3f4,),
              0x3c9: (0x2126,), 0x6b: (0x212a,)}


def _simple_lower(code):
    if _lower is not None:
        return _lower(code)
    lowered = chr(code).lower()                      # pragma: no cover - not CPython
    return ord(lowered) if len(lowered) == 1 else code


def _extra_cases():
    try:
        from re import _casefix
        return _casefix._EXTRA_CASES
    except (ImportError, AttributeError):             # pragma: no cover - not CPython 3.11+
        return {}


@lru_cache(maxsize=4096)
def fold_class(char):
    """Every character ``re.search(re.escape(char), s, re.I)`` accepts, sorted."""
    code = ord(char)
    cased = _iscased(code) if _iscased is not None else char.lower() != char.upper()
    if not cased:
        return (char,)
    low = _simple_lower(code)
    targets = {low, *_extra_cases().get(low, ())}
    candidates = {code}
    for target in targets:
        candidates.add(target)
        candidates.update(ODD_LOWERS.get(target, ()))
        for cased_form in (chr(target).upper(), chr(target).title()):
            if len(cased_form) == 1:
                candidates.add(ord(cased_form))
    return tuple(sorted(chr(c) for c in candidates if _simple_lower(c) in targets))


def _glob_char(char):
    return f"[{char}]" if char in GLOB_SPECIALS else char


def glob_patterns(literal, ignore_case):
    """GLOB patterns (any one matching is a match) for "contains ``literal``".

    Case-insensitively each character becomes its ``fold_class`` (``[cC][aA][fF][éÉ]``);
    the first is spelled out, one pattern per member, because GLOB scans quickly for
    ``*x…`` and slowly for ``*[…]…``.
    """
    def spell(char):
        members = fold_class(char) if ignore_case else (char,)
        return _glob_char(members[0]) if len(members) == 1 else "[" + "".join(members) + "]"
    rest = "".join(spell(char) for char in literal[1:])
    firsts = fold_class(literal[0]) if ignore_case else (literal[0],)
    return [f"*{_glob_char(first)}{rest}*" for first in firsts]


def folds_needed(literal):
    """True when ``literal`` cannot match pure-ASCII text case-insensitively (a character
    with no ASCII member in its fold class), so rows without non-ASCII text can be skipped."""
    return any(char != codec.TAG and not any(member.isascii() for member in fold_class(char))
               for char in literal)            # rows' folds flag leaves tags out


# -- the Python regex callback, on a budget -------------------------------------------------
class _Budget(threading.local):
    deadline = None
    exceeded = None


budget = _Budget()


def start_budget(seconds):
    """Give the queries this thread runs next ``seconds`` in all (``stop_budget`` ends it)."""
    budget.deadline = time.monotonic() + seconds
    budget.exceeded = None


def stop_budget():
    """End the budget; return why it ran out (text), or None if it did not."""
    reason = budget.exceeded
    budget.deadline = budget.exceeded = None
    return reason


def budget_spent():
    """Progress handler: non-zero (interrupt the statement) once the budget is spent."""
    if budget.deadline is not None and time.monotonic() > budget.deadline:
        budget.exceeded = budget.exceeded or "the query ran past its time budget"
        return 1
    return 0


def regex_function(pattern, options, value):
    """SQL function: does the stored string ``value`` match? (registered per connection).

    Only regular expressions that are not literal text get here. Each call is
    bounded (a value over ``REGEX_SUBJECT_LIMIT`` characters is refused) and the
    statement's budget is checked before each one.
    """
    if not isinstance(value, str):
        return 0
    if budget.deadline is not None and time.monotonic() > budget.deadline:
        budget.exceeded = budget.exceeded or "the query ran past its time budget"
        raise TimeoutError(budget.exceeded)
    if len(value) > REGEX_SUBJECT_LIMIT:
        budget.exceeded = (f"a value of {len(value)} characters is too long for a "
                           f"regular expression (the limit is {REGEX_SUBJECT_LIMIT}); "
                           "search it for literal text instead")
        raise TimeoutError(budget.exceeded)
    if value.startswith(codec.TAG):
        value = codec.decode_string(value)
        if not isinstance(value, str):
            return 0
    return 1 if compile_regex(pattern, options).search(value) else 0


def uses_regex(flt):
    """Does the (validated) filter hold a ``$regex`` anywhere?"""
    if isinstance(flt, dict):
        return "$regex" in flt or any(uses_regex(value) for value in flt.values())
    if isinstance(flt, (list, tuple)):
        return any(uses_regex(item) for item in flt)
    return False


class FilterCompiler:
    """Compile one filter to ``(sql, params)`` for a collection's table.

    ``array_paths`` is the set of dotted paths that have held an array in the
    collection; only those pay for element matching.
    """

    def __init__(self, array_paths, guards=None, rowid="rowid"):
        self.array_paths = frozenset(array_paths)
        self.guards = guards or {}          # {path: multikey side table} (see multikey)
        self.rowid = rowid
        self.params = {}
        self._aliases = itertools.count(1)

    def param(self, value):
        """Bind ``value``; named, because sub-expressions are built out of text order."""
        name = f"p{len(self.params)}"
        self.params[name] = value
        return ":" + name

    # -- documents and logic ----------------------------------------------
    def compile(self, flt):
        terms = []
        for key, value in flt.items():
            if key == "$and":
                terms.append(self._join([self.compile(sub) for sub in value], " AND "))
            elif key == "$or":
                terms.append(self._join([self.compile(sub) for sub in value], " OR "))
            elif key == "$nor":
                terms.append(self._not(self._join([self.compile(sub) for sub in value], " OR ")))
            elif is_operator_doc(value):
                terms.extend(self._operators(key, value))
            else:
                terms.append(self._equals(key, value))
        return self._join(terms, " AND ") if terms else "1"

    @staticmethod
    def _join(terms, glue):
        return terms[0] if len(terms) == 1 else "(" + glue.join(f"({t})" for t in terms) + ")"

    @staticmethod
    def _not(term):
        return f"NOT coalesce(({term}),0)"

    def _operators(self, path, ops):
        terms = []
        for op, arg in ops.items():
            if op == "$options":
                continue
            if op == "$eq":
                terms.append(self._equals(path, arg))
            elif op == "$ne":
                terms.append(self._not(self._equals(path, arg)))
            elif op in ("$gt", "$gte", "$lt", "$lte"):
                terms.append(self._any(path, lambda o, op=op, arg=arg: self._compare(o, op, arg)))
            elif op == "$in":
                terms.append(self._in(path, arg))
            elif op == "$nin":
                terms.append(self._not(self._in(path, arg)))
            elif op == "$exists":
                exists = self._any(path, lambda o: f"{o.type} IS NOT NULL", whole_only=True)
                terms.append(exists if arg else self._not(exists))
            elif op == "$regex":
                options = ops.get("$options", "")
                terms.append(self._any(path, lambda o, p=arg, f=options: self._regex(o, p, f)))
            elif op == "$not":
                terms.append(self._not(self._join(self._operators(path, arg), " AND ")))
            else:  # pragma: no cover - subset.check_filter rejects these first
                raise UnsupportedOperation(f"query operator {op!r} is outside the subset")
        return terms

    # -- leaf conditions on one operand -----------------------------------
    def _equals(self, path, value):
        if isinstance(value, (list, tuple)):
            text = codec.dumps(list(value))
            return self._any(path, lambda o: (f"({o.rank}={codec.RANK_ARRAY} AND "
                                              f"{o.value}=json({self.param(text)}))"))
        return self._guarded(path, [value], self._any(path, lambda o: self._scalar_eq(o, value)))

    def _guarded(self, path, values, term):
        """``term`` behind its multikey side table's lookup of ``values`` when the path
        has one (``core.db.embedded.multikey``) and every value is a plain scalar."""
        side = self.guards.get(path)
        if side is None or not values or any(
                isinstance(v, (Decimal128, list, tuple, dict)) or
                codec.rank(v) == codec.RANK_NULL for v in values):
            return term
        by_rank = {}
        for value in values:
            by_rank.setdefault(codec.rank(value), []).append(value)
        lookups = " OR ".join(
            f"(rank={rank} AND key IN ({','.join(self.param(codec.sql_param(v)) for v in group)}))"
            for rank, group in by_rank.items())
        return f"({self.rowid} IN (SELECT docid FROM {side} WHERE {lookups}) AND {term})"

    def _scalar_eq(self, operand, value):
        rank = codec.rank(value)
        if rank == codec.RANK_NULL:
            return f"{operand.rank}={rank}"
        if isinstance(value, Decimal128):
            low, high = codec.decimal_bounds(value)
            return (f"({operand.rank}={codec.RANK_NUMBER} AND {operand.type}='text' AND "
                    f"{operand.key}>={self.param(low)} AND {operand.key}<{self.param(high)})")
        return f"({operand.rank}={rank} AND {operand.key}={self.param(codec.sql_param(value))})"

    def _compare(self, operand, op, value):
        rank = codec.rank(value)
        if rank == codec.RANK_NULL:
            return f"{operand.rank}={rank}" if op in ("$gte", "$lte") else "0"
        if isinstance(value, Decimal128):
            # a decimal compares with the decimals' sort keys (see codec.decimal_bounds)
            low, high = codec.decimal_bounds(value)
            sql_op, bound = {"$gt": (">=", high), "$gte": (">=", low),
                             "$lt": ("<", low), "$lte": ("<", high)}[op]
            return (f"({operand.rank}={codec.RANK_NUMBER} AND {operand.type}='text' AND "
                    f"{operand.key}{sql_op}{self.param(bound)})")
        sql_op = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}[op]
        return (f"({operand.rank}={rank} AND "
                f"{operand.key}{sql_op}{self.param(codec.sql_param(value))})")

    def _in(self, path, values):
        if not values:
            return "0"

        def leaf(operand):
            by_rank = {}
            terms = []
            for value in values:
                if isinstance(value, Decimal128):
                    terms.append(self._scalar_eq(operand, value))
                else:
                    by_rank.setdefault(codec.rank(value), []).append(value)
            for rank, group in by_rank.items():
                if rank == codec.RANK_NULL:
                    terms.append(f"{operand.rank}={rank}")
                    continue
                marks = ",".join(self.param(codec.sql_param(v)) for v in group)
                terms.append(f"({operand.rank}={rank} AND {operand.key} IN ({marks}))")
            return self._join(terms, " OR ")
        return self._guarded(path, list(values), self._any(path, leaf))

    def _regex(self, operand, pattern, options):
        x = operand.value
        literal = regex_literal(pattern, options)
        if literal is None:
            # a real regular expression: Python's re, one bounded call per string
            match = f"{REGEX_FUNCTION}({self.param(pattern)},{self.param(options)},{x})"
            return f"({operand.rank}={codec.RANK_STRING} AND {match})"
        if "i" not in options:
            lit = self.param(literal)

            def contains(text):
                return f"instr({text},{lit})>0"
        else:
            # GLOB classes give Unicode case folding in C; LIKE (ASCII folding) is exact
            # and quicker for an ASCII literal on a row whose text is all ASCII
            globs = [self.param(glob) for glob in glob_patterns(literal, True)]
            like = self.param(like_pattern(literal)) if literal.isascii() else None
            needs_folds = not literal.isascii() and folds_needed(literal)

            def contains(text):
                match = self._join([f"{text} GLOB {glob}" for glob in globs], " OR ")
                if like is not None:
                    return f"(CASE WHEN folds THEN {match} ELSE {text} LIKE {like} ESCAPE '\\' END)"
                return f"(folds AND {match})" if needs_folds else match
        # a string (RANK_STRING) is JSON text that is not tagged, or tagged as a string
        # (TAG + "s" + the string; see codec): the same test as the rank's,
        # with the value read fewer times
        string = (f"(CASE WHEN substr({x},1,1)<>{tagged()} THEN {contains(x)} "
                  f"WHEN substr({x},2,1) NOT IN ('o','d','n','b') THEN "
                  f"{contains(f'substr({x},3)')} ELSE 0 END)")
        return f"({self._raw_text_prefilter(literal, options)}{operand.type}='text' AND {string})"

    def _raw_text_prefilter(self, literal, options):
        """A cheap necessary condition on the raw JSON text, checked before any parsing.

        A literal can be in a field only if it is in the document's text (when it
        has no character JSON escapes). Parsing JSON is what costs in a scan;
        ``instr``, ``LIKE`` and ``GLOB`` on the text do not, so non-matching
        documents are rejected without it.
        """
        if any(c in '"\\' or c < " " for c in literal):
            return ""
        if "i" not in options:
            return f"instr(doc,{self.param(literal)})>0 AND "
        globs = self._join([f"doc GLOB {self.param(glob)}"
                            for glob in glob_patterns(literal, True)], " OR ")
        if literal.isascii():
            return (f"(CASE WHEN folds THEN {globs} ELSE "
                    f"instr(lower(doc),{self.param(literal.lower())})>0 END) AND ")
        if folds_needed(literal):
            return f"folds AND ({globs}) AND "
        return f"({globs}) AND "

    # -- MongoDB's path semantics: any value reachable at the path ---------
    def _any(self, path, leaf, whole_only=False):
        return self._reach("doc", path.split("."), "", leaf, whole_only)

    def _reach(self, source, segments, prefix, leaf, whole_only, start=1):
        """SQL true when ``leaf`` holds for some value at ``segments`` under ``source``.

        ``prefix`` is the dotted path of ``source`` inside the document, used to
        look up which sub-paths have held arrays; ``start`` skips prefixes the
        caller has already branched on.
        """
        for depth in range(start, len(segments) + 1):
            dotted = prefix + ".".join(segments[:depth])
            if dotted not in self.array_paths:
                continue
            head, rest = segments[:depth], segments[depth:]
            head_operand = Operand.at(source, head)
            alias = f"e{next(self._aliases)}"
            element = Operand(f"{alias}.type", f"{alias}.value")
            if rest:
                # through an array of sub-documents: {"comments.author": "bob"}
                inner = self._reach(f"{alias}.value", rest, dotted + ".", leaf, whole_only)
                scalar = self._reach(source, segments, prefix, leaf, whole_only, depth + 1)
                return (f"((ifnull({head_operand.type},'')<>'array' AND {scalar}) OR "
                        f"({head_operand.type}='array' AND EXISTS(SELECT 1 FROM "
                        f"json_each({source},{sql_string(json_path(head))}) AS {alias} "
                        f"WHERE {alias}.type='object' AND {inner})))")
            whole = leaf(head_operand)
            if whole_only:
                return whole
            return (f"({whole} OR ({head_operand.type}='array' AND EXISTS(SELECT 1 FROM "
                    f"json_each({source},{sql_string(json_path(head))}) AS {alias} "
                    f"WHERE {leaf(element)})))")
        return self._reach_plain(source, segments, leaf)

    @staticmethod
    def _reach_plain(source, segments, leaf):
        return leaf(Operand.at(source, segments))


def compile_filter(flt, array_paths, guards=None, rowid="rowid"):
    """``(where_sql, params)`` for a validated filter; ``guards`` maps array paths to
    their multikey side tables, ``rowid`` names the collection's row id column."""
    compiler = FilterCompiler(array_paths, guards, rowid)
    where = compiler.compile(flt) if flt else "1"
    return where, compiler.params


def pinned_terms(flt, array_paths):
    """What a filter's top-level conjunction fixes, per plain (never-array) path.

    ``{path: (rank, value_fixed)}``: ``{"n": {"$lt": 5}}`` fixes the rank of ``n``
    (numbers), ``{"n": 5}`` fixes rank and value. ``compile_sort`` leaves fixed
    terms out of ``ORDER BY``: SQLite cannot tell that an expression the WHERE
    clause pins is constant, and would sort in a temporary B-tree instead of
    reading the index in order.
    """
    found = {}

    def fix(path, rank, value_fixed):
        if any(".".join(path.split(".")[:i]) in array_paths
               for i in range(1, path.count(".") + 2)):
            return
        old = found.get(path)
        if old is not None and old[0] != rank:
            found[path] = (None, False)        # contradictory: fix nothing
        else:
            found[path] = (rank, value_fixed or bool(old and old[1]))

    _visit_pinned(flt or {}, fix)
    return {path: fixed for path, fixed in found.items() if fixed[0] is not None}


def _visit_pinned(conditions, fix):
    """``pinned_terms``' walk: ``fix(path, rank, value_fixed)`` for each term of the
    top-level conjunction ``conditions`` (and of its ``$and``s) that pins a path. A
    function of its own, not a closure calling itself (which would be a reference cycle
    left to the garbage collector on every query)."""
    for key, value in conditions.items():
        if key == "$and":
            for sub in value:
                _visit_pinned(sub, fix)
        elif key.startswith("$"):
            continue
        elif is_operator_doc(value):
            for op, arg in value.items():
                if op in ("$gt", "$gte", "$lt", "$lte") and arg is not None:
                    fix(key, codec.rank(arg), False)
                elif op == "$eq" and arg is not None and not isinstance(arg, (list, tuple)):
                    fix(key, codec.rank(arg), True)
                elif op == "$regex":
                    fix(key, codec.RANK_STRING, False)
        elif value is not None and not isinstance(value, (list, tuple)):
            fix(key, codec.rank(value), True)


def compile_sort(sort, array_paths, flt=None):
    """``ORDER BY`` terms for a validated sort (ties in index order, as in MongoDB).

    Terms the filter pins (see ``pinned_terms``) are left out so SQLite reads a
    matching index in order and stops at ``LIMIT``.
    """
    pinned = pinned_terms(flt, array_paths) if flt else {}
    terms = []
    for path, direction in sort:
        segments = path.split(".")
        for depth in range(1, len(segments) + 1):
            if ".".join(segments[:depth]) in array_paths:
                raise UnsupportedOperation(
                    f"cannot sort on {path!r}: it holds arrays in some documents")
        rank_term, value_term = index_columns(path, direction)
        rank_fixed, value_fixed = pinned.get(path, (None, False))
        if value_fixed:
            continue
        terms.extend([value_term] if rank_fixed is not None else [rank_term, value_term])
    return ", ".join(terms)
