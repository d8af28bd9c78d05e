"""The account pages (``/admin/account/...``): who may call them, and on whose data.

Cells: profiles × endpoints. The pages take no user id: each acts on the logged-in user
only, so the cells check that an anonymous visitor is sent to log in (401 for JSON),
that any logged-in user — holding nothing, holding ``accounts.user`` read+write (who may
edit Bob in the admin), or a superuser — gets their own page, and that nobody's request
shows or changes Bob's sessions or second factors: Bob's session's user agent and
address and his passkey's name (markers) appear in no response, his session handle and
passkey id are a 404 for everyone else, and his factors and sessions are the same after
every cell.
"""
import re

import pyotp
import pytest
import pytest_asyncio

import acl_kit
from core.auth.twofactor import FactorStore
from support import PASSWORD, make_settings, serving

pytestmark = pytest.mark.asyncio(loop_scope="module")

BOB_AGENT = "SECRET-BOB-AGENT-7f3a"
BOB_ADDRESS = "198.51.100.77"
PROFILES = {"anonymous": None, "nothing": {}, "user-admin": {"accounts.user": ["read", "write"]},
            "superuser": "superuser"}
# endpoint → (method, path, form, JSON?); "{bob}" is Bob's session handle
ENDPOINTS = {
    "account:get": ("GET", "/admin/account/", None, False),
    "account:json": ("GET", "/admin/account/", None, True),
    "account:post": ("POST", "/admin/account/", {"language": "fr", "time_zone": ""}, False),
    "totp:get": ("GET", "/admin/account/totp/", None, False),
    "totp:post": ("POST", "/admin/account/totp/", {"code": "000000"}, False),
    "totp-disable:post": ("POST", "/admin/account/totp/disable/", {"password": "wrong-one"},
                          False),
    "recovery:post": ("POST", "/admin/account/recovery-codes/", {"password": PASSWORD}, False),
    "sessions:post": ("POST", "/admin/account/sessions/", {}, False),
    "session-end:bob": ("POST", "/admin/account/sessions/{bob}/end/", {}, False),
    "passkey-options:post": ("POST", "/admin/account/passkeys/options/", {}, False),
    "passkeys:post": ("POST", "/admin/account/passkeys/", {"credential": "x"}, False),
    "passkey-delete:bob": ("POST", "/admin/account/passkeys/{bob_passkey}/delete/",
                           {"password": PASSWORD}, False),
}
CELLS = [(profile, endpoint) for profile in PROFILES for endpoint in ENDPOINTS]


def expected(profile, endpoint):
    """The status a cell must get (the rule, pure)."""
    method, _path, _form, as_json = ENDPOINTS[endpoint]
    if PROFILES[profile] is None:
        return 401 if as_json else (302 if method == "GET" else 303)
    return {"account:get": 200, "account:json": 200, "account:post": 303, "totp:get": 200,
            "totp:post": 400, "totp-disable:post": 400, "recovery:post": 409,
            "sessions:post": 303, "session-end:bob": 404, "passkey-options:post": 200,
            "passkeys:post": 400, "passkey-delete:bob": 404}[endpoint]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory):
    async with serving(shutdown_first=True) as servers:
        settings = make_settings(tmp_path_factory.mktemp("acl-account"), acl_kit.APPS,
                                 XHEADERS=True)
        site = await servers.serve(settings)
        await site.create_user("bob", {"blog.article": ["read"]})
        bob = site.browser(remote_headers={"User-Agent": BOB_AGENT, "X-Real-Ip": BOB_ADDRESS})
        assert (await bob.login("bob")).code == 303
        page = await bob.get("/admin/account/totp/")
        secret = re.search(r'id="totp_secret">([A-Z2-7 ]+)<', page.text).group(1)
        done = await bob.post("/admin/account/totp/",
                              {"code": pyotp.TOTP(secret.replace(" ", "")).now()})
        assert done.code == 200
        handle = (await bob.get("/admin/account/", headers={"Accept": "application/json"})
                  ).json()["sessions"][0]["handle"]
        bob_user = await site.model("accounts.user").get_by_username("bob", db=site.db)
        passkey = await FactorStore(site.db).add_passkey(bob_user.id, {
            "credential_id": "AAAA", "public_key": "AAAA", "sign_count": 0,
            "name": BOB_AGENT, "created_at": None, "last_used": None})
        browsers = {}
        for name, perms in PROFILES.items():
            if perms is None:
                browsers[name] = site.browser()
            else:
                browsers[name] = await site.user_browser(
                    f"acl-{name}", {} if perms == "superuser" else perms,
                    is_superuser=perms == "superuser")
        yield {"site": site, "browsers": browsers, "bob_handle": handle,
               "bob_passkey": str(passkey["_id"])}


async def bob_state(site):
    bob = await site.model("accounts.user").get_by_username("bob", db=site.db)
    factors = await site.db["auth_factors"].find({"user_id": bob.id}, sort=[("_id", 1)]
                                                 ).to_list(None)
    sessions = await site.db["sessions"].find({"user_id": bob.id}, {"_id": 1}).to_list(None)
    return factors, sessions, (bob.language, bob.time_zone)


@pytest.mark.parametrize("profile,endpoint", CELLS, ids=[f"{p}|{e}" for p, e in CELLS])
async def test_account_cell(world, profile, endpoint):
    site, browser = world["site"], world["browsers"][profile]
    method, path, form, as_json = ENDPOINTS[endpoint]
    path = path.format(bob=world["bob_handle"], bob_passkey=world["bob_passkey"])
    before = await bob_state(site)
    headers = {"Accept": "application/json"} if as_json else {}
    if method == "GET":
        response = await browser.get(path, headers=headers)
    else:
        response = await browser.post(path, form, headers=headers)
    assert response.code == expected(profile, endpoint), (response.code, response.text[:300])
    if response.code in (302, 303) and PROFILES[profile] is None:
        assert response.location.startswith("/admin/login/")
    markers = [BOB_AGENT, BOB_ADDRESS]
    if ":bob" not in endpoint:            # (a 404 page may echo the URL asked for)
        markers += [world["bob_handle"], world["bob_passkey"]]
    for marker in markers:
        assert marker not in response.text
    assert await bob_state(site) == before
