"""The embedded store's search index: SQLite FTS5 with the ``trigram`` tokenizer.

A collection's declared search fields (``Collection.create_search_index``; the
admin declares them once as ``ModelAdmin.search_fields``) get one FTS5 table,
``"s:<collection>"``, with a column per field. Triggers on the document table
keep it in step inside the same transaction as every write (insert, update,
replace, delete, many), in this process and any other that opens the file.

What goes into a column is the field's string *folded*: every character is
replaced by one representative of the characters Python's ``re`` matches it
with under ``IGNORECASE`` (``K``, ``k`` and the Kelvin sign all become ``k``).
Folding keeps lengths, so ``re.search(re.escape(w), s, re.I)`` implies that
``fold(s)`` contains ``fold(w)``, and FTS5 finds that with its case-sensitive
trigrams. The index is only ever a *prefilter*: a ``$regex`` whose pattern is
a literal of three or more characters (optionally anchored with ``^``/``$``)
on indexed, never-array fields adds ``rowid IN (SELECT rowid FROM the index
WHERE … MATCH …)`` in front of the exact condition, which still decides. So
results are those of a scan, only found without reading every document.

The table is ``detail=none``: it records which documents hold a trigram, not in
which column or where (a quarter of the bytes of ``detail=full``). A literal is
looked up as the AND of its distinct trigrams in any indexed column: every
document that holds the literal holds them all, and the exact condition drops
the few that hold them apart or in another field.
Shorter words, real regular expressions and fields that held arrays are
answered by the scan, as before.
"""
import json
import threading
import unicodedata

from . import codec

FOLD_FUNCTION = "bastion_search_fold"
#: FTS5 trigram needs three characters to use its index
MIN_LITERAL = 3
#: a page query reads the index's candidates only when there are fewer than this many
FEW_CANDIDATES = 2000
#: a literal is looked up by at most this many of its trigrams (any of them narrow
#: the candidates; more cost more doclist merges than they save)
MAX_TRIGRAMS = 12
#: the index's layout: a file indexed with another one is re-indexed on declaration
LAYOUT = "trigram detail=none"
#: FTS5's ``automerge``: how many segments of one size the index lets pile up before it
#: merges them into one (FTS5's default is 4). Each insert batch writes a segment, so a
#: bulk load rewrites its entries once per level of merging: with 8, fewer levels (at
#: 300k articles ~20 % less of the index's CPU and bytes written than with 4) for a
#: search that reads a few more, smaller segments: counting every match of three words
#: costs ~18 % more of the index's CPU (0.51 against 0.43 ms, docs/storage.md)
AUTOMERGE = 8
#: the index's name in a count driven by it (``driven_by_index``)
MATCH_ALIAS = "search_index"

META_SCHEMA = """
CREATE TABLE IF NOT EXISTS bastion_search (coll TEXT PRIMARY KEY, fields TEXT NOT NULL);
"""


def quote(identifier):
    return '"' + identifier.replace('"', '""') + '"'


def index_table(coll):
    return quote(f"s:{coll}")


class _Folds(dict):
    """``str.translate`` table: each code point → its fold representative, filled lazily."""

    def __missing__(self, code):
        from .sql import fold_class
        value = self[code] = min(fold_class(chr(code)))
        return value


_FOLDS = _Folds()


def fold(text):
    """``text`` with each character replaced by the least member of its ``fold_class``."""
    if text.isascii():
        # ASCII letters fold to upper case: 'K' < 'k' and 'S' < 's' (the Kelvin sign
        # and long s sit far above ASCII)
        return text.upper()
    return text.translate(_FOLDS)


def fold_stored(value):
    """SQL function for the triggers: the folded form of a stored JSON string value
    (a tagged string loses its tag; ObjectIds and dates are never searched)."""
    if not isinstance(value, str):
        return None
    if value.startswith(codec.TAG):
        if value[1:2] != codec.STR:
            return None
        value = value[2:]
    return fold(value)


def register(conn):
    """Give ``conn`` the function the index's triggers call (every connection has it)."""
    conn.create_function(FOLD_FUNCTION, 1, fold_stored, deterministic=True)


def _column_value(source, path):
    json_path = "'$" + "".join(f'."{part}"' for part in path.split(".")).replace("'", "''") + "'"
    return (f"(CASE json_type({source}.doc,{json_path}) WHEN 'text' THEN "
            f"{FOLD_FUNCTION}(json_extract({source}.doc,{json_path})) END)")


def _declaration(fields):
    # the Unicode version is part of it: folding follows this Python's case tables, and a
    # different one rebuilds the index rather than trust folds made with other tables
    return json.dumps({"fields": fields, "unicode": unicodedata.unidata_version,
                       "layout": LAYOUT})


