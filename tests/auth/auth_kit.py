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
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

from core.conf import load_settings

SUPPORT = Path(__file__).resolve().parent / "auth_support"
if str(SUPPORT) not in sys.path:
    sys.path.insert(0, str(SUPPORT))

PASSWORD = "plum-harbour-velvet"        # passes every validator
NEW_PASSWORD = "quartz-meadow-lantern"
SESSION_COOKIE = "bastion_session"


def make_settings(tmp_path, module="settings.test", **overrides):
    values = dict(VAR_DIR=tmp_path / "var", DATABASE_URL="memory:",
                  INSTALLED_APPS=["apps.accounts", "auth_demo"])
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
        import json
        return json.loads(self.text)


@dataclass
class Browser:
    site: "Site"
    cookies: dict = field(default_factory=dict)
    remote_headers: dict = field(default_factory=dict)

    def _remember(self, response):
        for line in response.set_cookies:
            parsed = SimpleCookie()
            parsed.load(line)
            for name, morsel in parsed.items():
                expired = morsel["max-age"] == "0" or (
                    morsel["expires"] and "1970" in morsel["expires"]) or (
                    morsel["expires"] and morsel.value == "")
                if expired:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    async def fetch(self, path, method="GET", form=None, headers=None, body=None):
        all_headers = dict(self.remote_headers)
        all_headers.update(headers or {})
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urllib.parse.urlencode(form)
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
            await self.get("/admin/login/")
        return self.cookies["_xsrf"]

    async def post(self, path, form=None, xsrf=True, **kwargs):
        form = dict(form or {})
        if xsrf:
            form["_xsrf"] = await self.xsrf()
        return await self.fetch(path, method="POST", form=form, **kwargs)

    async def login(self, username, password=PASSWORD, next=None):
        form = {"username": username, "password": password}
        if next is not None:
            form["next"] = next
        return await self.post("/admin/login/", form)

    @property
    def session(self):
        return self.cookies.get(SESSION_COOKIE)


@dataclass
class Site:
    app: object
    server: object
    port: int
    client: object

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def db(self):
        return self.app.db

    @property
    def User(self):
        return self.app.registry.get_model("accounts.user")

    def browser(self, **kwargs):
        return Browser(self, **kwargs)

    async def create_user(self, username="alice", password=PASSWORD, **extra):
        return await self.User.create_user(username, f"{username}@example.com", password,
                                           db=self.db, **extra)

    async def sessions(self, **flt):
        return await self.db["sessions"].find(flt).to_list(None)


def error_for(text, field_id):
    """The error list rendered next to the field ``id_<name>``, as text ('' if none)."""
    match = re.search(rf'<ul class="errorlist" id="{field_id}_errors">(.*?)</ul>', text, re.S)
    return re.sub(r"<[^>]+>", " ", match.group(1)).strip() if match else ""
