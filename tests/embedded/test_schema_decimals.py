"""Decimals and binary data in the embedded store's index expressions (schema version 2)."""
import sqlite3

from bson.decimal128 import Decimal128

from core.db import connect
from core.db.embedded import codec, sql
from support.legacy_files import rewrite_as_schema_3


def index_sql(path, name):
    raw = sqlite3.connect(path)
    try:
        return raw.execute("SELECT sql FROM sqlite_master WHERE name=?", (name,)).fetchone()[0]
    finally:
        raw.close()


async def test_a_version_1_file_gets_its_indexes_rebuilt_with_the_new_ranks(tmp_path):
    path = tmp_path / "v1.sqlite3"
    db = connect(f"embedded:{path}")
    await db["prices"].insert_one({"amount": Decimal128("2.50")})
    await db["prices"].create_index("amount")
    await db.close()
    rewrite_as_schema_3(path, "prices", user_version=1)     # the documents' text
    x = "json_extract(doc,'$.\"amount\"')"      # the rank as version 1 computed it
    old_rank = (f"(CASE json_type(doc,'$.\"amount\"') WHEN 'integer' THEN 2 WHEN 'real' "
                f"THEN 2 WHEN 'text' THEN (CASE WHEN substr({x},1,1)=char(1114111) THEN "
                f"(CASE substr({x},2,1) WHEN 'o' THEN 7 WHEN 'd' THEN 9 ELSE 3 END) ELSE 3 END) "
                "WHEN 'true' THEN 8 WHEN 'false' THEN 8 WHEN 'object' THEN 4 "
                "WHEN 'array' THEN 5 ELSE 1 END)")
    raw = sqlite3.connect(path)           # the index as version 1 declared it
    raw.executescript(f'DROP INDEX "i:prices:amount_1"; CREATE INDEX "i:prices:amount_1" '
                      f'ON "c:prices" ({old_rank}, ifnull(json_extract(doc,\'$."amount"\'),0));'
                      'PRAGMA user_version=1;')
    raw.close()
    assert "THEN 2 WHEN char(1114111,98)" not in index_sql(path, "i:prices:amount_1")
    db = connect(f"embedded:{path}")
    try:
        found = await db["prices"].find({"amount": {"$gt": Decimal128("2")}}).to_list(None)
        assert [doc["amount"] for doc in found] == [Decimal128("2.50")]
    finally:
        await db.close()
    assert sql.index_definition([("amount", 1)]) in index_sql(path, "i:prices:amount_1")


async def test_decimal_ranges_use_the_index(tmp_path):
    db = connect(f"embedded:{tmp_path}/plan.sqlite3")
    try:
        coll = db["prices"]
        await coll.insert_many([{"amount": Decimal128(str(i))} for i in range(50)])
        await coll.create_index("amount")
        store = db.store
        where, params = sql.compile_filter({"amount": {"$gte": Decimal128("40")}}, set())
        plan = store.connection().execute(
            f'EXPLAIN QUERY PLAN SELECT doc FROM "c:prices" WHERE {where}', params).fetchall()
        assert any("i:prices:amount_1" in str(row) for row in plan), plan
        assert await coll.count_documents({"amount": {"$gte": Decimal128("40")}}) == 10
    finally:
        await db.close()


def test_decimal_sort_keys_order_like_the_numbers():
    from decimal import Decimal
    values = ["-1E+10", "-100", "-99.5", "-1.55", "-1.5", "-1", "-0.001", "0", "1E-30",
              "0.5", "1", "1.5", "1.55", "9.99", "10", "1E+6", "9" * 34]
    keys = [codec.decimal_sort_key(Decimal(v)) for v in values]
    assert keys == sorted(keys)
    assert codec.decimal_sort_key(Decimal("1.00")) == codec.decimal_sort_key(Decimal("1"))
    low, high = codec.decimal_bounds(Decimal128("1.5"))
    stored = codec.encode_scalar(Decimal128("1.50"))
    assert low <= stored < high
    assert codec.encode_scalar(Decimal128("1.55")) >= high
