"""Fixtures for the live-update tests (helpers in ``live_kit``).

* ``live_settings`` — ``settings.test`` + audit, accounts and admin_demo, short intervals.
* ``server`` / ``site`` — the app served on a free 127.0.0.1 port after ``startup`` (so
  the live feed runs), the real in-memory database, real bcrypt (4 rounds);
  ``shutdown`` afterwards closes the sockets and stops the feed.
"""
import pytest
import tornado.httpclient
import tornado.testing

import core.models
from core.app import make_app, make_server, shutdown, startup
from live_kit import Site, make_settings


@pytest.fixture
def live_settings(tmp_path):
    return make_settings(tmp_path)


@pytest.fixture
async def server(live_settings):
    previous_db = core.models.unbind()
    started = []

    async def start(settings=None, **tornado_settings):
        app = make_app(settings or live_settings, **tornado_settings)
        await startup(app)
        sock, port = tornado.testing.bind_unused_port()
        http_server = make_server(app)
        http_server.add_sockets([sock])
        client = tornado.httpclient.AsyncHTTPClient(force_instance=True)
        site = Site(app, http_server, port, client)
        started.append(site)
        return site

    yield start
    for site in started:
        site.client.close()
        site.server.stop()
        await shutdown(site.app)
        await site.server.close_all_connections()
    core.models.unbind()
    if previous_db is not None:
        core.models.bind(previous_db)


@pytest.fixture
async def site(server):
    return await server()
