"""TOTP: enrolment on the account page, the second login step, replay, throttling and
recovery codes — codes computed here with pyotp, over real HTTP, real bcrypt."""
from core.auth.sessions import AUTH_EPOCH_KEY
from support import PASSWORD
from support.pages import inline_scripts
from twofactor_kit import ACCOUNT, VERIFY, code_for

#: every document of the sessions collection but the auth cache's epoch stamp
NOT_THE_EPOCH = {"_id": {"$ne": AUTH_EPOCH_KEY}}
ARTICLES = "/admin/blog/article/"


async def test_enrolment_shows_an_svg_qr_code_and_the_secret_then_ten_codes(site):
    browser = await site.user_browser("alice", {"blog.article": ["read"]})
    page = await browser.get(ACCOUNT + "totp/")
    assert 'src="data:image/svg+xml;base64,' in page.text
    assert inline_scripts(page.text) == []
    # the same secret until it is confirmed (a reload does not change what was scanned)
    again = await browser.get(ACCOUNT + "totp/")
    from twofactor_kit import secret_in
    assert secret_in(page.text) == secret_in(again.text)
    wrong = await browser.post(ACCOUNT + "totp/", {"code": "000000"})
    assert wrong.code == 400 and "That code is not right" in wrong.text
    summary = await site.db["auth_factors"].find({"kind": "totp"}).to_list(None)
    assert [doc["confirmed"] for doc in summary] == [False]
    secret, codes = await site.enrol(browser)
    assert len(set(codes)) == 10
    stored = await site.db["auth_factors"].find({"kind": "recovery"}).to_list(None)
    assert len(stored) == 10
    assert not any(code in str(stored) or code.replace("-", "") in str(stored)
                   for code in codes)                      # hashed, never in clear
    entries = await site.audit(action="twofactor_enrol")
    assert len(entries) == 1 and entries[0]["actor"] == "alice"


async def test_login_asks_for_the_code_and_creates_no_session_before_it(site):
    browser, secret, _codes = await site.enrolled_browser("alice", {"blog.article": ["read"]})
    await site.db["sessions"].delete_many({})
    fresh = site.browser()
    response = await fresh.login("alice", next=ARTICLES)
    assert response.location == VERIFY
    assert "bastion_session" not in fresh.cookies
    assert await site.db["sessions"].count_documents(NOT_THE_EPOCH) == 0
    # the pending step is no session: the admin still sends this browser to log in
    refused = await fresh.get(ARTICLES)
    assert refused.code == 302 and refused.location.startswith("/admin/login/")
    page = await fresh.get(VERIFY)
    assert page.code == 200 and 'name="code"' in page.text
    done = await fresh.post(VERIFY, {"code": code_for(secret, 1)})
    assert done.code == 303 and done.location == ARTICLES
    assert "bastion_session" in fresh.cookies
    assert (await fresh.get(ARTICLES)).code == 200
    login = (await site.audit(action="login"))[-1]
    assert "TOTP" in login["detail"]


async def test_wrong_code_is_refused_and_audited(site):
    _browser, secret, _codes = await site.enrolled_browser("alice", {"blog.article": ["read"]})
    fresh = site.browser()
    await fresh.login("alice")
    wrong = await fresh.post(VERIFY, {"code": "123456" if code_for(secret) != "123456"
                                      else "654321"})
    assert wrong.code == 200 and "That code is not right" in wrong.text
    assert "bastion_session" not in fresh.cookies
    failed = await site.audit(action="login_failed")
    assert failed and "second-factor" in failed[-1]["detail"]
    empty = await fresh.post(VERIFY, {"code": ""})
    assert "Enter the code." in empty.text


async def test_a_code_is_accepted_once(site):
    _browser, secret, _codes = await site.enrolled_browser("alice", {"blog.article": ["read"]})
    code = code_for(secret, 1)            # the enrolment used the current step
    first = site.browser()
    await first.login("alice")
    assert (await first.post(VERIFY, {"code": code})).code == 303
    second = site.browser()
    await second.login("alice")
    replay = await second.post(VERIFY, {"code": code})
    assert replay.code == 200 and "used already" in replay.text
    assert "bastion_session" not in second.cookies
    # the enrolment's own code is no login code either
    third = site.browser()
    await third.login("alice")
    assert (await third.post(VERIFY, {"code": code_for(secret, 0)})).code == 200


