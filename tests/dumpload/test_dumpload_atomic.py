"""A load into the embedded store is one transaction: chunks are inserted while later ones
are validated, and the first bad line — invalid, or refused by the store — rolls back what
was inserted before it. Each failure is checked with the rows of earlier chunks already in
the transaction, validated here and by worker processes."""
import asyncio
import io
import multiprocessing
import sqlite3
import threading

import pytest
from bson import ObjectId

from core.conf import load_settings
from core.db import connect
from core.db.embedded.store import Store, encoded_row
from core.management import atomic_load, run_command, serialization
from core.management.atomic_load import (ValidatingChunks, load_atomically, pack_rows,
                                         unpack_rows, validate_chunk)
from core.management.commands.loaddata import LoaddataCommand
from core.management.serialization import LoadError

from dumpload_support import (COLLECTIONS, article_lines, category_line, load_with, read_all,
                              stored_rows)

CHUNK = 20
BAD = 3 * CHUNK + 1            # the bad line opens the fourth chunk: three are in before it


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(atomic_load, "CHUNK_LINES", CHUNK)


@pytest.fixture
def inserts(monkeypatch):
    """The number of rows of each ``Store.load_rows`` call of the test."""
    calls = []
    real = Store.load_rows

    def load_rows(self, coll, rows):
        calls.append(len(rows))
        return real(self, coll, rows)
    monkeypatch.setattr(Store, "load_rows", load_rows)
    return calls


async def load_file(workspace, url, path, workers, stderr=None):
    """``load_atomically`` of the file at ``path`` into ``url``, as the command runs it:
    the workers forked before the database opens."""
    chunks = ValidatingChunks(path, workspace.registry, workers=workers).start()
    try:
        db = connect(url)
        try:
            return await load_atomically(db, path, workspace.registry, chunks,
                                         stderr or io.StringIO(), False)
        finally:
            await db.close()
    finally:
        chunks.close()


def articles(count, start=0):
    return list(article_lines(count, start=start))


def wrong_type(seeded_ids):
    key, doc = articles(1, start=900)[0]
    return (key, dict(doc, published="perhaps")), "published: Enter true or false."


def missing_required(seeded_ids):
    key, doc = articles(1, start=900)[0]
    return (key, dict(doc, title=None)), "title: This field is required."


def bad_reference(seeded_ids):
    key, doc = articles(1, start=900)[0]
    return (key, dict(doc, category="not-an-id")), "category: 'not-an-id' is not a valid id."


def existing_id(seeded_ids):
    key, doc = articles(1, start=900)[0]
    return ((key, dict(doc, _id=seeded_ids["second"])),
            "a document with this _id is already in the database (or earlier in this file); "
            "nothing was loaded")


def existing_name(seeded_ids):
    return (category_line("News"),
            "E11000 duplicate key error collection: bastion.blog_category index: name_1 dup "
            "key: { name: 'News' }; nothing was loaded")


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("bad_line", [wrong_type, missing_required, bad_reference,
                                      existing_id, existing_name])
async def test_a_bad_line_after_inserted_chunks_leaves_the_database_as_it_was(
        workspace, seeded, small_chunks, inserts, workers, bad_line):
    url, ids = seeded
    before = await read_all(url)
    line, reason = bad_line(ids)
    lines = [*articles(BAD - 1), line, *articles(CHUNK, start=BAD)]
    path = workspace.write_lines("bad.jsonl", lines)
    with pytest.raises(LoadError) as info:
        await load_file(workspace, url, path, workers)
    assert info.value.line == BAD
    assert info.value.reason == f"{line[0]} {line[1]['_id']}: {reason}"
    assert inserts[:3] == [CHUNK] * 3       # the chunks before it were in the transaction
    assert await read_all(url) == before


@pytest.mark.parametrize("workers", [1, 2])
async def test_an_id_repeated_in_the_file_is_named_at_its_second_line(
        workspace, small_chunks, inserts, workers):
    lines = articles(BAD + 5)
    key, first = lines[4]
    lines[BAD - 1] = (key, dict(first, title="a second document with the first one's _id"))
    path = workspace.write_lines("again.jsonl", lines)
    url = workspace.url("target")
    with pytest.raises(LoadError) as info:
        await load_file(workspace, url, path, workers)
    assert (info.value.line, info.value.reason) == (
        BAD, f"blog.article {first['_id']}: a document with this _id is already in the "
             "database (or earlier in this file); nothing was loaded")
    assert inserts[:3] == [CHUNK] * 3
    assert {name: docs for name, docs in (await read_all(url)).items() if docs} == {}


async def test_a_unique_index_clash_inside_the_file_is_named_at_its_second_line(
        workspace, small_chunks):
    lines = [category_line(f"c{n}") for n in range(BAD - 1)]
    lines.append(category_line("c7"))
    path = workspace.write_lines("names.jsonl", lines)
    url = workspace.url("target")
    with pytest.raises(LoadError) as info:
        await load_file(workspace, url, path, 1)
    assert info.value.line == BAD and "index: name_1 dup key: { name: 'c7' }" in \
        info.value.reason
    assert (await read_all(url, ["blog_category"]))["blog_category"] == []


