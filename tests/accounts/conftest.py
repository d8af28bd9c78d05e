"""Fixtures for the accounts tests.

* ``db``  a fresh in-memory database bound for the models (User, Role).
* ``cli`` runs ``manage.py`` in a subprocess on an embedded temp database, with
  ``acl_settings`` (accounts + the ``acl_shop`` test app, whose ``shop.product``
  declares the extra action ``publish``); ``await cli.state()`` reads the users,
  roles and sessions back from that database.
"""
from pathlib import Path

import pytest

from core.db import connect
from support import bound
from support import cli as support_cli

# the ``acl_shop`` test app and the ``acl_settings*`` modules: importable in-process through
# setup.cfg; a ``manage.py`` subprocess gets the folder as ``PYTHONPATH``
SUPPORT = Path(__file__).resolve().parent / "acl_support"


@pytest.fixture
async def db():
    database = connect("memory:")
    try:
        async with bound(database):
            from apps.accounts.models import Role, User
            await User.ensure_indexes()
            await Role.ensure_indexes()
            yield database
    finally:
        await database.close()


class Cli(support_cli.Cli):
    def ok(self, *args, **kwargs):
        result = super().ok(*args, **kwargs)
        assert result.stderr == "", result.stderr
        return result

    def fails(self, *args, code=1, **kwargs):
        """Run a command that must fail: exit ``code``, one ``error: ...`` line; returns it."""
        result = self(*args, **kwargs)
        assert result.returncode == code, (args, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert "Traceback" not in result.stderr, result.stderr
        if code == 1:
            assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        return lines[-1]

    async def state(self):
        """Every stored user, role and session, as plain documents sorted by name."""
        database = connect(self.db_url)
        try:
            users = await database["accounts_user"].find({}).sort("username", 1).to_list(None)
            roles = await database["accounts_role"].find({}).sort("name", 1).to_list(None)
            sessions = await database["sessions"].find(       # not the auth epoch document
                {"user_id": {"$exists": True}}).sort("_id", 1).to_list(None)
        finally:
            await database.close()
        return {"users": users, "roles": roles, "sessions": sessions}

    async def insert_sessions(self, *user_ids):
        database = connect(self.db_url)
        try:
            for user_id in user_ids:
                await database["sessions"].insert_one({"user_id": user_id, "data": {}})
        finally:
            await database.close()

    async def user(self, username):
        return next((u for u in (await self.state())["users"] if u["username"] == username),
                    None)


@pytest.fixture
def cli(tmp_path):
    return Cli.on_embedded(tmp_path, "acl_settings", SUPPORT)
