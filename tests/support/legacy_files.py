"""Embedded files as older Bastions wrote them, for the store's upgrade tests.

Schema 3 and before tagged values with U+10FFFF, wrote an ObjectId as 24 hex digits and
a date as 16 digits of (epoch milliseconds + 10**15); schema 3's index keys were an
ObjectId's hex digits and a date's milliseconds (``v3_index_columns``).
"""
import datetime
import json
import re
import sqlite3

from bson import ObjectId

from core.db.embedded import codec, search, sql

__all__ = ["V3_TAG", "v3_text", "v3_index_columns", "rewrite_as_schema_3"]

V3_TAG = "\U0010FFFF"
V3_DATE_OFFSET = 10 ** 15
V3_RANKS = {codec.RANK_NULL: 1, codec.RANK_NUMBER: 2, codec.RANK_STRING: 3,
            codec.RANK_OBJECT: 4, codec.RANK_ARRAY: 5, codec.RANK_BINARY: 6,
            codec.RANK_OID: 7, codec.RANK_BOOL: 8, codec.RANK_DATE: 9}


def _v3_value(value):
    if isinstance(value, dict):
        return {key: _v3_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_v3_value(item) for item in value]
    if isinstance(value, ObjectId):
        return f"{V3_TAG}o{value}"
    if isinstance(value, datetime.datetime):
        return f"{V3_TAG}d{codec.datetime_to_ms(value) + V3_DATE_OFFSET:016d}"
    if isinstance(value, str):
        return V3_TAG + "s" + value if value.startswith(V3_TAG) else value
    encoded = codec.encode_scalar(value)            # decimals, binary: same payloads
    if isinstance(encoded, str) and encoded.startswith(codec.TAG):
        return V3_TAG + encoded[1:]
    return encoded


def v3_text(document):
    """The stored text schema 3 wrote for ``document``."""
    return json.dumps(_v3_value(document), ensure_ascii=False, separators=(",", ":"))


def v3_index_columns(spec):
    """The column list schema 3 declared for the index key ``spec``."""
    columns = (sql.index_definition(spec)
               .replace(f"char({ord(codec.TAG)},", "char(1114111,")
               .replace(" AS INTEGER) ", f" AS INTEGER)-{V3_DATE_OFFSET} "))
    return re.sub(r"THEN (-?\d+)", lambda m: f"THEN {V3_RANKS[int(m.group(1))]}", columns)


def rewrite_as_schema_3(path, coll, user_version=3):
    """Turn collection ``coll`` of the (closed) file at ``path`` into what schema 3 wrote:
    its documents' text, its declared indexes' expressions, its side tables' ObjectId and
    date keys; then mark the file ``user_version``."""
    raw = sqlite3.connect(path)
    search.register(raw)                 # the search index's triggers call it
    try:
        table = f'"c:{coll}"'
        rows = raw.execute(f"SELECT rowid, doc FROM {table}").fetchall()
        raw.executemany(f"UPDATE {table} SET doc=? WHERE rowid=?",
                        [(v3_text(codec.loads(text)), rowid) for rowid, text in rows])
        for name, spec in raw.execute("SELECT name, spec FROM bastion_indexes WHERE coll=?",
                                      (coll,)).fetchall():
            index = f'"i:{coll}:{name}"'
            exists = raw.execute("SELECT sql FROM sqlite_master WHERE name=?",
                                 (f"i:{coll}:{name}",)).fetchone()
            if exists:
                unique = "UNIQUE " if exists[0].startswith("CREATE UNIQUE") else ""
                raw.execute(f"DROP INDEX {index}")
                raw.execute(f"CREATE {unique}INDEX {index} ON {table} "
                            f"({v3_index_columns([tuple(k) for k in json.loads(spec)])})")
        sides = [name for (name,) in raw.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE ?",
            (f"m:{coll}:%",))]
        for side in sides:                  # schema 3's ranks ran from 1 to 9
            keys = raw.execute(f'SELECT rowid, rank, key FROM "{side}"').fetchall()
            raw.executemany(f'UPDATE "{side}" SET rank=?, key=? WHERE rowid=?', [
                (V3_RANKS[rank], str(codec.oid_from_text(key)) if rank == codec.RANK_OID
                 else key, rowid) for rowid, rank, key in keys])
        raw.execute(f"PRAGMA user_version={user_version}")
        raw.commit()
    finally:
        raw.close()
