"""Helpers for the audit tests (fixtures are in conftest.py).

* ``make_settings`` — ``settings.test`` with ``core.audit``, accounts and the
  ``audit_demo`` test app (``vault.box``), on an in-memory database.
* ``Site`` — a served app: ``browser()``, ``create_user``, ``user_browser``, ``entries()``.
* ``Browser`` — ``AsyncHTTPClient`` with its own cookie jar; redirects are not followed.
"""
import re
import sys
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

from core.conf import load_settings

SUPPORT = Path(__file__).resolve().parent / "audit_support"
if str(SUPPORT) not in sys.path:
    sys.path.insert(0, str(SUPPORT))

PASSWORD = "plum-harbour-velvet"          # passes every validator
NEW_PASSWORD = "quartz-meadow-lantern"


def make_settings(tmp_path, **overrides):
    values = dict(VAR_DIR=tmp_path / "var", DATABASE_URL="memory:",
                  INSTALLED_APPS=["core.audit", "apps.accounts", "audit_demo"])
    values.update(overrides)
    return load_settings("settings.test", environ={}, **values)


class Response:
    def __init__(self, raw):
        self.raw = raw
        self.code = raw.code
        self.headers = raw.headers
        self.text = raw.body.decode("utf-8", "replace") if raw.body else ""
        self.set_cookies = raw.headers.get_list("Set-Cookie")

    @property
    def location(self):
        return self.headers.get("Location")

    def json(self):
        import json
        return json.loads(self.text)

    def __repr__(self):
        return f"<Response {self.code} {self.location or ''}>"


@dataclass
class Browser:
    site: "Site"
    cookies: dict = field(default_factory=dict)

    def _remember(self, response):
        for line in response.set_cookies:
            parsed = SimpleCookie()
            parsed.load(line)
            for name, morsel in parsed.items():
                expired = morsel["max-age"] == "0" or (
                    morsel["expires"] and "1970" in morsel["expires"]) or morsel.value == ""
                if expired:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    async def fetch(self, path, method="GET", form=None, headers=None, body=None):
        all_headers = dict(headers or {})
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
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
        if "_xsrf" not in self.cookies:
            await self.get("/admin/login/")
        return self.cookies["_xsrf"]

    async def post(self, path, form=None, xsrf=True, **kwargs):
        form = dict(form or {})
        if xsrf:
            form["_xsrf"] = await self.xsrf()
        return await self.fetch(path, method="POST", form=form, **kwargs)

    async def login(self, username, password=PASSWORD):
        return await self.post("/admin/login/", {"username": username, "password": password})


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

    def model(self, key):
        return self.app.registry.get_model(key)

    def browser(self):
        return Browser(self)

    async def create_user(self, username, permissions=None, password=PASSWORD, **extra):
        User = self.model("accounts.user")
        return await User.create_user(username, f"{username}@example.com", password,
                                      db=self.db, permissions=permissions or {}, **extra)

    async def user_browser(self, username, permissions=None, **extra):
        """A browser logged in as a new user holding ``permissions``."""
        await self.create_user(username, permissions, **extra)
        browser = self.browser()
        response = await browser.login(username)
        assert response.code == 303, (response.code, response.text[:300])
        return browser

    async def entries(self, **flt):
        """The raw ``audit_log`` documents matching ``flt``, oldest first."""
        return await self.db["audit_log"].find(flt).sort([("at", 1), ("_id", 1)]).to_list(None)


def text_of(html):
    """Visible text, tags removed, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())
