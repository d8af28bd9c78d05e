"""Fixtures for the admin tests (helpers in ``admin_kit``).

* ``admin_settings`` — ``settings.test`` with accounts and the ``admin_demo`` app.
* ``site`` — the app served on a free 127.0.0.1 port (``admin_kit.Site``), after
  ``startup`` (indexes); the real in-memory database, real bcrypt (4 rounds).
"""
import pytest

from admin_kit import Site, make_settings
from http_kit import server_fixture, site  # noqa: F401  (fixtures)


@pytest.fixture
def admin_settings(tmp_path):
    return make_settings(tmp_path)


server = server_fixture("admin_settings", Site)
