"""A multikey index on the embedded store (``core.db.embedded.multikey``) serves an
equality or ``$in`` on a path that holds arrays through its side table's index instead
of a scan, and keeps that table exact through writes."""
import pytest

from core.db import connect
from core.db.embedded import sql


@pytest.fixture
async def db(tmp_path):
    database = connect(f"embedded:{tmp_path}/multikey.sqlite3")
    yield database
    await database.close()


async def plan(db, coll, flt):
    """SQLite's plan for the find the store would run (with its multikey guards)."""
    store = db.store

    def explain():
        conn = store.connection()
        known = store._arrays(conn, coll.name)
        where, params = sql.compile_filter(flt, known, store._guards(conn, coll.name, known),
                                           f'"c:{coll.name}".rowid')
        return " | ".join(row[-1] for row in conn.execute(
            f'EXPLAIN QUERY PLAN SELECT doc FROM "c:{coll.name}" WHERE {where}', params))
    return await db._run(db._readers, explain)


async def side_rows(db, coll, path):
    def read():
        return sorted(db.store.connection().execute(
            f'SELECT key, docid FROM "m:{coll.name}:{path}"').fetchall())
    return await db._run(db._readers, read)


async def test_an_equality_on_an_array_path_reads_the_side_tables_index(db):
    orders = db["orders"]
    await orders.insert_many([{"lines": [{"sku": f"s{n}"}, {"sku": f"s{n + 1}"}]}
                              for n in range(200)])
    scan = await plan(db, orders, {"lines.sku": "s7"})
    assert "m:orders" not in scan and "SCAN" in scan
    await orders.create_index("lines.sku")
    for flt in ({"lines.sku": "s7"}, {"lines.sku": {"$in": ["s7", "s9"]}}):
        found = await plan(db, orders, flt)
        assert 'USING INDEX m:orders:lines.sku:key' in found.replace('"', ""), found
        assert "SCAN c:orders" not in found.replace('"', ""), found
    assert len(await orders.find({"lines.sku": "s7"}).to_list(None)) == 2


async def test_the_side_table_holds_each_reachable_value_once_per_write(db):
    coll = db["things"]
    await coll.create_index("tags")
    await coll.insert_one({"_id": 1, "tags": "solo"})
    assert not await db._run(db._readers, lambda: db.store.connection().execute(
        "SELECT 1 FROM sqlite_master WHERE name='m:things:tags'").fetchall())
    await coll.insert_one({"_id": 2, "tags": ["a", "b"]})      # the path now holds arrays
    assert [key for key, _ in await side_rows(db, coll, "tags")] == ["a", "b", "solo"]
    await coll.update_one({"_id": 2}, {"$set": {"tags": ["c"]}})
    await coll.delete_one({"_id": 1})
    assert await side_rows(db, coll, "tags") == [("c", 2)]
    await coll.drop()
    assert not await db._run(db._readers, lambda: db.store.connection().execute(
        "SELECT 1 FROM sqlite_master WHERE name LIKE 'm:things:%'").fetchall())


async def test_a_path_under_two_array_levels_reads_the_side_tables_index(db):
    orders = db["kits"]
    await orders.insert_many([{"_id": n, "lines": [
        {"parts": [{"sku": f"p{n}"}, {"sku": f"q{n}"}]},
        {"parts": [{"sku": f"r{n}", "tags": [f"t{n}", "shared"]}]}]} for n in range(200)])
    assert "SCAN" in await plan(db, orders, {"lines.parts.sku": "r7"})
    await orders.create_index("lines.parts.sku")
    await orders.create_index("lines.parts.tags")
    for flt in ({"lines.parts.sku": "r7"}, {"lines.parts.sku": {"$in": ["q7", "p9"]}},
                {"lines.parts.tags": "t7"}):
        found = (await plan(db, orders, flt)).replace('"', "")
        assert "USING INDEX m:kits:lines.parts." in found, found
        assert "SCAN c:kits" not in found, found
    assert [d["_id"] for d in await orders.find({"lines.parts.sku": "r7"}).to_list(None)] == [7]
    assert sorted(d["_id"] for d in await orders.find(
        {"lines.parts.sku": {"$in": ["q7", "p9"]}}).to_list(None)) == [7, 9]
    assert len(await orders.find({"lines.parts.tags": "shared"}).to_list(None)) == 200
    keys = [key for key, docid in await side_rows(db, orders, "lines.parts.sku") if docid]
    assert len(keys) == 600 and len(set(keys)) == 600          # each value once
    await orders.update_one({"_id": 7}, {"$set": {"lines": [{"parts": [{"sku": "z"}]}]}})
    assert await orders.find({"lines.parts.sku": "r7"}).to_list(None) == []
    assert [d["_id"] for d in await orders.find({"lines.parts.sku": "z"}).to_list(None)] == [7]


