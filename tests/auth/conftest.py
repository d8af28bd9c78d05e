"""Fixtures for the login tests (helpers in ``auth_kit``).

* ``auth_settings`` — ``settings.test`` with the accounts app and the ``auth_demo``
  test app, an in-memory database.
* ``server`` — ``await server()`` (or ``await server(settings)``) builds the app,
  runs ``startup`` (indexes, TTL included) and serves it on a free 127.0.0.1 port;
  returns an ``auth_kit.Site``. ``site`` is one such server with ``auth_settings``.
"""
import pytest
import tornado.httpclient
import tornado.testing

import core.models
from auth_kit import Site, make_settings
from core.app import make_app, make_server, shutdown, startup


@pytest.fixture
def auth_settings(tmp_path):
    return make_settings(tmp_path)


@pytest.fixture
async def server(auth_settings):
    previous_db = core.models.unbind()
    started = []

    async def start(settings=None, db=None):
        app = make_app(settings or auth_settings, db=db)
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
