"""Fixtures for the audit tests (helpers in ``audit_kit``).

* ``db`` — a fresh in-memory database bound for the models, audit indexes made.
* ``server`` / ``site`` — the app (``core.audit`` + accounts + ``audit_demo``) served on
  a free 127.0.0.1 port after ``startup``; real database, real bcrypt (4 rounds).
* ``cli`` — ``manage.py`` in a subprocess on an embedded temp database.
"""
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from audit_kit import SUPPORT, Site, make_settings
from core.db import connect
from http_kit import bound, outer_env, server_fixture, site  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def db():
    database = connect("memory:")
    try:
        async with bound(database):
            from core.audit import AuditEntry
            await AuditEntry.ensure_indexes()
            yield database
    finally:
        await database.close()


@pytest.fixture
def audit_settings(tmp_path):
    return make_settings(tmp_path)


server = server_fixture("audit_settings", Site)


@dataclass
class Cli:
    env: dict
    db_url: str

    def __call__(self, *args, input=None, timeout=60):
        return subprocess.run([sys.executable, str(REPO / "manage.py"), *args], cwd=REPO,
                              env=self.env, capture_output=True, text=True, timeout=timeout,
                              input="" if input is None else input)

    def ok(self, *args, **kwargs):
        result = self(*args, **kwargs)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result

    async def entries(self):
        database = connect(self.db_url)
        try:
            return await database["audit_log"].find({}).sort([("at", 1), ("_id", 1)]) \
                .to_list(None)
        finally:
            await database.close()


@pytest.fixture
def cli(tmp_path):
    env = outer_env()
    db_url = f"embedded:{tmp_path / 'db.sqlite3'}"
    env.update(BASTION_SETTINGS="audit_settings", PYTHONPATH=str(SUPPORT), DATABASE_URL=db_url,
               VAR_DIR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")
    return Cli(env, db_url)