def declared_fields(conn, coll):
    """The search fields declared for ``coll`` and indexed with this Python's Unicode
    tables in this module's ``LAYOUT`` (``[]``: none)."""
    row = conn.execute("SELECT fields FROM bastion_search WHERE coll=?", (coll,)).fetchone()
    if not row:
        return []
    declared = json.loads(row[0])
    current = (declared.get("unicode") == unicodedata.unidata_version
               and declared.get("layout") == LAYOUT)
    return declared["fields"] if current else []


def drop(conn, coll):
    """Remove ``coll``'s index, its triggers and its declaration (in a write transaction)."""
    for event in ("ins", "del", "upd"):
        conn.execute(f"DROP TRIGGER IF EXISTS {quote(f's:{coll}:{event}')}")
    conn.execute(f"DROP TABLE IF EXISTS {index_table(coll)}")
    conn.execute("DELETE FROM bastion_search WHERE coll=?", (coll,))


def create(conn, coll, table, fields):
    """Declare ``fields`` searchable in ``coll`` (whose documents are in ``table``):
    build the FTS5 table from the stored documents and the triggers that keep it.

    Idempotent; declaring other fields rebuilds the index. Runs in a write transaction.
    """
    fields = list(dict.fromkeys(fields))
    if declared_fields(conn, coll) == fields:
        return False
    drop(conn, coll)
    if not fields:
        return True
    index = index_table(coll)
    columns = [f"c{i}" for i in range(len(fields))]
    conn.execute(f"CREATE VIRTUAL TABLE {index} USING fts5({', '.join(columns)}, "
                 "content='', columnsize=0, detail=none, "
                 "tokenize='trigram case_sensitive 1')")
    conn.execute(f"INSERT INTO {index} ({index}, rank) VALUES ('automerge', {AUTOMERGE})")
    names = ", ".join(columns)

    def values(source):
        return ", ".join(_column_value(source, path) for path in fields)
    conn.execute(f"INSERT INTO {index} (rowid, {names}) SELECT rowid, {values(table)} "
                 f"FROM {table}")
    add = f"INSERT INTO {index} (rowid, {names}) VALUES (new.rowid, {values('new')});"
    remove = (f"INSERT INTO {index} ({index}, rowid, {names}) "
              f"VALUES ('delete', old.rowid, {values('old')});")
    conn.execute(f"CREATE TRIGGER {quote(f's:{coll}:ins')} AFTER INSERT ON {table} "
                 f"BEGIN {add} END")
    conn.execute(f"CREATE TRIGGER {quote(f's:{coll}:del')} AFTER DELETE ON {table} "
                 f"BEGIN {remove} END")
    conn.execute(f"CREATE TRIGGER {quote(f's:{coll}:upd')} AFTER UPDATE OF doc ON {table} "
                 f"BEGIN {remove} {add} END")
    conn.execute("INSERT INTO bastion_search VALUES (?, ?)", (coll, _declaration(fields)))
    return True


def indexable_literal(pattern, options):
    """The text a ``$regex`` needs in its subject, if the index can look for it: the
    pattern is literal text (``re.escape`` output), perhaps anchored by ``^``/``$``,
    of at least ``MIN_LITERAL`` characters. Else None."""
    from .sql import regex_literal
    if not isinstance(pattern, str) or "x" in options:
        return None
    body = pattern[1:] if pattern.startswith("^") else pattern
    if body.endswith("$") and not _escaped_at_end(body):
        body = body[:-1]
    literal = regex_literal(body, options)
    if literal is None or len(literal) < MIN_LITERAL:
        return None
    return literal


def _escaped_at_end(text):
    """Is the last character of ``text`` escaped by an odd run of backslashes?"""
    run = len(text) - 1 - len(text[:-1].rstrip("\\"))
    return run % 2 == 1


def candidates_sql(coll, param):
    """SQL for the rowids the index names for the FTS5 query in ``param``."""
    return f"SELECT rowid FROM {index_table(coll)} WHERE {index_table(coll)} MATCH {param}"


def few_candidates(conn, coll, match):
    """Does the index name fewer than ``FEW_CANDIDATES`` documents for ``match``? (It
    stops counting there: a few milliseconds for a common word.)"""
    return conn.execute(
        f"SELECT count(*) FROM ({candidates_sql(coll, '?')} LIMIT ?)",
        (match, FEW_CANDIDATES)).fetchone()[0] < FEW_CANDIDATES


def driven_by_index(coll, table, param):
    """A FROM clause that reads the index's candidates for the FTS5 query in ``param``
    first (``CROSS JOIN`` keeps that order), each joined to its document."""
    return (f"{index_table(coll)}({param}) AS {MATCH_ALIAS} CROSS JOIN {table} "
            f"ON {table}.rowid = {MATCH_ALIAS}.rowid")


