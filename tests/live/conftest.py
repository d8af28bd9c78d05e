"""Fixtures for the live-update tests (helpers in ``live_kit``).

* ``live_settings`` — ``settings.test`` + audit, accounts and admin_demo, short intervals.
* ``server`` / ``site`` — the app served on a free 127.0.0.1 port after ``startup`` (so
  the live feed runs), the real in-memory database, real bcrypt (4 rounds);
  ``shutdown`` afterwards closes the sockets and stops the feed.
"""
import pytest

from live_kit import make_settings
from support import CheckedSite, server_fixture, site  # noqa: F401  (fixtures)


@pytest.fixture
def live_settings(tmp_path):
    return make_settings(tmp_path)


server = server_fixture("live_settings", CheckedSite, shutdown_first=True)
