"""Helpers for the kill -9 tests: ``manage.py`` subprocesses on an embedded database file,
a real ``runserver`` to kill, and reads of the SQLite file with the standard library.

Nothing here mocks Bastion: each process is ``manage.py`` as an operator runs it.
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from support.cli import outer_env

REPO = Path(__file__).resolve().parents[2]


class Workspace:
    """A temp folder holding databases (``<name>.sqlite3``) and the runtime folder."""

    def __init__(self, root, spawned=None):
        self.root = Path(root)
        # background processes (the conftest's ``spawned``: killed after the test)
        self.spawned = spawned if spawned is not None else []

    def db_path(self, name="bastion"):
        return self.root / f"{name}.sqlite3"

    def env(self, name="bastion", **extra):
        env = outer_env()
        env.update(BASTION_SETTINGS="settings.test", VAR_DIR=str(self.root / "var"),
                   DATABASE_URL=f"embedded:{self.db_path(name)}", PYTHONUNBUFFERED="1")
        env.update({key: str(value) for key, value in extra.items()})
        return env

    def argv(self, *args):
        return [sys.executable, str(REPO / "manage.py"), *map(str, args)]

    def run(self, *args, name="bastion", input=None, timeout=180):
        """``manage.py ARGS``; the CompletedProcess (text)."""
        return subprocess.run(self.argv(*args), cwd=REPO, env=self.env(name),
                              capture_output=True, text=True, timeout=timeout,
                              input="" if input is None else input)

    def ok(self, *args, **kw):
        result = self.run(*args, **kw)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result

    def start(self, *args, name="bastion", log=None):
        """``manage.py ARGS`` in the background, in its own process group."""
        process = subprocess.Popen(self.argv(*args), cwd=REPO, env=self.env(name),
                                   stdout=log or subprocess.DEVNULL,
                                   stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
                                   start_new_session=True)
        self.spawned.append(process)
        return process


def kill9(process):
    """SIGKILL the process (and its group: nothing of it survives); wait for it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


# -- reading the file ------------------------------------------------------------------------
def connect_ro(path):
    """A read-only stdlib connection to the database file (WAL: readers see committed data)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def count(path, collection):
    """How many documents ``collection`` holds (0 while the table does not exist)."""
    if not Path(path).exists():
        return 0
    conn = connect_ro(path)
    try:
        row = conn.execute("SELECT count FROM bastion_collections WHERE name=?",
                           (collection,)).fetchone()
        return row[0] if row else 0
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def integrity(path):
    """``PRAGMA integrity_check`` of the file: ``["ok"]`` when it is sound."""
    conn = sqlite3.connect(str(path), timeout=30)
    try:
        return [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
    finally:
        conn.close()


def documents(path, collection):
    """Every document of ``collection`` as stored (its JSON text parsed), in rowid order."""
    conn = connect_ro(path)
    try:
        table = '"' + f"c:{collection}".replace('"', '""') + '"'
        try:
            rows = conn.execute(f"SELECT doc FROM {table} ORDER BY rowid").fetchall()
        except sqlite3.OperationalError:
            return []
        return [json.loads(text) for (text,) in rows]
    finally:
        conn.close()


def wait_for(predicate, timeout, interval=0.01, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def plain(value):
    """A stored value with the embedded store's tags taken off: an ObjectId becomes its
    24 hex digits, a date its ISO text."""
    from core.db.embedded import codec
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, str) and value.startswith(codec.TAG):
        decoded = codec.decode_string(value)
        return decoded.isoformat() if hasattr(decoded, "isoformat") else str(decoded)
    return value
