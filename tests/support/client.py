"""The HTTP client of the tests: a cookie jar, the XSRF token, logging in.

``Site`` is one served app (``support.server`` makes it); ``site.browser()`` is a
``Browser`` of its own. ``CheckedSite`` hands out ``CheckedBrowser``s, whose ``login``
asserts that it worked. ``SyncBrowser`` is a blocking client for a server running in
another process.
"""
import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

from .config import PASSWORD

LOGIN = "/admin/login/"


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


class CheckedBrowser(Browser):
    """A ``Browser`` whose ``login`` fails the test unless it is answered with a 303."""

    async def login(self, username, password=PASSWORD, next=None):
        response = await super().login(username, password, next)
        assert response.code == 303, (response.code, response.text[:500])
        return response


class CheckedSite(Site):
    browser_class = CheckedBrowser


class SyncBrowser:
    """A blocking client for a server in another process (``manage.py runserver``):
    urllib with a cookie jar, redirects followed. ``open(path, form=None)`` posts ``form``
    (with the ``_xsrf`` cookie's token unless the form has one) and returns ``(status,
    final path, text)``."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name):
        return next((c.value for c in self.jar if c.name == name), None)

    def open(self, path, form=None):
        if form is not None and "_xsrf" not in form:
            form = dict(form, _xsrf=self.cookie("_xsrf"))
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=20) as response:
                return response.status, urllib.parse.urlsplit(response.geturl()).path, \
                    response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, urllib.parse.urlsplit(exc.geturl()).path, exc.read().decode()

    def login(self, username, password=PASSWORD):
        """Open the login page (for the XSRF cookie), then post the form."""
        self.open(LOGIN)
        return self.open(LOGIN, {"username": username, "password": password})
