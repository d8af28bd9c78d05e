"""Passkeys over HTTP: every refusal is clear and changes nothing (the happy path runs in
Chromium with a virtual authenticator: tests/browser/test_passkeys_browser.py)."""
import html
import json
import re

from core import i18n
from core.auth.sessions import utcnow
from core.auth.twofactor import FactorStore
from support import PASSWORD
from twofactor_kit import ACCOUNT, VERIFY

FAKE_PASSKEY = {"credential_id": "AAAA", "public_key": "AAAA", "sign_count": 0,
                "name": "Old key", "created_at": None, "last_used": None}
JSON = {"Accept": "application/json", "Content-Type": "application/json"}


async def give_passkey(site, username):
    user = await site.User.get_by_username(username, db=site.db)
    doc = await FactorStore(site.db).add_passkey(user.id, dict(FAKE_PASSKEY,
                                                               created_at=utcnow()))
    return user, doc


async def post_json(browser, path, body, language=None):
    token = await browser.xsrf()
    headers = dict(JSON, **{"X-XSRFToken": token})
    if language:
        headers["Accept-Language"] = language
    return await browser.fetch(path, method="POST", body=json.dumps(body) if not isinstance(
        body, str) else body, headers=headers)


async def test_login_with_a_passkey_user_asks_for_the_second_step(site):
    await site.create_user("alice", {"blog.article": ["read"]})
    await give_passkey(site, "alice")
    browser = site.browser()
    assert (await browser.login("alice")).location == VERIFY
    page = await browser.get(VERIFY)
    assert 'data-passkey-login="/admin/login/passkey/"' in page.text
    assert "/static/passkeys.js" in page.text and "<script>" not in page.text
    # no options asked yet: nothing to answer
    early = await post_json(browser, "/admin/login/passkey/", {"credential": {}})
    assert early.code == 409
    options = await post_json(browser, "/admin/login/passkey/options/", {})
    assert options.code == 200
    data = options.json()
    assert data["rpId"] == "127.0.0.1" and data["allowCredentials"][0]["id"] == "AAAA"
    wrong = await post_json(browser, "/admin/login/passkey/", {"credential": {
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": {"clientDataJSON": "e30", "authenticatorData": "AAAA",
                     "signature": "AAAA"}}})
    assert wrong.code == 401 and "not accepted" in wrong.json()["error"]
    assert "bastion_session" not in browser.cookies
    failed = await site.db["audit_log"].find({"action": "login_failed"}).to_list(None)
    assert "passkey" in failed[-1]["detail"]
    assert await site.db["login_failures"].count_documents({"scope": "pair"}) == 1
    # the challenge was used: the same answer again has nothing to match
    assert (await post_json(browser, "/admin/login/passkey/", {"credential": {}})).code == 409
    bad_json = await post_json(browser, "/admin/login/passkey/", "{not json")
    assert bad_json.code == 400


async def test_passkey_endpoints_of_the_login_step_need_a_step(site):
    browser = site.browser()
    for path in ("/admin/login/passkey/options/", "/admin/login/passkey/"):
        response = await post_json(browser, path, {})
        assert response.code == 401 and "enter your username and password again" in \
            response.json()["error"]


async def test_registering_refuses_a_missing_challenge_and_a_bad_credential(site):
    browser = await site.user_browser("alice", {"blog.article": ["read"]})
    no_options = await post_json(browser, ACCOUNT + "passkeys/", {"credential": {}})
    assert no_options.code == 409
    options = await post_json(browser, ACCOUNT + "passkeys/options/", {})
    assert options.code == 200 and options.json()["user"]["name"] == "alice"
    bad = await post_json(browser, ACCOUNT + "passkeys/", {"credential": {"id": "x"},
                                                           "name": "k"})
    assert bad.code == 400 and "not a WebAuthn credential" in bad.json()["error"]
    assert await site.db["auth_factors"].count_documents({"kind": "passkey"}) == 0


