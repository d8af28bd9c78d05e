"""The resumable load's batches (MongoDB's, and an embedded database's interrupted load of
an earlier version): the next batch is checked while the previous one is inserted."""
import asyncio
import io

import pytest
from bson import ObjectId

from core.db import connect
from core.db.base import Collection
from core.management.serialization import BATCH_SIZE, LoadError, Spool, load, validate_file

from dumpload_support import article_lines, category_line, load_with


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
        with Spool() as spool, pytest.raises(LoadError) as info:
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
    url = await load_with(workspace, path, "shared")
    db = connect(url)
    try:
        assert await db["blog_category"].count_documents({"_id": shared}) == 1
        assert await db["blog_article"].count_documents({"_id": shared}) == 1
    finally:
        await db.close()
