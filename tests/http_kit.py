"""Test support shared by every folder that serves the app over real HTTP.

``tests/`` is on ``sys.path`` (the root conftest lives there), so any test folder can
``import http_kit``; each folder's kit subclasses or wraps what it needs.

* ``PASSWORD`` / ``NEW_PASSWORD`` — passwords that pass every validator.
* ``make_settings(tmp_path, apps, module="settings.test", **overrides)`` — test settings
  on an in-memory database with a temp ``VAR_DIR``, read without the outer environment.
* ``Servers`` / ``serving(site_class)`` — serve apps on free 127.0.0.1 ports through a real
  ``HTTPServer`` and ``AsyncHTTPClient``: ``await servers.serve(settings, db=None)`` builds
  the app, runs ``startup`` and returns a ``site_class``; ``serve_app(app)`` serves an app
  already built. Leaving ``serving`` closes the clients, servers and connections, runs
  ``shutdown`` and restores the models' previous database binding. ``servers.starter(
  settings)`` is the ``await start(settings=None, db=None)`` a ``server`` fixture yields.
* ``server_fixture(settings_fixture, site_class)`` makes a conftest's ``server`` fixture
  from that; ``site`` (imported into a conftest) is ``await server()``.
* ``outer_env()`` — the environment a ``manage.py`` subprocess starts from.
* ``bound(database)`` — binds a database for the models, restoring the previous binding.
* ``Site`` — a served app: ``url``, ``db``, ``model``, ``browser()``, ``create_user``,
  ``user_browser``.
* ``Browser`` — ``AsyncHTTPClient`` with its own cookie jar, redirects not followed;
  ``get``, ``post`` (with the XSRF token), ``login``. ``Response`` is what it returns.
"""
import contextlib
import json
import os
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

import pytest
import tornado.httpclient
import tornado.testing

import core.models
from core.app import make_app, make_server, shutdown, startup
from core.conf import load_settings

PASSWORD = "plum-harbour-velvet"          # passes every validator
NEW_PASSWORD = "quartz-meadow-lantern"
LOGIN = "/admin/login/"

# the variables a ``manage.py`` subprocess must not inherit from the outer environment
SETTINGS_VARIABLES = ("DATABASE_URL", "MONGO_DRIVER", "COOKIE_SECRET", "BCRYPT_ROUNDS",
                      "PORT", "DEBUG", "VAR_DIR", "BASTION_SETTINGS")


def outer_env(keep_pythonpath=False):
    """``os.environ`` for a ``manage.py`` subprocess: without the settings' variables, and
    without ``PYTHONPATH`` unless ``keep_pythonpath``; the caller adds its own."""
    dropped = SETTINGS_VARIABLES if keep_pythonpath else SETTINGS_VARIABLES + ("PYTHONPATH",)
    return {k: v for k, v in os.environ.items() if k not in dropped}


def make_settings(tmp_path, apps, module="settings.test", **overrides):
    values = dict(VAR_DIR=tmp_path / "var", DATABASE_URL="memory:", INSTALLED_APPS=apps)
    values.update(overrides)
    return load_settings(module, environ={}, **values)


class Response:
    """What a test looks at: status, headers, body text, and the raw Set-Cookie lines."""

    def __init__(self, raw):
        self.raw = raw
        self.code = raw.code
        self.headers = raw.headers
        self.text = raw.body.decode("utf-8", "replace") if raw.body else ""
        self.set_cookies = raw.headers.get_list("Set-Cookie")

    @property
    def location(self):
        return self.headers.get("Location")

    def set_cookie_line(self, name):
        lines = [line for line in self.set_cookies if line.startswith(name + "=")]
        return lines[-1] if lines else None

    def json(self):
        return json.loads(self.text)

    def __repr__(self):
        return f"<Response {self.code} {self.location or ''}>"


@dataclass
class Browser:
    site: "Site"
    cookies: dict = field(default_factory=dict)
    remote_headers: dict = field(default_factory=dict)

    # an empty cookie value clears the cookie (otherwise only with an ``expires``)
    empty_value_clears = True
    # form values that are lists are sent as repeated fields
    form_doseq = True

    def _expired(self, morsel):
        if morsel["max-age"] == "0" or (morsel["expires"] and "1970" in morsel["expires"]):
            return True
        if self.empty_value_clears:
            return morsel.value == ""
        return bool(morsel["expires"] and morsel.value == "")

    def _remember(self, response):
        for line in response.set_cookies:
            parsed = SimpleCookie()
            parsed.load(line)
            for name, morsel in parsed.items():
                if self._expired(morsel):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    async def fetch(self, path, method="GET", form=None, headers=None, body=None):
        all_headers = dict(self.remote_headers)
        all_headers.update(headers or {})
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=self.form_doseq)
            all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if method in ("POST", "PUT", "PATCH") and body is None:
            body = ""
        raw = await self.site.client.fetch(self.site.url(path), method=method, body=body,
                                           headers=all_headers, raise_error=False,
                                           follow_redirects=False)
        response = Response(raw)
        self._remember(response)
        return response

    async def get(self, path, **kwargs):
        return await self.fetch(path, **kwargs)

    async def xsrf(self):
        """The XSRF token to post (getting a page first if the jar has no cookie yet)."""
        if "_xsrf" not in self.cookies:
            await self.get(LOGIN)
        return self.cookies["_xsrf"]

    async def post(self, path, form=None, xsrf=True, **kwargs):
        """Post ``form`` (a dict, or a list of pairs for repeated fields) with the token."""
        form = list(form) if isinstance(form, list) else dict(form or {})
        if xsrf:
            token = await self.xsrf()
            if isinstance(form, list):
                form.append(("_xsrf", token))
            else:
                form["_xsrf"] = token
        return await self.fetch(path, method="POST", form=form, **kwargs)

    async def login(self, username, password=PASSWORD, next=None):
        form = {"username": username, "password": password}
        if next is not None:
            form["next"] = next
        return await self.post(LOGIN, form)


@dataclass
class Site:
    app: object
    server: object
    port: int
    client: object

    browser_class = Browser

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def db(self):
        return self.app.db

    def model(self, key):
        return self.app.registry.get_model(key)

    def browser(self, **kwargs):
        return self.browser_class(self, **kwargs)

    async def create_user(self, username, permissions=None, password=PASSWORD, **extra):
        User = self.model("accounts.user")
        return await User.create_user(username, f"{username}@example.com", password,
                                      db=self.db, permissions=permissions or {}, **extra)

    async def user_browser(self, username, permissions=None, **extra):
        """A browser logged in as a new user holding ``permissions``."""
        await self.create_user(username, permissions, **extra)
        browser = self.browser()
        response = await browser.login(username)
        assert response.code == 303, (response.code, response.text[:500])
        return browser


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
