"""Fixtures for the dumpdata/loaddata tests.

* ``registry`` — the default apps (audit, accounts, blog) loaded in this process.
* ``workdir`` — a temp folder; ``cli(args, db_name)`` runs ``manage.py`` in a subprocess
  on the embedded database ``<workdir>/<db_name>.sqlite3`` (or any ``DATABASE_URL``).
* ``seeded`` — an embedded database holding one of everything worth round-tripping.
"""
import pytest

from core.conf import load_settings
from core.registry import Registry

from dumpload_support import Workspace, seed


@pytest.fixture(scope="session")
def registry():
    return Registry(load_settings("settings.test", environ={})).load()


@pytest.fixture
def workspace(tmp_path, registry):
    return Workspace(tmp_path, registry)


@pytest.fixture
async def seeded(workspace):
    """``(url, ids)``: the database ``source`` with the seed documents."""
    url = workspace.url("source")
    ids = await seed(url)
    return url, ids
