"""Fixtures for the accounts tests.

* ``db``  a fresh in-memory database bound for the models (User, Role).
* ``cli`` runs ``manage.py`` in a subprocess on an embedded temp database, with
  ``acl_settings`` (accounts + the ``acl_shop`` test app, whose ``shop.product``
  declares the extra action ``publish``); ``await cli.state()`` reads the users,
  roles and sessions back from that database.
"""
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.db import connect
from http_kit import bound, outer_env

REPO = Path(__file__).resolve().parents[2]
SUPPORT = Path(__file__).resolve().parent / "acl_support"
if str(SUPPORT) not in sys.path:
    sys.path.insert(0, str(SUPPORT))

PASSWORD = "plum-harbour-velvet"   # passes every validator


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


@dataclass
class Cli:
    env: dict
    db_url: str

    def __call__(self, *args, input=None, settings=None, timeout=60):
        env = dict(self.env)
        if settings:
            env["BASTION_SETTINGS"] = settings
        return subprocess.run([sys.executable, str(REPO / "manage.py"), *args], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=timeout,
                              input="" if input is None else input)

    def ok(self, *args, **kwargs):
        result = self(*args, **kwargs)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
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
            sessions = await database["sessions"].find({}).sort("_id", 1).to_list(None)
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
    env = outer_env()
    db_url = f"embedded:{tmp_path / 'db.sqlite3'}"
    env.update(BASTION_SETTINGS="acl_settings", PYTHONPATH=str(SUPPORT), DATABASE_URL=db_url,
               VAR_DIR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")
    return Cli(env, db_url)
