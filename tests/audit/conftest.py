"""Fixtures for the audit tests (helpers in ``audit_kit``).

* ``db`` — a fresh in-memory database bound for the models, audit indexes made.
* ``server`` / ``site`` — the app (``core.audit`` + accounts + ``audit_demo``) served on
  a free 127.0.0.1 port after ``startup``; real database, real bcrypt (4 rounds).
* ``cli`` — ``manage.py`` in a subprocess on an embedded temp database.
"""
import pytest

from audit_kit import SUPPORT, Site, make_settings
from core.db import connect
from support import bound, server_fixture, site  # noqa: F401  (fixtures)
from support import cli as support_cli


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


class Cli(support_cli.Cli):
    async def entries(self):
        database = connect(self.db_url)
        try:
            return await database["audit_log"].find({}).sort([("at", 1), ("_id", 1)]) \
                .to_list(None)
        finally:
            await database.close()


@pytest.fixture
def cli(tmp_path):
    return Cli.on_embedded(tmp_path, "audit_settings", SUPPORT)
