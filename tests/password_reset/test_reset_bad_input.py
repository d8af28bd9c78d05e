"""Bad input to the reset pages: a clear page (400 for links, the form with its errors),
nothing changed, nothing mailed, never a 500."""
import json

import pytest

from core import i18n
from core.auth.reset_tokens import ResetTokens
from reset_kit import INVALID, RESET, follow
from support import NEW_PASSWORD, PASSWORD
from support.pages import errors_in


@pytest.mark.parametrize("address, words", [
    ("", "Enter your email address."),
    ("   ", "Enter your email address."),
    ("nope", "Enter a valid email address."),
    ("two@at@example.com", "Enter a valid email address."),
    ("a" * 250 + "@example.com", "Enter at most 254 characters."),
])
async def test_a_bad_address_is_a_field_error_and_nothing_is_sent(site, smtp, address, words):
    await site.create_user("alice")
    page = await site.ask(site.browser(), address)
    assert page.code == 200 and words in errors_in(page.text, "email")
    await site.settle()
    assert smtp.messages == []
    assert await site.db["password_reset_requests"].count_documents({}) == 0


async def test_the_form_without_its_field_or_token(site, smtp):
    await site.create_user("alice")
    browser = site.browser()
    missing = await browser.post(RESET, {})
    assert missing.code == 200 and "Enter your email address." in missing.text
    forged = await browser.post(RESET, {"email": "alice@example.com"}, xsrf=False)
    assert forged.code == 403
    await site.settle()
    assert smtp.messages == []


async def test_malformed_unknown_and_foreign_links_get_the_invalid_page(site):
    alice = await site.create_user("alice")
    bob = await site.create_user("bob")
    tokens = ResetTokens(site.app.settings["cookie_secret"])
    bobs = tokens.make(bob)
    other_secret = ResetTokens("another-secret").make(alice)
    for path in [f"{RESET}zzz/{bobs}/", f"{RESET}{'0' * 24}/{bobs}/",
                 f"{RESET}{alice.id}/{bobs}/", f"{RESET}{alice.id}/{other_secret}/",
                 f"{RESET}{alice.id}/nonsense/", f"{RESET}{alice.id}/{'9' * 5000}-x/",
                 f"{RESET}{alice.id}/%E2%98%83-{'a' * 32}/",
                 f"{RESET}{alice.id}/{tokens.make(alice)[:-1]}/"]:
        page = await site.browser().get(path)
        assert page.code == 400 and INVALID in page.text, (path[:80], page.code)
        assert page.set_cookie_line("bastion_reset") is None or \
            "bastion_reset=;" in page.set_cookie_line("bastion_reset").replace('""', "")
    assert (await site.browser().get(f"{RESET}{bob.id}/{bobs}/")).code == 302   # bob's works


async def test_the_set_password_page_needs_its_own_cookie(site):
    alice = await site.create_user("alice")
    bob = await site.create_user("bob")
    tokens = ResetTokens(site.app.settings["cookie_secret"])
    alice_page = f"{RESET}{alice.id}/set-password/"
    assert (await site.browser().get(alice_page)).code == 400             # no cookie at all
    forged = site.browser(cookies={"bastion_reset": f"{alice.id}:{tokens.make(alice)}"})
    assert (await forged.get(alice_page)).code == 400                     # not signed
    with_bobs = site.browser()
    assert (await with_bobs.get(f"{RESET}{bob.id}/{tokens.make(bob)}/")).code == 302
    assert (await with_bobs.get(alice_page)).code == 400                  # bob's, not hers
    posted = await with_bobs.post(alice_page, {"new_password1": NEW_PASSWORD,
                                               "new_password2": NEW_PASSWORD})
    assert posted.code == 400 and INVALID in posted.text
    assert (await site.browser().login("alice", PASSWORD)).code == 303     # unchanged
    assert (await with_bobs.get(f"{RESET}nonsense/set-password/")).code == 400


async def test_set_password_needs_the_xsrf_token(site, smtp):
    await site.create_user("alice")
    await site.ask(site.browser(), "alice@example.com")
    browser = site.browser()
    opened = await follow(browser, (await smtp.wait_for(1))[0].link())
    refused = await browser.post(opened.location, {"new_password1": NEW_PASSWORD,
                                                   "new_password2": NEW_PASSWORD}, xsrf=False)
    assert refused.code == 403
    assert (await site.browser().login("alice", PASSWORD)).code == 303


async def test_a_json_client_gets_a_json_error(site):
    alice = await site.create_user("alice")
    page = await site.browser().get(f"{RESET}{alice.id}/bad/",
                                    headers={"Accept": "application/json"})
    assert page.code == 400 and "invalid" in json.loads(page.text)["error"]


async def test_a_json_client_gets_the_error_in_its_language(site):
    alice = await site.create_user("alice")
    page = await site.browser().get(f"{RESET}{alice.id}/bad/",
                                    headers={"Accept": "application/json",
                                             "Accept-Language": "fr"})
    english = "This password reset link is invalid or has expired."
    assert page.code == 400
    assert json.loads(page.text)["error"] == i18n.locale_for("fr").translate(english) != english
