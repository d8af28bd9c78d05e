"""Fixtures for the admin tests (settings in ``admin_kit``).

* ``admin_settings`` — ``settings.test`` with accounts and the ``admin_demo`` app.
* ``desk`` — the same plus the ``desk_demo`` app (``desk.writer``, ``desk.post``: the
  everyday options — filters of every kind, search lookups, ``date_hierarchy``).
* ``site`` — the app served on a free 127.0.0.1 port (``support.CheckedSite``: a login
  that fails fails the test), after ``startup`` (indexes); the real in-memory database,
  real bcrypt (4 rounds).
"""
import pytest

from admin_kit import DEMO_APPS, make_settings
from support import CheckedSite, server_fixture, site  # noqa: F401  (fixtures)
from support.bounds import python_regex_calls, rank_filter  # noqa: F401  (fixtures)


@pytest.fixture
def admin_settings(tmp_path):
    return make_settings(tmp_path)


server = server_fixture("admin_settings", CheckedSite)


@pytest.fixture
async def desk(server, tmp_path):
    return await server(settings=make_settings(tmp_path, INSTALLED_APPS=DEMO_APPS + [
        "desk_demo"]))
