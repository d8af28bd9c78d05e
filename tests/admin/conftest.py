"""Fixtures for the admin tests (settings in ``admin_kit``).

* ``admin_settings`` — ``settings.test`` with accounts and the ``admin_demo`` app.
* ``site`` — the app served on a free 127.0.0.1 port (``support.CheckedSite``: a login
  that fails fails the test), after ``startup`` (indexes); the real in-memory database,
  real bcrypt (4 rounds).
"""
import pytest

from admin_kit import make_settings
from support import CheckedSite, server_fixture, site  # noqa: F401  (fixtures)
from support.bounds import python_regex_calls, rank_filter  # noqa: F401  (fixtures)


@pytest.fixture
def admin_settings(tmp_path):
    return make_settings(tmp_path)


server = server_fixture("admin_settings", CheckedSite)
