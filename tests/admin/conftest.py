"""Fixtures for the admin tests (helpers in ``admin_kit``).

* ``admin_settings`` — ``settings.test`` with accounts and the ``admin_demo`` app.
* ``site`` — the app served on a free 127.0.0.1 port (``admin_kit.Site``), after
  ``startup`` (indexes); the real in-memory database, real bcrypt (4 rounds).
"""
import pytest
import tornado.httpclient
import tornado.testing

import core.models
from admin_kit import Site, make_settings
from core.app import make_app, make_server, shutdown, startup


@pytest.fixture
def admin_settings(tmp_path):
    return make_settings(tmp_path)


@pytest.fixture
async def server(admin_settings):
    previous_db = core.models.unbind()
    started = []

    async def start(settings=None):
        app = make_app(settings or admin_settings)
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
        await site.server.close_all_connections()
        await shutdown(site.app)
    core.models.unbind()
    if previous_db is not None:
        core.models.bind(previous_db)


@pytest.fixture
async def site(server):
    return await server()
