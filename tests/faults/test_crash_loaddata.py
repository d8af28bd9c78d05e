"""``manage.py loaddata`` killed with SIGKILL mid-run on the embedded store: the load is one
SQLite transaction, so the database holds none of it afterwards (no documents, no journal
entry, nothing for ``check`` or ``--rollback`` to name), and running it again loads the
file exactly as a clean load does. While it runs, other connections see none of it.

The load is a real ``manage.py loaddata --progress`` subprocess on an embedded database
file; the kill (or Ctrl-C) comes once its progress bar (on stderr, in a log file) shows part of the
file inserted — the bar moves only when a chunk's rows are in the transaction. The
database is read with the stdlib ``sqlite3``. (The resumable load of MongoDB, which has
no such transaction, is tested in ``tests/dumpload/test_dumpload_resume.py``.)
"""
import datetime
import os
import random
import re
import signal

import pytest
from bson import ObjectId

from core.management.serialization import dump_line
from crash_kit import Workspace, count, documents, integrity, kill9, wait_for

CATEGORIES = 1000
ARTICLES = 29000          # ~9 MB: validated by the worker processes, over a second to load
COLLECTIONS = ("blog_category", "blog_article")
TOTAL = CATEGORIES + ARTICLES


@pytest.fixture(scope="module")
def dump_file(tmp_path_factory):
    """A dumpdata file: categories, then articles pointing at them."""
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
                "body": "words " * (number % 7 + 20), "published": bool(number % 2),
                "category": categories[number % CATEGORIES], "author": None,
                "tags": ["a", str(number % 5)], "created": when, "updated": when}))
    return path


def loaded(ws, name):
    return sum(count(ws.db_path(name), coll) for coll in COLLECTIONS)


def contents(ws, name):
    """Every document of the blog collections, as sorted JSON-comparable lists."""
    return {coll: sorted(documents(ws.db_path(name), coll), key=repr) for coll in COLLECTIONS}


def progress(log):
    """The last percentage the load's progress bar printed (0 before any)."""
    found = re.findall(r"loaddata:\s+(\d+)%", log.read_text(errors="replace"))
    return int(found[-1]) if found else 0


@pytest.fixture(scope="module")
def clean(tmp_path_factory, dump_file):
    """The blog collections after a clean, uninterrupted load of the file."""
    ws = Workspace(tmp_path_factory.mktemp("clean"))
    ws.ok("loaddata", dump_file, name="clean")
    result = contents(ws, "clean")
    assert sum(len(docs) for docs in result.values()) == TOTAL
    return result


def test_a_killed_load_leaves_nothing_and_running_it_again_loads_it_all(
        tmp_path, spawned, dump_file, clean):
    ws = Workspace(tmp_path, spawned)
    log = tmp_path / "loaddata.log"
    threshold = random.randint(1, 30)
    with open(log, "w") as out:
        process = ws.start("loaddata", "--progress", dump_file, name="db", log=out)
        try:
            wait_for(lambda: progress(log) >= threshold or process.poll() is not None, 120,
                     what=f"loaddata to insert {threshold}% of the file")
            mid_load = process.poll() is None and progress(log) < 100
            seen = loaded(ws, "db")          # what other connections see meanwhile
        finally:
            kill9(process)
    assert mid_load, (f"the load ended before the kill ({log.read_text()!r}): the machine "
                      "is too fast for this file?")
    assert seen == 0
    # nothing of it: no document, no journal entry, nothing to finish or roll back
    assert loaded(ws, "db") == 0
    assert count(ws.db_path("db"), "loaddata_journal") == 0
    assert integrity(ws.db_path("db")) == ["ok"]
    assert "interrupted load" not in ws.run("check", name="db").stdout
    nothing = ws.run("loaddata", "--rollback", dump_file, name="db")
    assert nothing.returncode == 1 and "no interrupted load" in nothing.stderr
    again = ws.ok("loaddata", dump_file, name="db")
    assert again.stdout.strip() == (f"loaded {TOTAL} documents (blog.category {CATEGORIES}, "
                                    f"blog.article {ARTICLES})")
    assert contents(ws, "db") == clean
    assert integrity(ws.db_path("db")) == ["ok"]
    # done means done: a third run refuses, as any load of documents already there
    third = ws.run("loaddata", dump_file, name="db")
    assert third.returncode != 0 and "already in the database" in third.stderr
    assert contents(ws, "db") == clean


def test_ctrl_c_rolls_the_load_back_and_says_so(tmp_path, spawned, dump_file):
    ws = Workspace(tmp_path, spawned)
    log = tmp_path / "loaddata.log"
    with open(log, "w") as out:
        process = ws.start("loaddata", "--progress", dump_file, name="db", log=out)
        wait_for(lambda: progress(log) >= 10 or process.poll() is not None, 120,
                 what="loaddata to insert 10% of the file")
        assert process.poll() is None, "the load ended before Ctrl-C: too fast a machine?"
        os.killpg(process.pid, signal.SIGINT)     # a terminal's Ctrl-C: the whole group
        assert process.wait(60) == 130
    assert "loaddata interrupted; nothing was loaded" in log.read_text(), log.read_text()
    assert "Traceback" not in log.read_text(), log.read_text()
    assert loaded(ws, "db") == 0
    assert count(ws.db_path("db"), "loaddata_journal") == 0
    assert integrity(ws.db_path("db")) == ["ok"]


def group_alive(pgid):
    """Whether a process of the group ``pgid`` is still running."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_validating_workers_die_with_a_killed_main_process(tmp_path, spawned, dump_file):
    """An OOM kill hits the main process only: its worker processes (blocked reading
    their pipe) must not outlive it."""
    ws = Workspace(tmp_path, spawned)
    log = tmp_path / "loaddata.log"
    with open(log, "w") as out:
        process = ws.start("loaddata", "--progress", dump_file, name="db", log=out)
        try:
            wait_for(lambda: progress(log) >= 5 or process.poll() is not None, 120,
                     what="loaddata to insert 5% of the file")
            assert process.poll() is None, "the load ended before the kill: too fast?"
            os.kill(process.pid, signal.SIGKILL)          # the main process alone
            process.wait(30)
            wait_for(lambda: not group_alive(process.pid), 10,
                     what="the worker processes to end with their parent")
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)    # whatever is left of the group
            except ProcessLookupError:
                pass
    assert loaded(ws, "db") == 0
