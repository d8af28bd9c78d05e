"""Multikey indexes on the embedded store: an index on a path that holds arrays.

A SQLite expression index reads one value per row, so an index on ``lines.sku`` or
``tags`` cannot find the documents whose *array* holds a value: such a query stayed
correct but scanned. When a (non-unique) index leads with a path that has held an
array in the collection (``bastion_arrays``), the store keeps a side table
``"m:<collection>:<path>"`` of ``(rank, key, docid)`` rows — one per value reachable at
the path (the plain value, each element of an array at the path, and the values under
each element of an array of sub-documents before it) — indexed on ``(rank, key)``.
Triggers on the collection's table keep it in the same transaction as every insert,
update and delete.

An equality or ``$in`` on such a path (non-null, not a decimal) then adds
``rowid IN (SELECT docid FROM side WHERE rank=… AND key=…)`` before the full condition:
SQLite reads the few matching rows through the side table's index instead of the
whole collection. The side table holds every value the full condition can match, so
the guard never drops a match; the full condition still decides (array semantics,
types). A path may cross two levels of arrays of sub-documents (``lines`` and
``lines.parts`` both arrays, index on ``lines.parts.sku``: ``MAX_ARRAY_LEVELS``); a
path under three keeps the scan, correct as before.

Not served by the side table, so they scan (correct, through ``json_each``): ranges and
sorts on an array path, and prefix searches. The admin's ``^sku`` search is
case-insensitive (``{"$regex": "^abc", "$options": "i"}``) while the side table's
``key`` compares binary, so one key range cannot hold every casing of a prefix; and
the search index (``core.db.embedded.search``) leaves out fields that held arrays. So
``{"lines.sku": {"$regex": "^pe", "$options": "i"}}`` reads every document (a search
page stops at its ``LIMIT``; a count at its cap).
"""
from . import sql

__all__ = ["ensure", "drop", "guard_paths", "side_table", "usable"]

PREFIX = "m:"


def quote(identifier):
    return '"' + identifier.replace('"', '""') + '"'


def side_table(coll, path):
    return quote(f"{PREFIX}{coll}:{path}")


#: how many array levels a guarded path may cross before its last segment
MAX_ARRAY_LEVELS = 2


def _values_sql(source, segments, docid, base=None):
    """``SELECT rank, key, docid`` of every value reachable at ``segments`` under
    ``source`` through at most ``MAX_ARRAY_LEVELS`` arrays of sub-documents on the way,
    and the elements of an array at the end (see the module docstring); ``base`` is the
    table the source is a column of (``None`` in a trigger)."""
    selects = []

    def scalars(operand, where, functions=()):
        sources = ([base] if base else []) + list(functions)
        from_clause = f" FROM {', '.join(sources)}" if sources else ""
        selects.append(f"SELECT {operand.rank}, {operand.key}, {docid}{from_clause} WHERE "
                       f"{where} AND {operand.type} IS NOT NULL AND {operand.type} NOT IN "
                       "('array','object')")

    def reach(node, rest, where, functions, levels):
        """The values at ``rest`` under ``node``: itself, an array's elements there, and
        (``levels`` left) the same under each sub-document of an array on the way."""
        full_path = sql.sql_string(sql.json_path(rest))
        last = f"x{len(functions)}"
        scalars(sql.Operand.at(node, rest), where, functions)
        scalars(sql.Operand(f"{last}.type", f"{last}.value"),
                f"{where} AND json_type({node},{full_path})='array'",
                functions + [f"json_each({node},{full_path}) AS {last}"])
        if not levels:
            return
        for depth in range(1, len(rest)):
            head = sql.sql_string(sql.json_path(rest[:depth]))
            item = f"e{len(functions)}"
            reach(f"{item}.value", rest[depth:],
                  f"{where} AND json_type({node},{head})='array' AND {item}.type='object'",
                  functions + [f"json_each({node},{head}) AS {item}"], levels - 1)

    reach(source, segments, "1", [], MAX_ARRAY_LEVELS)
    return " UNION ALL ".join(selects)


def _rows_of_new(coll, path):
    return (f"INSERT INTO {side_table(coll, path)} (rank, key, docid) "
            f"{_values_sql('NEW.doc', path.split('.'), 'NEW.rowid')};")


