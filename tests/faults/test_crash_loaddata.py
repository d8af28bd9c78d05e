"""``manage.py loaddata`` killed with SIGKILL mid-run, then run again: the database ends up
exactly as after a clean load (nothing missing, nothing twice); or ``--rollback`` undoes
the partial load. ``manage.py check`` names the interrupted load meanwhile.

The load is a real ``manage.py loaddata`` subprocess on an embedded database file; the
kill comes once some documents are in (polled from the file with the stdlib ``sqlite3``).
"""
import datetime
import random

import pytest
from bson import ObjectId

from core.management.serialization import dump_line
from crash_kit import Workspace, count, documents, integrity, kill9, wait_for

CATEGORIES = 1000
ARTICLES = 5000
COLLECTIONS = ("blog_category", "blog_article")
TOTAL = CATEGORIES + ARTICLES


@pytest.fixture(scope="module")
def dump_file(tmp_path_factory):
    """A dumpdata file: categories, then articles pointing at them (6,000 lines)."""
    path = tmp_path_factory.mktemp("dump") / "blog.jsonl"
    when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    categories = [ObjectId() for _ in range(CATEGORIES)]
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for number, oid in enumerate(categories):
            out.write(dump_line("blog.category", {
                "_id": oid, "version": 1, "name": f"category {number}",
                "description": ""}))
        for number in range(ARTICLES):
            out.write(dump_line("blog.article", {
                "_id": ObjectId(), "version": 1 + number % 3, "title": f"article {number}",
                "body": "words " * (number % 7), "published": bool(number % 2),
                "category": categories[number % CATEGORIES], "author": None,
                "tags": ["a", str(number % 5)], "created": when, "updated": when}))
    return path


def loaded(ws, name):
    return sum(count(ws.db_path(name), coll) for coll in COLLECTIONS)


def contents(ws, name):
    """Every document of the blog collections, as sorted JSON-comparable lists."""
    return {coll: sorted(documents(ws.db_path(name), coll), key=repr) for coll in COLLECTIONS}


def kill_mid_load(ws, dump_file, name):
    """Start loaddata, SIGKILL it once some documents are in (at a random point)."""
    process = ws.start("loaddata", dump_file, name=name)
    threshold = random.randint(1, TOTAL // 3)
    try:
        wait_for(lambda: loaded(ws, name) >= threshold or process.poll() is not None, 120,
                 what="loaddata to insert documents")
    finally:
        kill9(process)
    partial = loaded(ws, name)
    assert 0 < partial < TOTAL, (f"the kill came at {partial} of {TOTAL} documents: not "
                                 "mid-load (the machine is too fast for this file?)")
    return partial


@pytest.fixture(scope="module")
def clean(tmp_path_factory, dump_file):
    """The blog collections after a clean, uninterrupted load of the file."""
    ws = Workspace(tmp_path_factory.mktemp("clean"))
    ws.ok("loaddata", dump_file, name="clean")
    result = contents(ws, "clean")
    assert sum(len(docs) for docs in result.values()) == TOTAL
    return result


def test_a_killed_load_is_finished_by_running_it_again(tmp_path, spawned, dump_file, clean):
    ws = Workspace(tmp_path, spawned)
    kill_mid_load(ws, dump_file, "db")
    check = ws.run("check", name="db")       # (it also finds the indexes not all made yet)
    assert "interrupted load" in check.stdout and str(dump_file) in check.stdout
    again = ws.run("loaddata", dump_file, name="db")
    assert again.returncode == 0, again.stderr
    assert "finished an interrupted load" in again.stdout
    assert contents(ws, "db") == clean
    assert count(ws.db_path("db"), "loaddata_journal") == 0
    assert "interrupted load" not in ws.run("check", name="db").stdout
    assert integrity(ws.db_path("db")) == ["ok"]
    # done means done: a third run refuses, as any load of documents already there
    third = ws.run("loaddata", dump_file, name="db")
    assert third.returncode != 0 and "already in the database" in third.stderr
    assert contents(ws, "db") == clean


def test_killed_twice_including_while_resuming(tmp_path, spawned, dump_file, clean):
    ws = Workspace(tmp_path, spawned)
    first = kill_mid_load(ws, dump_file, "db")
    process = ws.start("loaddata", dump_file, name="db")
    try:
        wait_for(lambda: loaded(ws, "db") > first or process.poll() is not None, 120,
                 what="the resumed load to insert more")
    finally:
        kill9(process)
    ws.ok("loaddata", dump_file, name="db")
    assert contents(ws, "db") == clean
    assert integrity(ws.db_path("db")) == ["ok"]


def test_rollback_undoes_a_killed_load(tmp_path, spawned, dump_file, clean):
    ws = Workspace(tmp_path, spawned)
    kill_mid_load(ws, dump_file, "db")
    undone = ws.ok("loaddata", "--rollback", dump_file, name="db")
    assert "rolled back" in undone.stdout
    assert loaded(ws, "db") == 0
    assert count(ws.db_path("db"), "loaddata_journal") == 0
    nothing = ws.run("loaddata", "--rollback", dump_file, name="db")
    assert nothing.returncode == 1 and "no interrupted load" in nothing.stderr
    ws.ok("loaddata", dump_file, name="db")            # and a fresh load works
    assert contents(ws, "db") == clean
