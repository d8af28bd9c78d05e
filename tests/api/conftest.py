"""Fixtures for the API tests (the JSON client is ``support.api``).

* ``site`` — the app (``core.audit``, accounts, blog) served on a free 127.0.0.1 port,
  real in-memory database, real bcrypt (4 rounds); ``site.token(user)`` makes a token.
* ``cli_site`` — the same on an embedded database shared with ``manage.py`` run in a
  subprocess (``cli_site.cli("createtoken", ...)``).
"""
import subprocess
import sys
from pathlib import Path

import pytest

from support import BLOG_APPS, make_settings, serving
from support.api import ApiSite
from support.bounds import python_regex_calls, rank_filter  # noqa: F401  (fixtures)
from support.cli import outer_env

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def server(tmp_path):
    async with serving(ApiSite) as servers:
        async def start(**overrides):
            return await servers.serve(make_settings(tmp_path, BLOG_APPS, **overrides))
        yield start


@pytest.fixture
async def site(server):
    return await server()


@pytest.fixture
async def cli_site(server, tmp_path):
    db_url = f"embedded:{tmp_path / 'shared.sqlite3'}"
    site = await server(DATABASE_URL=db_url)
    env = outer_env(keep_pythonpath=True)
    env.update(BASTION_SETTINGS="settings.test", DATABASE_URL=db_url,
               VAR_DIR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")

    def cli(*args, timeout=60):
        return subprocess.run([sys.executable, str(REPO / "manage.py"), *args], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=timeout,
                              input="")
    site.cli = cli
    return site


@pytest.fixture
async def notes(server):
    """The admin tests' ``notes`` app (every field kind) served with the API."""
    return await server(INSTALLED_APPS=["core.audit", "apps.accounts", "admin_demo"])


@pytest.fixture
async def root(notes):
    """A superuser's token client on ``notes``."""
    return await notes.token_client("root", is_superuser=True)
