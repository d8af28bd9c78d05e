"""Helpers for the login tests (fixtures are in conftest.py).

* ``make_settings`` — ``settings.test`` (or another module) with the accounts app and
  the ``auth_demo`` test app (models ``demo.widget`` / ``demo.gadget``, JSON routes
  that need a user) on an in-memory database.
* ``Site`` — a served app: ``browser()`` (a fresh cookie jar), ``create_user``,
  ``sessions()``.
* ``Browser`` — ``AsyncHTTPClient`` with manual cookie handling, no redirects
  followed; ``await b.login(user, password)`` posts the login form with its XSRF token.
"""
import re
import sys
from pathlib import Path

import http_kit
from http_kit import NEW_PASSWORD, PASSWORD, Response  # noqa: F401  (re-exported)

SUPPORT = Path(__file__).resolve().parent / "auth_support"
if str(SUPPORT) not in sys.path:
    sys.path.insert(0, str(SUPPORT))

SESSION_COOKIE = "bastion_session"


def make_settings(tmp_path, module="settings.test", **overrides):
    return http_kit.make_settings(tmp_path, ["apps.accounts", "auth_demo"], module=module,
                                  **overrides)


class Browser(http_kit.Browser):
    empty_value_clears = False     # only an empty value with an ``expires`` clears
    form_doseq = False

    @property
    def session(self):
        return self.cookies.get(SESSION_COOKIE)


class Site(http_kit.Site):
    browser_class = Browser

    @property
    def User(self):
        return self.app.registry.get_model("accounts.user")

    async def create_user(self, username="alice", password=PASSWORD, **extra):
        return await self.User.create_user(username, f"{username}@example.com", password,
                                           db=self.db, **extra)

    async def sessions(self, **flt):
        return await self.db["sessions"].find(flt).to_list(None)


def error_for(text, field_id):
    """The error list rendered next to the field ``id_<name>``, as text ('' if none)."""
    match = re.search(rf'<ul class="errorlist" id="{field_id}_errors">(.*?)</ul>', text, re.S)
    return re.sub(r"<[^>]+>", " ", match.group(1)).strip() if match else ""
