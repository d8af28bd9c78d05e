"""SQLite's query plan for a find of the embedded store: which index serves it."""
from core.db.embedded import sql

__all__ = ["query_plan"]


async def query_plan(db, coll, flt, sort):
    """``EXPLAIN QUERY PLAN`` of the page query (limit 50) the store would run for
    ``find(flt).sort(sort)`` on ``coll``, its lines joined with `` | ``."""
    def explain():
        known = db.store._arrays(db.store.connection(), coll.name)
        where, params = sql.compile_filter(flt, known)
        order = sql.compile_sort(sort, known, flt)
        query = f'EXPLAIN QUERY PLAN SELECT doc FROM "c:{coll.name}" WHERE {where}'
        if order:
            query += f" ORDER BY {order}"
        rows = db.store.connection().execute(query + " LIMIT 50", params).fetchall()
        return " | ".join(row[-1] for row in rows)
    return await db._run(db._readers, explain)