@pytest.mark.parametrize("workers", [1, 2])
async def test_a_good_file_is_stored_as_the_document_load_stores_it(
        workspace, small_chunks, workers):
    lines = [category_line("caf\u00e9"), "\n", *articles(45)]
    for n, (_key, doc) in enumerate(lines[2:]):
        doc["tags"] = [f"t{n % 3}", "\u00fcber"] if n % 2 else []
    path = workspace.write_lines("good.jsonl", lines)
    atomic = workspace.url("atomic")
    counts = await load_file(workspace, atomic, path, workers)
    assert counts == {"blog.category": 1, "blog.article": 45}
    by_documents = await load_with(workspace, path, "documents")
    for collection in ("blog_category", "blog_article"):
        assert stored_rows(atomic, collection) == stored_rows(by_documents, collection)
    assert await read_all(atomic, COLLECTIONS) == await read_all(by_documents, COLLECTIONS)
    db = connect(atomic)
    try:        # the array path is known: a query on an element finds its documents
        assert len(await db["blog_article"].find({"tags": "t0"}).to_list(None)) == 7
    finally:
        await db.close()


def test_a_chunk_sends_its_rows_packed_and_its_line_numbers_as_a_range(workspace):
    lines = [category_line("a"), *articles(3), "\n", *articles(2, start=3)]
    lines[2][1]["tags"] = ["x", "y"]
    lines[3][1]["title"] = "line\nbreak \u2028 \u00e9"
    path = workspace.write_lines("runs.jsonl", lines)
    raws = path.read_bytes().splitlines(keepends=True)
    counts, runs, nbytes, error = validate_chunk(path, 1, raws, workspace.registry)
    assert error is None and nbytes == len(path.read_bytes())
    assert counts == {"blog.category": 1, "blog.article": 5}
    assert [(key, list(numbers)) for key, numbers, _items in runs] == [
        ("blog.category", [1]), ("blog.article", [2, 3, 4, 6, 7])]
    assert isinstance(runs[0][1], range)
    rows = [encoded_row(doc) for _key, doc in lines[1:4] + lines[5:]]
    assert [(text, folds, list(paths)) for text, folds, paths in unpack_rows(runs[1][2])] \
        == [(text, folds, paths) for text, folds, paths in rows]
    assert [row[1] for row in rows] == [0, 0, 1, 0, 0]       # the é (and U+2028)
    assert all(row[2] == ["tags"] for row in rows)     # [] is an array too
    assert runs[0][2][2] is None                        # a category has none: nothing sent
    text = encoded_row(lines[0][1])[0]
    assert unpack_rows(pack_rows([(text, 0, [])])) == [(text, 0, ())]


def test_a_bad_line_sends_no_rows(workspace):
    key, doc = articles(1)[0]
    path = workspace.write_lines("bad.jsonl", [*articles(2), (key, dict(doc, title=None))])
    raws = path.read_bytes().splitlines(keepends=True)
    counts, runs, nbytes, error = validate_chunk(path, 1, raws, workspace.registry)
    assert runs == [] and error == (3, f"blog.article {doc['_id']}: title: This field is "
                                       "required.")


async def test_an_empty_file_is_loaded_without_opening_the_database(workspace):
    path = workspace.write_lines("blank.jsonl", ["\n", "   \n"])
    url = workspace.url("never")
    result = workspace.cli(["loaddata", path], url)
    assert result.returncode == 0 and result.stdout == f"loaded 0 documents: {path} holds none\n"
    assert not (workspace.root / "never.sqlite3").exists()


async def test_the_command_reports_a_refusal_and_a_second_run_loads_nothing_twice(
        workspace, seeded):
    url, ids = seeded
    before = await read_all(url)
    lines = [*articles(30), category_line("Archive", oid=ObjectId())]
    path = workspace.write_lines("clash.jsonl", lines)
    result = workspace.cli(["loaddata", path], url)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(f"error: {path} line 31: blog.category ")
    assert result.stderr.rstrip().endswith("; nothing was loaded")
    assert await read_all(url) == before


async def auth_epoch(url):
    """The auth epoch stored in ``url`` (0 before anything moved it)."""
    from core.auth.sessions import AUTH_EPOCH_KEY, SESSIONS_COLLECTION
    db = connect(url)
    try:
        stamp = await db[SESSIONS_COLLECTION].find_one({"_id": AUTH_EPOCH_KEY})
        return (stamp or {}).get("epoch", 0)
    finally:
        await db.close()


async def test_a_load_moves_the_auth_epoch(workspace, seeded):
    """Loaded users and roles count at once in a running server: the load moves the
    epoch its cached users and permissions are checked against."""
    url, _ids = seeded
    before = await auth_epoch(url)
    role = ("accounts.role", {"_id": ObjectId(), "version": 1, "name": "loaded",
                              "description": "", "permissions": {}})
    path = workspace.write_lines("role.jsonl", [role])
    assert await load_file(workspace, url, path, 1) == {"accounts.role": 1}
    assert await auth_epoch(url) == before + 1


