"""Serving apps on free 127.0.0.1 ports through a real ``HTTPServer``.

``serving`` / ``Servers`` build, start and stop apps; ``server_fixture`` turns that into a
conftest's ``server`` fixture and ``site`` (imported into a conftest) is ``await server()``.
``bound`` binds a database for the models and restores the previous binding.
"""
import contextlib

import pytest
import tornado.httpclient
import tornado.testing

import core.models
from core.app import make_app, make_server, shutdown, startup

from .client import Site


class Servers:
    """Apps served on free 127.0.0.1 ports; ``await close()`` stops them all.

    Made before the first app, it unbinds the models' database and ``close`` binds the
    previous one back. ``shutdown_first`` runs ``shutdown`` (which closes live sockets)
    before the server's remaining connections are closed.
    """

    def __init__(self, site_class=Site, shutdown_first=False):
        self.site_class = site_class
        self.shutdown_first = shutdown_first
        self.started = []
        self.previous_db = core.models.unbind()

    async def serve(self, settings, db=None, **tornado_settings):
        """Build the app for ``settings``, run ``startup`` and serve it."""
        app = make_app(settings, db=db, **tornado_settings)
        await startup(app)
        return self.serve_app(app)

    def starter(self, default_settings):
        """``await start(settings=None, db=None, **tornado_settings)``: serve
        ``default_settings`` unless given others (what a ``server`` fixture yields)."""
        async def start(settings=None, db=None, **tornado_settings):
            return await self.serve(settings or default_settings, db=db, **tornado_settings)
        return start

    def serve_app(self, app):
        sock, port = tornado.testing.bind_unused_port()
        http_server = make_server(app)
        http_server.add_sockets([sock])
        client = tornado.httpclient.AsyncHTTPClient(force_instance=True)
        site = self.site_class(app, http_server, port, client)
        self.started.append(site)
        return site

    async def close(self):
        for site in self.started:
            site.client.close()
            site.server.stop()
            if self.shutdown_first:
                await shutdown(site.app)
                await site.server.close_all_connections()
            else:
                await site.server.close_all_connections()
                await shutdown(site.app)
        core.models.unbind()
        if self.previous_db is not None:
            core.models.bind(self.previous_db)


@contextlib.asynccontextmanager
async def bound(database):
    """Bind ``database`` for the models; afterwards the previous binding is restored."""
    previous = core.models.unbind()
    core.models.bind(database)
    try:
        yield database
    finally:
        core.models.unbind()
        if previous is not None:
            core.models.bind(previous)


@contextlib.asynccontextmanager
async def serving(site_class=Site, shutdown_first=False):
    """``async with serving(Site) as servers: site = await servers.serve(settings)``."""
    servers = Servers(site_class, shutdown_first)
    try:
        yield servers
    finally:
        await servers.close()


def server_fixture(settings_fixture, site_class=Site, **serving_kwargs):
    """A ``server`` fixture for a conftest: ``await server(settings=None, db=None)`` serves
    the value of the fixture named ``settings_fixture`` (or ``settings``) and returns a
    ``site_class``; everything is stopped after the test (see ``serving``)."""
    @pytest.fixture
    async def server(request):
        default_settings = request.getfixturevalue(settings_fixture)
        async with serving(site_class, **serving_kwargs) as servers:
            yield servers.starter(default_settings)
    return server


@pytest.fixture
async def site(server):
    """``await server()``: the one served app most tests need (import it into a conftest)."""
    return await server()
