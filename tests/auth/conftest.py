"""Fixtures for the login tests (helpers in ``auth_kit``).

* ``auth_settings`` — ``settings.test`` with the accounts app and the ``auth_demo``
  test app, an in-memory database.
* ``server`` — ``await server()`` (or ``await server(settings)``) builds the app,
  runs ``startup`` (indexes, TTL included) and serves it on a free 127.0.0.1 port;
  returns an ``auth_kit.Site``. ``site`` is one such server with ``auth_settings``.
"""
import pytest

from auth_kit import Site, make_settings
from support import server_fixture, site  # noqa: F401  (fixtures)


@pytest.fixture
def auth_settings(tmp_path):
    return make_settings(tmp_path)


server = server_fixture("auth_settings", Site)