async def test_what_the_side_table_does_not_serve_scans_and_stays_correct(db):
    orders = db["orders"]
    await orders.insert_many([{"lines": [{"sku": f"Pen{n}"}, {"sku": f"ink{n}"}]}
                              for n in range(50)])
    await orders.create_index("lines.sku")
    flt = {"lines.sku": {"$regex": "^pen4", "$options": "i"}}
    assert "SCAN c:orders" in (await plan(db, orders, flt)).replace('"', "")
    assert len(await orders.find(flt).to_list(None)) == 11         # Pen4, Pen40..Pen49
    ranged = {"lines.sku": {"$gte": "ink48"}}
    assert "SCAN c:orders" in (await plan(db, orders, ranged)).replace('"', "")


async def test_a_side_table_from_an_older_version_is_not_used_until_rebuilt(db):
    orders = db["kits"]
    await orders.insert_many([{"_id": n, "lines": [{"parts": [{"sku": f"p{n}"}]}]}
                              for n in range(20)])
    await orders.create_index("lines.parts.sku")

    def age():                             # what a file of the one-level version holds
        conn = db.store.connection()
        conn.execute('DROP TRIGGER "m:kits:lines.parts.sku:ins"')
        conn.execute('CREATE TRIGGER "m:kits:lines.parts.sku:ins" AFTER INSERT ON "c:kits" '
                     'BEGIN SELECT 1; END')
        conn.execute('DELETE FROM "m:kits:lines.parts.sku"')
        conn.commit()
    await db._run(db._readers, age)
    assert "SCAN" in await plan(db, orders, {"lines.parts.sku": "p7"})
    assert [d["_id"] for d in await orders.find({"lines.parts.sku": "p7"}).to_list(None)] == [7]
    await orders.create_index("lines.parts.sku")          # ensure_indexes at start-up
    assert "USING INDEX" in await plan(db, orders, {"lines.parts.sku": "p7"})
    assert [d["_id"] for d in await orders.find({"lines.parts.sku": "p7"}).to_list(None)] == [7]
    assert len(await side_rows(db, orders, "lines.parts.sku")) == 20


async def test_the_guards_are_read_once_per_schema_and_a_side_table_made_elsewhere_shows(
        db, tmp_path):
    orders = db["orders"]
    await orders.insert_many([{"lines": [{"sku": f"s{n}"}]} for n in range(20)])
    assert "SCAN" in await plan(db, orders, {"lines.sku": "s7"})
    statements = []

    def traced():
        conn = db.store.connection()
        conn.set_trace_callback(statements.append)
        try:
            return db.store._guards(conn, orders.name, db.store._arrays(conn, orders.name))
        finally:
            conn.set_trace_callback(None)
    assert await db._run(db._readers, traced) == {}
    assert not any("sqlite_master" in text for text in statements)     # kept
    other = connect(f"embedded:{tmp_path}/multikey.sqlite3")         # another process
    try:
        await other["orders"].create_index("lines.sku")
    finally:
        await other.close()
    assert await db._run(db._readers, traced) == {"lines.sku": '"m:orders:lines.sku"'}
    assert "USING INDEX" in await plan(db, orders, {"lines.sku": "s7"})