async def test_removing_a_passkey_needs_the_password_and_only_your_own(site):
    browser = await site.user_browser("alice", {"blog.article": ["read"]})
    _alice, mine = await give_passkey(site, "alice")
    await site.create_user("bob", {})
    _bob, bobs = await give_passkey(site, "bob")
    page = await browser.get(ACCOUNT)
    assert "Old key" in page.text and str(bobs["_id"]) not in page.text
    other = await browser.post(f"{ACCOUNT}passkeys/{bobs['_id']}/delete/",
                               {"password": PASSWORD})
    assert other.code == 404
    refused = await browser.post(f"{ACCOUNT}passkeys/{mine['_id']}/delete/",
                                 {"password": "not-the-password"})
    assert refused.code == 400 and "Your password was entered incorrectly." in refused.text
    assert await site.db["auth_factors"].count_documents({"kind": "passkey"}) == 2
    done = await browser.post(f"{ACCOUNT}passkeys/{mine['_id']}/delete/",
                              {"password": PASSWORD})
    assert done.location == ACCOUNT + "?done=passkey-removed"
    left = await site.db["auth_factors"].find({"kind": "passkey"}).to_list(None)
    assert [doc["_id"] for doc in left] == [bobs["_id"]]
    assert len(await site.audit(action="twofactor_disable")) == 1


async def test_passkey_refusals_are_in_the_users_language(site):
    browser = await site.user_browser("alice", {"blog.article": ["read"]})
    expected = {}
    for language in ("fr", "de"):
        assert (await post_json(browser, ACCOUNT + "passkeys/options/", {})).code == 200
        bad = await post_json(browser, ACCOUNT + "passkeys/", {"credential": "{not json",
                                                               "name": "k"}, language)
        expected[language] = i18n.locale_for(language).translate(
            "The passkey response is not valid JSON.")
        assert expected[language] != "The passkey response is not valid JSON."
        assert bad.code == 400 and bad.json()["error"] == expected[language]
    assert (await post_json(browser, ACCOUNT + "passkeys/options/", {})).code == 200
    english = await post_json(browser, ACCOUNT + "passkeys/", {"credential": "{not json"})
    assert english.json()["error"] == "The passkey response is not valid JSON."
    assert await site.db["auth_factors"].count_documents({"kind": "passkey"}) == 0


async def test_an_unnamed_passkey_is_named_in_the_pages_language(site):
    """Stored without a name (``""``, or "Passkey" as older versions stored it), a
    passkey is "Passkey" in each page's language; a name the user gave is shown as it is."""
    browser = await site.user_browser("amelie", {"blog.article": ["read"]}, language="fr")
    user = await site.User.get_by_username("amelie", db=site.db)
    for name in ("", "Passkey", "Clé USB bleue"):
        await FactorStore(site.db).add_passkey(user.id, dict(
            FAKE_PASSKEY, credential_id=f"id-{len(name)}", name=name, created_at=utcnow()))
    page = await browser.get(ACCOUNT)
    assert page.code == 200
    shown = re.findall(r'<li data-passkey="[0-9a-f]+"><strong>([^<]*)</strong>', page.text)
    french = i18n.locale_for("fr").translate("Passkey")
    assert french != "Passkey"
    assert sorted(html.unescape(name) for name in shown) == sorted(
        [french, french, "Clé USB bleue"])


async def test_registering_answers_the_stored_name_and_the_label_only_in_the_status(
        site, monkeypatch):
    """An unnamed passkey's ``"name"`` is ``""``: not the label a page shows for it,
    which a passkey may also be named by its user."""
    from core.auth.passkeys import RelyingParty

    def verified(_party, _credential, _challenge, name):     # the browser's part, stubbed
        return dict(FAKE_PASSKEY, credential_id=f"id-{name}", name=name, created_at=utcnow())
    monkeypatch.setattr(RelyingParty, "verify_registration", verified)
    browser = await site.user_browser("alice", {"blog.article": ["read"]})
    label = i18n.locale_for("fr").translate("Passkey")
    assert label != "Passkey"
    answers = {}
    for name in ("", label):                 # unnamed, and named as the label reads
        assert (await post_json(browser, ACCOUNT + "passkeys/options/", {})).code == 200
        answer = await post_json(browser, ACCOUNT + "passkeys/",
                                 {"credential": {}, "name": name}, "fr")
        assert answer.code == 200
        answers[name] = answer.json()
    assert answers[""]["name"] == "" and answers[label]["name"] == label
    assert answers[""]["status"] == answers[label]["status"] == i18n.locale_for(
        "fr").translate("The passkey “%(name)s” was registered.") % {"name": label}
    stored = await site.db["auth_factors"].find({"kind": "passkey"}).to_list(None)
    assert sorted(doc["name"] for doc in stored) == sorted(["", label])