# -- how a page query uses the index ------------------------------------------------------
#: candidates read, newest rowid first, to learn how many documents a word matches: all
#: of them when fewer, else how densely they sit among the newest rows
SAMPLE = 1000
#: about the most candidates an ordered walk keeps in its set: the newest ones (by the
#: sample's density); rows older than the set are checked with the filter alone
WALK_SET = 20000
#: what one step of each plan costs, in microseconds of CPU (measured with
#: ``bench/search_plans.py``; only their ratios matter)
COST_SORTED = 5.0      # read a candidate's row (anywhere in the file), check it, sort it
COST_SET = 0.3         # put a candidate in the walk's set
COST_PROBE = 0.15      # one entry of the ordering index, looked up in the set
COST_SCAN = 1.4        # one row of the ordering index's walk, checked with the filter
#: a rowid below every rowid: the walk's set holds every candidate
NO_ROWID = -(2 ** 63)
#: a walk that meets the newest rows first looks its entries up in the newest candidates
#: first, this many times the rows it wants; the rest of its set is read only when the
#: walk gets past them (SQLite builds an ``IN`` list the first time it is needed)
NEAR_FACTOR = 4

SORTED, PROBE, SCAN = "sorted", "probe", "scan"


def sample_sql(coll):
    """``(count, oldest rowid)`` of the newest ``?2`` candidates of the FTS5 query ``?1``."""
    return (f"SELECT count(*), min(rowid) FROM ({candidates_sql(coll, '?1')} "
            f"ORDER BY rowid DESC LIMIT ?2)")


def near_rowid(conn, coll, match, sampled, set_from, wanted):
    """Where a walk that meets the newest rows first splits its set (``probe_condition``):
    the rowid of the ``NEAR_FACTOR * wanted``-th newest candidate of ``match``, or None
    when the sample (``sampled`` candidates) holds no more than those, or none newer than
    ``set_from``."""
    near = NEAR_FACTOR * wanted
    if sampled <= near:
        return None
    rowid = conn.execute(f"SELECT min(rowid) FROM ({candidates_sql(coll, '?')} "
                         f"ORDER BY rowid DESC LIMIT ?)", (match, near)).fetchone()[0]
    return rowid if rowid is not None and rowid > set_from else None


#: seconds a page query's plan is kept (``Store._search_plan``)
PLAN_SECONDS = 10.0
#: plans kept at most (the oldest goes first)
PLAN_ENTRIES = 512


class Plans:
    """A store's chosen plans by (collection, FTS5 query, rows wanted, sorted): ``get``
    gives ``(expires, plan)`` or None. Holds no document data: only how to read."""

    def __init__(self):
        self._entries = {}
        self._lock = threading.Lock()

    def get(self, key):
        return self._entries.get(key)

    def put(self, key, plan, expires):
        with self._lock:
            self._entries.pop(key, None)
            while len(self._entries) >= PLAN_ENTRIES:
                del self._entries[next(iter(self._entries))]
            self._entries[key] = (expires, plan)


def choose_plan(sampled, oldest, rows, first_rowid, last_rowid, wanted, ordered,
                newest_first=False):
    """``(plan, set_from)``: how a page query reads.

    ``SORTED``: the candidates, each read, checked and (when the query sorts) sorted;
    cheap when they are few. ``PROBE``: walk the order's index and look each entry up
    in the set of candidates with rowids from ``set_from`` before reading its row (older
    rows are checked with the filter alone). ``SCAN``: walk the order without the index;
    a common word fills a page in a few rows.

    ``sampled`` candidates were read from the newest, the oldest of them at rowid
    ``oldest``; fewer than ``SAMPLE`` is all of them, else the word's matches are
    estimated from how many of the newest rows (rowids ``first_rowid..last_rowid``,
    ``rows`` in all) it took to find them. ``wanted``: rows the query needs (skip +
    limit; None: every match); ``ordered``: it sorts; ``newest_first``: its walk starts
    at the newest rows (the sort key grows with the rowid, descending, or the reverse),
    so the sampled candidates are the ones it meets first and make the set. The
    cheapest by the ``COST_*`` figures wins.
    """
    rows = max(rows, 1)
    span = max(1, last_rowid - first_rowid + 1)
    newest = max(1, last_rowid - oldest + 1)
    exact = sampled < SAMPLE
    matches = max(sampled, 1) if exact else max(SAMPLE, min(rows, SAMPLE * span / newest))
    needed = matches if wanted is None else min(wanted, matches)
    walked = rows if wanted is None else min(rows, wanted * rows / matches)
    if not ordered:
        # candidates stream in rowid order and stop when the page is full
        return (SORTED if needed * COST_SORTED <= walked * COST_SCAN else SCAN), NO_ROWID
    # the sample is the set when the walk meets its candidates first and a page needs a
    # small part of them; else the newest WALK_SET candidates, as dense as the sample's
    sampled_set = not exact and newest_first and wanted is not None and wanted * 4 <= SAMPLE
    in_set = SAMPLE if sampled_set else min(matches, WALK_SET)
    costs = {SORTED: matches * COST_SORTED,
             PROBE: in_set * COST_SET + walked * COST_PROBE,
             SCAN: walked * COST_SCAN}
    plan = min(costs, key=costs.get)
    set_from = NO_ROWID
    if plan == PROBE and sampled_set:
        set_from = oldest
    elif plan == PROBE and matches > WALK_SET:
        set_from = int(last_rowid - WALK_SET * newest / SAMPLE)
    return plan, set_from


