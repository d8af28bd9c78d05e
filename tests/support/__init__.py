"""What every test folder (and every app's ``tests/``) shares: ``import support``.

``tests/`` is on ``sys.path`` through pytest's ``pythonpath`` option (setup.cfg), so this
package imports the same way from ``tests/<folder>/`` and ``apps/<name>/tests/``; no test
edits ``sys.path``. The test apps (``admin_demo``, ``audit_demo``, ``auth_demo``,
``acl_shop``) are importable the same way.

Settings and values (``support.config``):

* ``PASSWORD`` / ``NEW_PASSWORD`` — passwords that pass every validator.
* ``BLOG_APPS`` — the project's own apps (audit, accounts, blog).
* ``make_settings(tmp_path, apps, module="settings.test", **overrides)`` — test settings
  on an in-memory database with a temp ``VAR_DIR``, read without the outer environment.

Serving (``support.server``):

* ``serving(site_class=Site, shutdown_first=False)`` / ``Servers`` — ``async with
  serving() as servers: site = await servers.serve(settings)`` builds the app, runs
  ``startup`` and serves it on a free 127.0.0.1 port; ``serve_app(app)`` serves an app
  already built. Leaving closes clients, servers and connections, runs ``shutdown`` and
  restores the models' previous database binding.
* ``server_fixture(settings_fixture, site_class=Site)`` — a conftest's ``server`` fixture:
  ``await server(settings=None, db=None)`` serves the value of the fixture named
  ``settings_fixture`` (or ``settings``). ``site`` (import it into the conftest next to
  ``server``) is ``await server()``.
* ``bound(database)`` — binds a database for the models, restoring the previous binding.

The HTTP client (``support.client``):

* ``Site`` — a served app: ``url(path)``, ``db``, ``model(key)``, ``browser()``,
  ``create_user(username, permissions)``, ``user_browser(username, permissions)``.
* ``Browser`` — ``AsyncHTTPClient`` with its own cookie jar, redirects not followed:
  ``get``, ``post`` (adds the XSRF token), ``fetch``, ``login``; returns ``Response``
  (``code``, ``text``, ``location``, ``json()``, ``set_cookie_line(name)``).
* ``CheckedSite`` / ``CheckedBrowser`` — the same, but ``login`` asserts it worked.
* ``SyncBrowser(base_url)`` — a blocking urllib client (cookie jar, XSRF, ``login``) for
  a server in another process (``manage.py runserver``).

JSON API and live feed (``support.api``, ``support.live``):

* ``ApiSite`` — a ``Site`` with ``token_client``, ``session_client``, ``anonymous``;
  ``Client`` sends JSON and answers ``Reply`` (``json`` already parsed).
* ``LiveClient`` / ``Refused`` — a WebSocket client on ``/admin/live``.

Reading pages (``support.pages``): ``error_for`` / ``errors_in`` (a field's error list),
``form_errors`` (the non-field errors), ``row_ids``, ``row``, ``link``, ``text_of``.

Users-and-roles forms (``support.accounts``): ``USERS``, ``ROLES``, ``HASH_RE``,
``boxes``, ``user_form``, ``role_form``.

``manage.py`` in a subprocess (``support.cli``): ``Cli`` (on an embedded database file),
``outer_env``, ``manage_env``, ``manage``, ``one_error_line``, ``free_port``, ``REPO``.

Suite-wide hooks (``support.plugin``): the default ``BASTION_SETTINGS`` and "a skip is a
failure under ``CI=true``"; ``tests/conftest.py`` and ``apps/conftest.py`` load it.
"""
from .client import LOGIN, Browser, CheckedBrowser, CheckedSite, Response, Site, SyncBrowser
from .config import BLOG_APPS, NEW_PASSWORD, PASSWORD, make_settings
from .server import Servers, bound, server_fixture, serving, site

__all__ = ["BLOG_APPS", "Browser", "CheckedBrowser", "CheckedSite", "LOGIN", "NEW_PASSWORD",
           "PASSWORD", "Response", "Servers", "Site", "SyncBrowser", "bound", "make_settings",
           "server_fixture", "serving", "site"]
