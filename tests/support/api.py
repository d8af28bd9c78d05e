"""A JSON client for the API: a Bearer token or a session (cookies and the XSRF header).

``ApiSite`` is a ``Site`` that hands out clients: ``token_client``, ``session_client``,
``anonymous``.
"""
import json
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

from core.auth.tokens import TokenStore

from .client import Response, Site
from .config import PASSWORD


class Reply(Response):
    """``Response`` with the body parsed: ``json`` is the value (``None`` if none)."""

    def __init__(self, raw):
        super().__init__(raw)
        try:
            self.json = json.loads(self.text) if self.text else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"<Reply {self.code} {self.text[:300]}>"


@dataclass
class Client:
    """A JSON client: ``token`` (Bearer) or a session (``cookies``, ``xsrf`` header)."""

    site: "ApiSite"
    token: str = None
    cookies: dict = field(default_factory=dict)
    send_xsrf: bool = True

    async def request(self, method, path, body=None, raw=None, headers=None,
                      content_type="application/json"):
        all_headers = dict(headers or {})
        if self.token is not None:
            all_headers.setdefault("Authorization", f"Bearer {self.token}")
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            if self.send_xsrf and "_xsrf" in self.cookies:
                all_headers.setdefault("X-XSRFToken", self.cookies["_xsrf"])
        data = raw
        if body is not None:
            data = json.dumps(body)
        if data is not None and content_type:
            all_headers.setdefault("Content-Type", content_type)
        if method in ("POST", "PUT", "PATCH") and data is None:
            data = ""
        response = await self.site.client.fetch(
            self.site.url(path), method=method, body=data, headers=all_headers,
            raise_error=False, follow_redirects=False, allow_nonstandard_methods=True)
        for line in response.headers.get_list("Set-Cookie"):
            parsed = SimpleCookie()
            parsed.load(line)
            for name, morsel in parsed.items():
                if morsel.value:
                    self.cookies[name] = morsel.value
        return Reply(response)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


class ApiSite(Site):
    """A served app (``Site``) with JSON clients: token, session, anonymous."""

    async def token_client(self, username, permissions=None, **extra):
        """A client with a Bearer token of a new user holding ``permissions``."""
        user = await self.create_user(username, permissions, **extra)
        raw, _ = await TokenStore(self.db).create(user.id, name="test")
        client = Client(self, token=raw)
        client.user = user
        return client

    async def session_client(self, username, permissions=None, send_xsrf=True, **extra):
        """A client logged in through the login page (session cookie + _xsrf cookie)."""
        user = await self.create_user(username, permissions, **extra)
        client = Client(self, send_xsrf=send_xsrf)
        await client.get("/admin/login/")
        import urllib.parse
        form = urllib.parse.urlencode({"username": username, "password": PASSWORD,
                                       "_xsrf": client.cookies["_xsrf"]})
        reply = await client.request("POST", "/admin/login/", raw=form,
                                     content_type="application/x-www-form-urlencoded")
        assert reply.code == 303, reply
        client.user = user
        return client

    def anonymous(self):
        return Client(self)

    async def audit_entries(self, **flt):
        Entry = self.model("audit.entry")
        return await Entry.find(flt, sort=["at", "id"], db=self.db).to_list(None)
