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


async def test_a_second_passkey_on_the_same_authenticator_is_refused_in_french(page, site):
    """The browser refuses it itself (``excludeCredentials``: an ``InvalidStateError``
    with an English text); the page says why in the user's language."""
    from core import i18n
    await virtual_authenticator(page)
    await site.create_user("rene", {"blog.article": ["read"]}, language="fr")
    await password_login(page, site, "rene")
    await page.goto(local(site, "/admin/account/"))
    async with page.expect_navigation():
        await page.click("button.passkey-button")
    await page.click("button.passkey-button")
    error = page.locator(".passkey-error")
    await error.wait_for(state="visible")
    assert await error.inner_text() == i18n.locale_for("fr").translate(
        "This passkey is registered already.") != "This passkey is registered already."
    assert await site.db["auth_factors"].count_documents({"kind": "passkey"}) == 1


#: the browser's refusals a user can meet (WebAuthn's DOMException names), and a failure
#: with no such name (a lost connection): what the page says for each
BROWSER_REFUSALS = {
    "NotAllowedError": "The passkey request was cancelled or timed out.",
    "AbortError": "The passkey request was stopped.",
    "SecurityError": "Passkeys cannot be used at this page's address.",
    "NotSupportedError":
        "This browser or security key does not support the passkey this site asks for.",
    "ConstraintError": "This security key cannot verify you the way this site requires "
                       "(PIN, fingerprint or face).",
    "UnknownError": "The passkey did not work. Try again.",
    "TypeError": "The passkey did not work. Try again.",
}


@pytest.mark.parametrize("language", ["fr", "de"])
async def test_the_browsers_refusals_are_told_in_the_users_language(page, site, language):
    from core import i18n
    locale = i18n.locale_for(language)
    await site.create_user(f"u{language}", {"blog.article": ["read"]}, language=language)
    await password_login(page, site, f"u{language}")
    await page.goto(local(site, "/admin/account/"))
    button, error = page.locator("button.passkey-button"), page.locator(".passkey-error")
    for name, text in BROWSER_REFUSALS.items():
        await page.evaluate("""name => { navigator.credentials.create = () => Promise.reject(
            name === "TypeError" ? new TypeError("Failed to fetch (raw browser text)")
                                 : new DOMException("Raw browser text for " + name, name)); }""",
                            name)
        await button.click()
        await page.wait_for_function(
            "() => !document.querySelector('button.passkey-button').disabled")
        assert await error.is_visible(), name
        shown = await error.inner_text()
        assert shown == locale.translate(text) and shown != text, name
        assert "raw browser text" not in shown.lower(), name
    assert await site.db["auth_factors"].count_documents({"kind": "passkey"}) == 0
    # the server's own refusal, translated there, is shown as it is sent
    await page.evaluate("""() => { navigator.credentials.create = () => Promise.resolve({
        id: "bm9wZQ", rawId: new Uint8Array([1, 2]).buffer, type: "public-key",
        response: {clientDataJSON: new Uint8Array([3]).buffer,
                   attestationObject: new Uint8Array([4]).buffer}}); }""")
    async with page.expect_response(lambda r: r.url.endswith("/admin/account/passkeys/")
                                    and r.request.method == "POST") as answer:
        await button.click()
    refused = await (await answer.value).json()
    await page.wait_for_function(
        "() => !document.querySelector('button.passkey-button').disabled")
    assert await error.inner_text() == refused["error"]
    assert refused["error"] not in BROWSER_REFUSALS.values()


async def test_a_passkey_added_without_a_name_is_stored_unnamed(page, site):
    """Nothing English is stored for it: the page names it in the user's language."""
    from core import i18n
    await virtual_authenticator(page)
    await site.create_user("sacha", {"blog.article": ["read"]}, language="fr")
    await password_login(page, site, "sacha")
    await page.goto(local(site, "/admin/account/"))
    async with page.expect_navigation():
        await page.click("button.passkey-button")
    stored = await site.db["auth_factors"].find({"kind": "passkey"}).to_list(None)
    assert [p["name"] for p in stored] == [""]
    assert await page.inner_text("ul.passkeys strong") == \
        i18n.locale_for("fr").translate("Passkey") != "Passkey"
    added = await site.db["audit_log"].find_one({"action": "twofactor_enrol"})
    assert added["detail"] == "an unnamed passkey registered at the account page"