def create(conn, coll, table, path):
    """Create the side table of ``path``, its triggers (replacing older ones), and fill it
    from the rows."""
    side = side_table(coll, path)
    segments = path.split(".")
    conn.execute(f"CREATE TABLE IF NOT EXISTS {side} (rank INTEGER, key, docid INTEGER)")
    conn.execute(f"CREATE INDEX IF NOT EXISTS {quote(f'{PREFIX}{coll}:{path}:key')} "
                 f"ON {side} (rank, key)")
    conn.execute(f"CREATE INDEX IF NOT EXISTS {quote(f'{PREFIX}{coll}:{path}:doc')} "
                 f"ON {side} (docid)")
    rows_of_new = _rows_of_new(coll, path)
    trigger = f"{PREFIX}{coll}:{path}"
    for event in ("ins", "upd", "del"):
        conn.execute(f"DROP TRIGGER IF EXISTS {quote(f'{trigger}:{event}')}")
    conn.execute(f"CREATE TRIGGER IF NOT EXISTS {quote(trigger + ':ins')} AFTER INSERT ON "
                 f"{table} BEGIN {rows_of_new} END")
    conn.execute(f"CREATE TRIGGER IF NOT EXISTS {quote(trigger + ':upd')} AFTER UPDATE OF doc "
                 f"ON {table} BEGIN DELETE FROM {side} WHERE docid=OLD.rowid; {rows_of_new} END")
    conn.execute(f"CREATE TRIGGER IF NOT EXISTS {quote(trigger + ':del')} AFTER DELETE ON "
                 f"{table} BEGIN DELETE FROM {side} WHERE docid=OLD.rowid; END")
    conn.execute(f"DELETE FROM {side}")
    conn.execute(f"INSERT INTO {side} (rank, key, docid) "
                 f"{_values_sql('t.doc', segments, 't.rowid', f'{table} AS t')}")


def _side_tables(conn, coll):
    """``{path: its insert trigger's SQL or None}`` of every side table of ``coll``."""
    start = f"{PREFIX}{coll}:"
    return {name[len(start):]: trigger for name, trigger in conn.execute(
        "SELECT t.name, g.sql FROM sqlite_master AS t LEFT JOIN sqlite_master AS g "
        "ON g.type='trigger' AND g.name=t.name || ':ins' "
        "WHERE t.type='table' AND substr(t.name,1,?)=?", (len(start), start))}


def existing(conn, coll):
    """The paths of ``coll`` whose side table is kept by this version's triggers. One
    written by an older version (holding fewer array levels) is left out: queries do not
    use it, and ``ensure`` rebuilds it."""
    return {path for path, trigger in _side_tables(conn, coll).items()
            if trigger and _rows_of_new(coll, path) in trigger}


def needs(path, array_paths):
    """Whether an index on ``path`` would read arrays: ``path`` or a prefix of it has
    held one."""
    parts = path.split(".")
    return any(".".join(parts[:depth]) in array_paths for depth in range(1, len(parts) + 1))


def ensure(conn, coll, table, indexes, array_paths):
    """Create the side tables the collection's non-unique indexes need now (an index
    leading with a path that holds arrays); the paths that have one after."""
    have = existing(conn, coll)            # a stale side table is rebuilt here
    for _name, spec, unique, _ttl in indexes:
        path = spec[0][0] if spec else None
        if path and not unique and path not in have and path != "_id" and \
                needs(path, array_paths):
            create(conn, coll, table, path)
            have.add(path)
    return have


def drop(conn, coll):
    """Drop the side tables of ``coll`` and the triggers on its table that fill them."""
    for path in _side_tables(conn, coll):
        for event in ("ins", "upd", "del"):
            conn.execute(f"DROP TRIGGER IF EXISTS {quote(f'{PREFIX}{coll}:{path}:{event}')}")
        conn.execute(f"DROP TABLE IF EXISTS {side_table(coll, path)}")


def usable(path, multikey, array_paths):
    """Whether a query on ``path`` may be guarded by its side table: it has one, the
    path reads arrays, and at most ``MAX_ARRAY_LEVELS`` proper prefixes have held an
    array (``lines.parts.sku``: two)."""
    if path not in multikey:
        return False
    parts = path.split(".")
    prefixes = [".".join(parts[:depth]) for depth in range(1, len(parts))]
    return needs(path, array_paths) and \
        sum(p in array_paths for p in prefixes) <= MAX_ARRAY_LEVELS


def guard_paths(coll, multikey, array_paths):
    """``{path: side table}`` for the compiler (the paths ``usable`` accepts)."""
    return {path: side_table(coll, path) for path in multikey
            if usable(path, multikey, array_paths)}