async def test_wrong_codes_are_throttled_like_passwords_and_a_password_does_not_reset_them(
        server, tmp_path):
    from support import BLOG_APPS, make_settings
    site = await server(make_settings(tmp_path, BLOG_APPS, LOGIN_THROTTLE_USER_LIMIT=3))
    _browser, secret, _codes = await site.enrolled_browser("alice", {"blog.article": ["read"]})
    wrong = "000000" if code_for(secret, 1) != "000000" else "111111"
    attacker = site.browser()
    await attacker.login("alice")
    for _ in range(2):
        assert (await attacker.post(VERIFY, {"code": wrong})).code == 200
    # typing the (stolen) password again does not clear the code failures
    again = await attacker.login("alice")
    assert again.location == VERIFY
    assert (await attacker.post(VERIFY, {"code": wrong})).code == 200
    blocked = await attacker.post(VERIFY, {"code": code_for(secret, 1)})
    assert blocked.code == 429 and blocked.headers.get("Retry-After")
    assert "Too many failed login attempts" in blocked.text
    assert "bastion_session" not in attacker.cookies


async def test_a_recovery_code_logs_in_once(site):
    _browser, _secret, codes = await site.enrolled_browser("alice", {"blog.article": ["read"]})
    first = site.browser()
    await first.login("alice")
    used = await first.post(VERIFY, {"code": codes[3].upper()})   # case and dashes ignored
    assert used.code == 303
    assert "9 left" in (await site.audit(action="login"))[-1]["detail"]
    second = site.browser()
    await second.login("alice")
    refused = await second.post(VERIFY, {"code": codes[3]})
    assert refused.code == 200 and "bastion_session" not in second.cookies
    assert (await second.post(VERIFY, {"code": codes[4]})).code == 303


async def test_the_step_dies_with_a_password_change_and_when_used(site):
    _browser, secret, _codes = await site.enrolled_browser("alice", {"blog.article": ["read"]})
    fresh = site.browser()
    await fresh.login("alice")
    user = await site.User.get_by_username("alice", db=site.db)
    await user.set_password("another-harbour-lantern", rounds=4)
    await user.save(db=site.db)
    expired = await fresh.post(VERIFY, {"code": code_for(secret, 1)})
    assert expired.code == 200 and "enter your username and password again" in expired.text
    assert "bastion_session" not in fresh.cookies
    # no step at all: GET goes back to the password form
    assert (await site.browser().get(VERIFY)).location == "/admin/login/"


async def test_a_user_without_a_factor_logs_in_with_the_password_only(site):
    browser = await site.user_browser("bob", {"blog.article": ["read"]})
    assert "bastion_session" in browser.cookies
    assert PASSWORD


async def test_disabling_needs_the_password_or_a_code_and_is_audited(site):
    browser, secret, _codes = await site.enrolled_browser("alice", {"blog.article": ["read"]})
    refused = await browser.post(ACCOUNT + "totp/disable/", {"password": "not-my-password"})
    assert refused.code == 400 and "Your password was entered incorrectly." in refused.text
    empty = await browser.post(ACCOUNT + "totp/disable/", {})
    assert empty.code == 400 and "Enter your password or a current code." in empty.text
    assert (await site.db["auth_factors"].count_documents({"kind": "totp"})) == 1
    done = await browser.post(ACCOUNT + "totp/disable/", {"code": code_for(secret, 1)})
    assert done.code == 303 and done.location == ACCOUNT + "?done=totp-off"
    assert await site.db["auth_factors"].count_documents({}) == 0      # codes went too
    assert len(await site.audit(action="twofactor_disable")) == 1
    fresh = site.browser()
    assert (await fresh.login("alice")).location == "/admin/"


async def test_new_recovery_codes_need_the_password_and_void_the_old_ones(site):
    browser, _secret, codes = await site.enrolled_browser("alice", {"blog.article": ["read"]})
    refused = await browser.post(ACCOUNT + "recovery-codes/", {"password": "wrong-password-x"})
    assert refused.code == 400
    made = await browser.post(ACCOUNT + "recovery-codes/", {"password": PASSWORD})
    from twofactor_kit import recovery_codes_in
    new = recovery_codes_in(made.text)
    assert made.code == 200 and len(new) == 10 and not set(new) & set(codes)
    fresh = site.browser()
    await fresh.login("alice")
    assert (await fresh.post(VERIFY, {"code": codes[0]})).code == 200      # old: void
    assert (await fresh.post(VERIFY, {"code": new[0]})).code == 303
    assert len(await site.audit(action="twofactor_recovery_codes")) == 1
    # a user without a factor has no codes to renew
    other = await site.user_browser("bob", {"blog.article": ["read"]})
    assert (await other.post(ACCOUNT + "recovery-codes/", {"password": PASSWORD})).code == 409
