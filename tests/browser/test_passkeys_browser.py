"""Passkeys in a real browser: headless Chromium with a virtual authenticator (Chrome
DevTools Protocol ``WebAuthn.addVirtualAuthenticator`` through Playwright's CDP session).

A user registers a passkey on their account page (``static/passkeys.js`` calls
``navigator.credentials.create``), logs out, logs in with their password and is asked for
the second step, where the passkey (``navigator.credentials.get``) opens the session.
Browsers refuse an IP address as a WebAuthn relying party, so these pages are opened at
``localhost`` (the server listens on 127.0.0.1).
"""
import pytest

from core.auth.sessions import AUTH_EPOCH_KEY
from support import PASSWORD

#: every document of the sessions collection but the auth cache's epoch stamp
NOT_THE_EPOCH = {"_id": {"$ne": AUTH_EPOCH_KEY}}

pytestmark = pytest.mark.asyncio(loop_scope="module")


def local(site, path):
    return f"http://localhost:{site.port}{path}"


async def virtual_authenticator(page):
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    added = await cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})
    return cdp, added["authenticatorId"]


async def password_login(page, site, username):
    await page.goto(local(site, "/admin/login/"))
    await page.fill("#id_username", username)
    await page.fill("#id_password", PASSWORD)
    async with page.expect_navigation():
        await page.click("button[type=submit]:has-text('Log in')")


async def test_register_a_passkey_then_log_in_with_it(page, site):
    cdp, authenticator = await virtual_authenticator(page)
    await site.create_user("pat", {"blog.article": ["read"]})
    await password_login(page, site, "pat")
    assert page.url == local(site, "/admin/")                     # no factor yet

    await page.goto(local(site, "/admin/account/"))
    await page.fill("#passkey_name", "Test laptop")
    async with page.expect_navigation():
        await page.click("button.passkey-button:has-text('Add a passkey')")
    assert page.url.endswith("/admin/account/?done=passkey-added")
    assert "Test laptop" in await page.inner_text("ul.passkeys")
    credentials = (await cdp.send("WebAuthn.getCredentials",
                                  {"authenticatorId": authenticator}))["credentials"]
    assert len(credentials) == 1
    stored = await site.db["auth_factors"].find({"kind": "passkey"}).to_list(None)
    assert [p["name"] for p in stored] == ["Test laptop"]

    async with page.expect_navigation():
        await page.click("form.logout-form button")
    await password_login(page, site, "pat")
    assert page.url == local(site, "/admin/login/verify/")        # the second step
    assert await site.db["sessions"].count_documents(NOT_THE_EPOCH) == 0
    async with page.expect_navigation():
        await page.click("button.passkey-button:has-text('Use a passkey')")
    assert page.url == local(site, "/admin/")
    assert "pat" in await page.inner_text(".user-nav")
    logins = await site.db["audit_log"].find({"action": "login"}, sort=[("at", 1)]
                                             ).to_list(None)
    assert "passkey" in logins[-1]["detail"] and "Test laptop" in logins[-1]["detail"]
    used = await site.db["auth_factors"].find_one({"kind": "passkey"})
    assert used["last_used"] is not None


async def test_a_passkey_the_site_does_not_know_is_refused(page, site):
    cdp, authenticator = await virtual_authenticator(page)
    await site.create_user("quin", {"blog.article": ["read"]})
    await password_login(page, site, "quin")
    await page.goto(local(site, "/admin/account/"))
    async with page.expect_navigation():
        await page.click("button.passkey-button:has-text('Add a passkey')")
    # the authenticator loses its credential: the login step's passkey cannot answer
    await cdp.send("WebAuthn.clearCredentials", {"authenticatorId": authenticator})
    async with page.expect_navigation():
        await page.click("form.logout-form button")
    await password_login(page, site, "quin")
    await page.click("button.passkey-button:has-text('Use a passkey')")
    error = page.locator(".passkey-error")
    await error.wait_for(state="visible")
    assert page.url == local(site, "/admin/login/verify/")
    assert await site.db["sessions"].count_documents(NOT_THE_EPOCH) == 0
