"""A load into the embedded store spools each document as the store's row (encoded where
it was validated) and inserts the rows as they are: the same rows as inserting the
documents, the same errors."""
import asyncio
import io
import sqlite3

import pytest
from bson import ObjectId

from core.db import connect
from core.db.base import Collection
from core.db.embedded.store import encoded_row, table_name
from core.db.errors import BulkWriteError, UnsupportedOperation
from core.management.serialization import (BATCH_SIZE, EncodedRow, LoadError, Spool,
                                           load, spools_rows, validate_file)

from dumpload_support import article_lines, category_line


def test_embedded_databases_spool_rows_and_mongodb_documents():
    assert spools_rows("embedded:var/bastion.sqlite3") and spools_rows("memory:")
    assert not spools_rows("mongodb://localhost/bastion")


def test_the_row_spool_holds_each_document_as_its_row(workspace):
    lines = [category_line("a"), *article_lines(2)]
    lines[1][1]["tags"] = ["x", "y"]
    path = workspace.write_lines("rows.jsonl", lines)
    with Spool(rows=True) as spool:
        validate_file(path, workspace.registry, None, progress=False, spool=spool)
        spooled = list(spool.documents(workspace.registry))
    assert [(n, m._meta.key) for n, m, _r, _ in spooled] == [
        (1, "blog.category"), (2, "blog.article"), (3, "blog.article")]
    assert all(isinstance(row, EncodedRow) for _n, _m, row, _ in spooled)
    assert [row["_id"] for _n, _m, row, _ in spooled] == [d["_id"] for _k, d in lines]
    assert [row.row for _n, _m, row, _ in spooled] == [
        tuple(encoded_row(d)) for _k, d in lines]
    assert spooled[1][2].row[2] == ["tags"]          # the array paths travel with the row


def stored_rows(url, collection):
    path = url.partition(":")[2]
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT doc, folds FROM {table_name(collection)} "
                            "ORDER BY rowid").fetchall()


async def load_with(workspace, path, name, rows):
    url = workspace.url(name)
    db = connect(url)
    try:
        with Spool(rows=rows) as spool:
            total = validate_file(path, workspace.registry, None, progress=False, spool=spool)
            await load(db, path, workspace.registry, io.StringIO(), total, False, spool=spool)
        arrays = await db["blog_article"].find({"tags": "t0"}, {"_id": 1}).to_list(None)
    finally:
        await db.close()
    return url, arrays


async def test_rows_load_stores_what_a_document_load_stores(workspace):
    lines = [category_line("caf\u00e9"), *article_lines(30)]
    for n, (_key, doc) in enumerate(lines[1:]):
        doc["tags"] = [f"t{n % 3}", "\u00fcber"]
    path = workspace.write_lines("same.jsonl", lines)
    by_rows, found_rows = await load_with(workspace, path, "rows", True)
    by_docs, found_docs = await load_with(workspace, path, "docs", False)
    for collection in ("blog_category", "blog_article"):
        assert stored_rows(by_rows, collection) == stored_rows(by_docs, collection)
    assert found_rows == found_docs and len(found_rows) == 10   # the tags' array path known


async def test_insert_rows_names_a_duplicate_and_refuses_arrays_in_unique_fields(tmp_path):
    db = connect(f"embedded:{tmp_path / 'rows.sqlite3'}")
    try:
        categories = db["blog_category"]
        await categories.create_index([("name", 1)], unique=True)
        docs = [{"_id": ObjectId(), "name": f"c{n}"} for n in range(3)]
        docs.append({"_id": ObjectId(), "name": "c1"})
        with pytest.raises(BulkWriteError) as info:
            await categories.insert_rows([encoded_row(d) for d in docs])
        error = info.value.details["writeErrors"][0]
        assert error["index"] == 3 and error["keyValue"] == {"name": "c1"}
        with pytest.raises(UnsupportedOperation):
            await categories.insert_rows([encoded_row({"_id": ObjectId(), "name": ["a"]})])
        assert await categories.count_documents({}) == 3    # the rows before the duplicate
    finally:
        await db.close()