async def test_ctrl_c_during_the_commit_says_the_load_completed(workspace, monkeypatch):
    """Cancelled while the COMMIT runs on the writer thread (where it cannot be stopped):
    the load waits for it, and says the load completed, not that nothing was loaded."""
    committing, go_on = threading.Event(), threading.Event()
    real = Store.end_load

    def end_load(self, commit):
        if commit:
            committing.set()
            go_on.wait(30)
        return real(self, commit)
    monkeypatch.setattr(Store, "end_load", end_load)
    url, stderr, load = await cancelled_during_the_commit(workspace, committing, go_on)
    assert await load == {"blog.article": 10}
    assert stderr.getvalue() == "loaddata interrupted too late: the load had committed\n"
    assert len((await read_all(url, ["blog_article"]))["blog_article"]) == 10
    assert await auth_epoch(url) == 1


async def cancelled_during_the_commit(workspace, committing, go_on):
    """Start loading 10 articles, cancel the load (a Ctrl-C) once its COMMIT has begun
    (``committing``), then let the COMMIT go on: ``(url, stderr, the load's task)``."""
    path = workspace.write_lines("late.jsonl", articles(10))
    url = workspace.url("target")
    stderr = io.StringIO()
    load = asyncio.ensure_future(load_file(workspace, url, path, 1, stderr))
    assert await asyncio.get_running_loop().run_in_executor(None, committing.wait, 30)
    load.cancel()                                       # Ctrl-C, during the COMMIT
    await asyncio.sleep(0.05)
    go_on.set()
    return url, stderr, load


def failing_commit(monkeypatch, calls, committing=None, go_on=None):
    """``Store.end_load`` with a COMMIT that fails as on a full disk, the transaction left
    open (as SQLite may); ``calls`` gets each call's ``commit``."""
    real = Store.end_load

    def end_load(self, commit):
        calls.append(commit)
        if commit:
            if committing is not None:
                committing.set()
                go_on.wait(30)
            raise sqlite3.OperationalError("database or disk is full")
        return real(self, commit)
    monkeypatch.setattr(Store, "end_load", end_load)


async def test_a_failed_commit_rolls_back_and_says_nothing_was_loaded(
        workspace, seeded, monkeypatch):
    url, _ids = seeded
    before = await read_all(url)
    calls = []
    failing_commit(monkeypatch, calls)
    settings = load_settings("settings.test", environ={}, VAR_DIR=workspace.root / "var",
                             DATABASE_URL=url)
    stdout, stderr = io.StringIO(), io.StringIO()
    command = LoaddataCommand(settings=settings, registry=workspace.registry,
                              stdout=stdout, stderr=stderr)
    path = workspace.write_lines("full.jsonl", articles(30))
    args = command.create_parser("loaddata").parse_args([str(path)])
    status = await asyncio.get_running_loop().run_in_executor(
        None, run_command, command, args, stderr)
    assert status == 1 and stdout.getvalue() == ""
    assert stderr.getvalue() == (f"error: {path}: OperationalError: database or disk is "
                                 "full; nothing was loaded\n")
    assert calls == [True, False]                   # the open transaction rolled back
    assert await read_all(url) == before


async def test_ctrl_c_during_a_failed_commit_says_nothing_was_loaded(workspace, monkeypatch):
    committing, go_on = threading.Event(), threading.Event()
    calls = []
    failing_commit(monkeypatch, calls, committing, go_on)
    url, stderr, load = await cancelled_during_the_commit(workspace, committing, go_on)
    with pytest.raises(asyncio.CancelledError):
        await load
    assert stderr.getvalue() == "loaddata interrupted; nothing was loaded\n"
    assert calls == [True, False]
    assert (await read_all(url, ["blog_article"]))["blog_article"] == []


def test_the_workers_stop_when_the_database_cannot_be_opened(workspace, monkeypatch):
    """The workers start before the database opens: a database that cannot be opened
    (its folder cannot be made: a file is in the way) stops them too."""
    monkeypatch.setattr(serialization, "validation_workers", lambda size: 2)
    (workspace.root / "taken").write_text("a file, not a folder")
    settings = load_settings("settings.test", environ={}, VAR_DIR=workspace.root / "var",
                             DATABASE_URL=f"embedded:{workspace.root / 'taken' / 'db.sqlite3'}")
    stderr = io.StringIO()
    command = LoaddataCommand(settings=settings, registry=workspace.registry,
                              stdout=io.StringIO(), stderr=stderr)
    path = workspace.write_lines("some.jsonl", articles(50))
    args = command.create_parser("loaddata").parse_args([str(path)])
    assert run_command(command, args, stderr=stderr) == 1
    assert stderr.getvalue().startswith("error: ")
    assert multiprocessing.active_children() == []
