"""A projected read (``find`` and ``fetch_rowids`` with an inclusion projection) reads one
JSON array of the members a row holds, decodes each member's values across the page
together (``codec.decode_column``), and asks SQLite for the members' ``json_type``s only
for the rows whose values hold a ``null`` (to tell a ``null`` member from a missing one)."""
import datetime

from bson import Binary, ObjectId
from bson.decimal128 import Decimal128

from core.db.embedded import codec
from core.db.embedded.store import Store

TAG = codec.TAG
WHEN = datetime.datetime(2024, 5, 1, 12, 30, 0, 123000, tzinfo=datetime.timezone.utc)
SOME = ("include", ["title", "n", "extra"], True)
NO_SORT = [("n", 1)]


def test_decode_column_gives_what_decode_value_gives_for_each_value():
    oid = ObjectId()
    columns = [
        [1, 2.5, True, None],
        ["plain", "text", ""],
        ["holds the tag " + TAG + " inside", "plain"],
        [codec.encode_scalar(oid), codec.encode_scalar(WHEN), "plain",
         codec.encode_scalar(TAG + "escaped"), codec.encode_scalar(Decimal128("1.50")),
         codec.encode_scalar(Binary(b"ab", 4))],
        [codec.encode_scalar(oid), codec.encode_scalar(oid)],
        [{"when": codec.encode_scalar(WHEN)}, [codec.encode_scalar(oid)], "x", 3, None],
        [],
    ]
    for values in columns:
        assert list(codec.decode_column(values)) == [codec.decode_value(v) for v in values]
    decoded = codec.decode_column(columns[3])
    assert decoded[:4] == [oid, WHEN, "plain", TAG + "escaped"]
    assert isinstance(decoded[4], Decimal128) and decoded[5] == Binary(b"ab", 4)


def statements(store):
    seen = []
    store.connection().set_trace_callback(seen.append)
    return seen


def make_store(tmp_path, docs):
    store = Store(str(tmp_path / "projected.sqlite3"), "test")
    store.insert("things", docs, True)
    return store


def test_rows_without_a_null_cost_no_json_type(tmp_path):
    store = make_store(tmp_path, [{"_id": n, "title": f"t{n}", "n": n, "extra": [n]}
                                  for n in range(3)])
    seen = statements(store)
    found = store.find("things", {}, SOME, NO_SORT, 0, 0)
    assert found == [{"_id": n, "title": f"t{n}", "n": n, "extra": [n]} for n in range(3)]
    reads = [statement for statement in seen if "json_extract(doc, '$.\"_id\"'" in statement]
    assert len(reads) == 1 and "json_type(doc, '$." not in reads[0]


def test_a_null_member_is_kept_and_a_missing_one_left_out(tmp_path):
    docs = [{"_id": 0, "title": None, "n": 0, "extra": 1},
            {"_id": 1, "n": 1, "extra": None},
            {"_id": 2, "title": "null and void", "n": 2, "extra": "null"},
            {"_id": 3, "title": "plain", "n": 3, "extra": {"inner": None}},
            {"_id": 4, "n": 4}]
    store = make_store(tmp_path, docs)
    expected = [{"_id": 0, "title": None, "n": 0, "extra": 1},
                {"_id": 1, "n": 1, "extra": None},
                {"_id": 2, "title": "null and void", "n": 2, "extra": "null"},
                {"_id": 3, "title": "plain", "n": 3, "extra": {"inner": None}},
                {"_id": 4, "n": 4}]
    seen = statements(store)
    assert store.find("things", {}, SOME, NO_SORT, 0, 0) == expected
    typed = [statement for statement in seen if "json_type(doc, '$." in statement]
    assert len(typed) == 1
    rowids = store.find_rowids("things", {}, [("n", -1)], 0, 0)
    assert store.fetch_rowids("things", rowids, SOME) == expected[::-1]


def test_fetch_rowids_keeps_the_order_asked_and_leaves_deleted_rows_out(tmp_path):
    store = make_store(tmp_path, [{"_id": n, "title": None if n % 2 else "x", "n": n}
                                  for n in range(6)])
    rowids = store.find_rowids("things", {}, [("n", -1)], 0, 0)
    store.delete("things", {"_id": {"$in": [1, 4]}}, True)
    assert store.fetch_rowids("things", rowids, SOME) == [
        {"_id": n, "title": None if n % 2 else "x", "n": n} for n in (5, 3, 2, 0)]