@pytest.mark.parametrize("in_flight_fails", [False, True], ids=["inserted", "refused"])
async def test_an_id_of_the_batch_still_being_inserted_is_named_as_a_repeat(
        workspace, monkeypatch, in_flight_fails):
    """The next batch is checked while the previous one is still being inserted (here
    held back until then): an ``_id`` repeated from it is the same clear error, and
    nothing stays — unless the batch in flight is itself refused: its earlier line is
    the one named."""
    import core.management.serialization as serialization
    lines = [category_line(f"cat {n}") for n in range(BATCH_SIZE + 3)]
    key, first = lines[2]                     # in batch 1, repeated in batch 2
    lines.append((key, dict(first, name="another name")))
    path = workspace.write_lines("repeat.jsonl", lines)
    checked = asyncio.Event()
    real_insert, real_find = serialization.insert_documents, Collection.find

    async def held_insert(collection, key, batch):
        if batch[0][0] == 1:
            await asyncio.wait_for(checked.wait(), 10)     # until batch 2 was checked
            if in_flight_fails:
                raise serialization.InsertFailed(2, "refused by a unique index")
        await real_insert(collection, key, batch)

    def find(self, flt=None, *args, **kwargs):
        if "$in" in str(flt):                 # a batch's check of its _ids
            batch_checks.append(flt)
            if len(batch_checks) == 2:
                asyncio.get_running_loop().call_soon(checked.set)
        return real_find(self, flt, *args, **kwargs)

    batch_checks = []
    monkeypatch.setattr(serialization, "insert_documents", held_insert)
    monkeypatch.setattr(Collection, "find", find)
    url = workspace.url("target")
    db = connect(url)
    try:
        with Spool(rows=True) as spool, pytest.raises(LoadError) as info:
            total = validate_file(path, workspace.registry, None, progress=False, spool=spool)
            await load(db, path, workspace.registry, io.StringIO(), total, False, spool=spool)
        if in_flight_fails:
            assert info.value.line == 2
            assert info.value.reason.startswith("refused by a unique index")
        else:
            assert info.value.line == BATCH_SIZE + 4
            assert info.value.reason.startswith(
                f"blog.category {first['_id']}: a document with this _id is already in the "
                "database (or earlier in this file); nothing was loaded")
        assert await db["blog_category"].count_documents({}) == 0
        assert len(batch_checks) == 2
    finally:
        await db.close()


async def test_one_id_in_two_collections_is_no_repeat(workspace):
    """An ``_id`` may be taken in two collections: the batch in flight counts only in its own."""
    shared = ObjectId()
    lines = [category_line(f"cat {n}") for n in range(BATCH_SIZE - 1)]
    lines.append(category_line("shared", oid=shared))
    _key, doc = next(article_lines(1))
    lines.append(("blog.article", dict(doc, _id=shared)))
    path = workspace.write_lines("shared.jsonl", lines)
    url, _found = await load_with(workspace, path, "shared", True)
    db = connect(url)
    try:
        assert await db["blog_category"].count_documents({"_id": shared}) == 1
        assert await db["blog_article"].count_documents({"_id": shared}) == 1
    finally:
        await db.close()


async def test_inserting_rows_counts_as_a_write(tmp_path):
    """A load's rows count in ``Collection.writes`` as any insert does, so what list pages
    keep about the collection (counts, reference labels) is read again after a load."""
    db = connect(f"embedded:{tmp_path / 'rows.sqlite3'}")
    try:
        collection = db["blog_category"]
        start = collection.writes
        await collection.insert_rows([encoded_row({"_id": ObjectId(), "name": "a"})])
        assert collection.writes == start + 1
        assert await collection.count_documents({}) == 1
    finally:
        await db.close()
