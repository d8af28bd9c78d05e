"""Fixtures for the live-update tests (helpers in ``live_kit``).

* ``live_settings`` — ``settings.test`` + audit, accounts and admin_demo, short intervals.
* ``server`` / ``site`` — the app served on a free 127.0.0.1 port after ``startup`` (so
  the live feed runs), the real in-memory database, real bcrypt (4 rounds);
  ``shutdown`` afterwards closes the sockets and stops the feed.
"""
import pytest

from http_kit import serving
from live_kit import Site, make_settings


@pytest.fixture
def live_settings(tmp_path):
    return make_settings(tmp_path)


@pytest.fixture
async def server(live_settings):
    async with serving(Site, shutdown_first=True) as servers:
        yield servers.starter(live_settings)


@pytest.fixture
async def site(server):
    return await server()
