"""Fixtures for the scoped, field and expiring grant tests.

* ``site`` — core.audit, accounts and blog served on a free 127.0.0.1 port (in-memory
  database, real bcrypt at 4 rounds) with JSON clients (``support.api.ApiSite``).
* ``cli`` — ``manage.py`` in a subprocess on an embedded temp database, test settings.
"""
from pathlib import Path

import pytest

from support import BLOG_APPS, make_settings, serving
from support.api import ApiSite
from support.cli import Cli

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def site(tmp_path):
    async with serving(ApiSite) as servers:
        yield await servers.serve(make_settings(tmp_path, BLOG_APPS))


@pytest.fixture
def cli(tmp_path):
    return Cli.on_embedded(tmp_path, "settings.test", REPO)