def probe_condition(coll, rowid, match_param, from_param, near_param=None):
    """The walk's test of a row on its index entry alone (its rowid): a candidate with a
    rowid from ``from_param`` on, or an older row (left to the filter). ``+`` keeps
    SQLite from reading rows by rowid: it walks the ordering index.

    With ``near_param`` (``near_rowid``) the set is split there: the newest candidates
    first, the older part of the set only for rows older than them, so a page filled
    among the newest never reads the rest of the set from the index."""
    candidates = candidates_sql(coll, match_param)
    if near_param is None:
        return f"(+{rowid} IN ({candidates} AND rowid >= {from_param}) OR +{rowid} < {from_param})"
    older = (f"(+{rowid} IN ({candidates} AND rowid >= {from_param} AND rowid < {near_param}) "
             f"OR +{rowid} < {from_param})")
    return (f"(+{rowid} IN ({candidates} AND rowid >= {near_param}) "
            f"OR (+{rowid} < {near_param} AND {older}))")


class SearchIndex:
    """A collection's search index as the filter compiler sees it: which paths it
    covers, and the FTS5 query (if any) that narrows a filter."""

    def __init__(self, coll, fields):
        self.table = index_table(coll)
        self.columns = {path: f"c{i}" for i, path in enumerate(fields)}

    def match_query(self, flt, array_paths):
        """An FTS5 query every document matching ``flt`` satisfies, or None."""
        return _Matcher(self.columns, array_paths).conjunction(flt)


class _Matcher:
    def __init__(self, columns, array_paths):
        self.columns = columns
        self.array_paths = array_paths

    def servable(self, path):
        if path not in self.columns:
            return False
        parts = path.split(".")
        return not any(".".join(parts[:i]) in self.array_paths for i in range(1, len(parts) + 1))

    def conjunction(self, flt):
        """Necessary conditions of the document ``flt`` (all its terms hold), ANDed, each
        once: the admin's word over two fields is ``$or`` of one literal twice, and FTS5
        would read the trigrams' doclists once per copy."""
        if not isinstance(flt, dict):
            return None
        found = []
        for key, value in flt.items():
            if key == "$and":
                found += [q for q in (self.conjunction(sub) for sub in value) if q]
            elif key == "$or":
                branches = [self.conjunction(sub) for sub in value]
                if branches and all(branches):
                    branches = list(dict.fromkeys(branches))
                    found.append(branches[0] if len(branches) == 1
                                 else "(" + " OR ".join(branches) + ")")
            elif not key.startswith("$"):
                term = self.term(key, value)
                if term:
                    found.append(term)
        return " AND ".join(dict.fromkeys(found)) if found else None

    def term(self, path, value):
        if not isinstance(value, dict) or "$regex" not in value or not self.servable(path):
            return None
        literal = indexable_literal(value["$regex"], value.get("$options", ""))
        if literal is None:
            return None
        return match_text(literal)


def match_text(literal):
    """The FTS5 query for documents whose indexed text may hold ``literal`` (at least
    ``MIN_LITERAL`` characters): the AND of its distinct folded trigrams, at most
    ``MAX_TRIGRAMS`` of them spread over the literal."""
    folded = fold(literal)
    trigrams = list(dict.fromkeys(folded[i:i + 3] for i in range(len(folded) - 2)))
    if len(trigrams) > MAX_TRIGRAMS:
        step = (len(trigrams) - 1) / (MAX_TRIGRAMS - 1)
        trigrams = [trigrams[round(i * step)] for i in range(MAX_TRIGRAMS)]
    return "(" + " AND ".join('"' + t.replace('"', '""') + '"' for t in trigrams) + ")"
