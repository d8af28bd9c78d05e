"""Fixtures for the live-update tests (helpers in ``live_kit``).

* ``live_settings`` — ``settings.test`` + audit, accounts and admin_demo, short intervals.
* ``server`` / ``site`` — the app served on a free 127.0.0.1 port after ``startup`` (so
  the live feed runs), the real in-memory database, real bcrypt (4 rounds);
  ``shutdown`` afterwards closes the sockets and stops the feed.
"""
import pytest

from http_kit import server_fixture, site  # noqa: F401  (fixtures)
from live_kit import Site, make_settings


@pytest.fixture
def live_settings(tmp_path):
    return make_settings(tmp_path)


server = server_fixture("live_settings", Site, shutdown_first=True)
