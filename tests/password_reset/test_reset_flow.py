"""Password reset end to end, through a real SMTP server: ask, read the mail, follow the
link, set the password, log in; and every way a link must stop working."""
import logging
import time

from core.auth.password_reset import PasswordResetHandler
from core.auth.reset_tokens import ResetTokens
from core.auth.tokens import TokenStore
from reset_kit import DONE, INVALID, RESET, SET_FLASH, follow, path_of
from support import NEW_PASSWORD, PASSWORD
from support.pages import text_of


async def test_forgot_password_end_to_end(site, smtp):
    await site.create_user("alice")
    browser = site.browser()
    login = await browser.get("/admin/login/")
    assert '<a href="/admin/password_reset/">Forgot your password?</a>' in login.text
    form = await browser.get(RESET)
    assert form.code == 200 and 'name="email"' in form.text
    assert form.headers["Referrer-Policy"] == "no-referrer"
    asked = await site.ask(browser, "alice@example.com")
    assert (asked.code, asked.location) == (303, DONE)
    done = await browser.get(DONE)
    assert done.code == 200 and "a link to set a new password is on its way" in done.text

    (mail,) = await smtp.wait_for(1)
    assert mail.rcpt_tos == ["alice@example.com"]
    assert mail.subject == "Reset your Bastion password"
    assert mail.mail_from == "bastion@localhost"
    link = mail.link()
    assert link.startswith(f"http://127.0.0.1:{site.port}/admin/password_reset/")
    assert f'<a href="{link}">' in mail.html and "within 60 minutes" in mail.text

    opened = await follow(browser, link)
    assert opened.code == 302
    token = path_of(link).rstrip("/").rsplit("/", 1)[1]
    assert opened.location.endswith("/set-password/") and token not in opened.location
    cookie = opened.set_cookie_line("bastion_reset")
    assert "HttpOnly" in cookie and "Path=/admin/password_reset/" in cookie
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    page = await browser.get(opened.location)
    assert page.code == 200 and "Set a new password" in page.text and token not in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"

    posted = await browser.post(opened.location, {"new_password1": NEW_PASSWORD,
                                                  "new_password2": NEW_PASSWORD})
    assert (posted.code, posted.location) == (303, "/admin/login/")
    login = await browser.get("/admin/login/")
    assert SET_FLASH in login.text                       # the flash, shown once
    assert SET_FLASH not in (await browser.get("/admin/login/")).text
    assert "bastion_reset" not in browser.cookies

    assert (await site.browser().login("alice", PASSWORD)).code == 200     # old one refused
    assert (await site.browser().login("alice", NEW_PASSWORD)).code == 303


async def test_a_used_link_is_refused_in_any_browser(site, smtp):
    await site.create_user("alice")
    await site.ask(site.browser(), "alice@example.com")
    link = (await smtp.wait_for(1))[0].link()
    first, second = site.browser(), site.browser()
    opened_first = await follow(first, link)
    opened_second = await follow(second, link)              # both opened it in time
    assert opened_first.code == opened_second.code == 302
    assert (await first.post(opened_first.location,
                             {"new_password1": NEW_PASSWORD,
                              "new_password2": NEW_PASSWORD})).code == 303
    late = await second.post(opened_second.location,
                             {"new_password1": "another-fine-passphrase",
                              "new_password2": "another-fine-passphrase"})
    assert late.code == 400 and INVALID in late.text
    replay = await follow(site.browser(), link)
    assert replay.code == 400 and INVALID in replay.text
    assert "Ask for a new link" in replay.text
    assert (await site.browser().login("alice", NEW_PASSWORD)).code == 303


async def test_the_link_dies_when_the_password_changes(site, smtp):
    alice = await site.create_user("alice")
    await site.ask(site.browser(), "alice@example.com")
    link = (await smtp.wait_for(1))[0].link()
    await alice.set_password("changed-elsewhere-meanwhile", rounds=4)
    await alice.save(db=site.db)
    refused = await follow(site.browser(), link)
    assert refused.code == 400 and INVALID in refused.text


async def test_the_link_dies_when_the_user_logs_in(site, smtp):
    await site.create_user("alice")
    await site.ask(site.browser(), "alice@example.com")
    link = (await smtp.wait_for(1))[0].link()
    browser = site.browser()
    opened = await follow(browser, link)                  # opened before the login...
    assert opened.code == 302
    assert (await site.browser().login("alice")).code == 303      # ...remembered it after all
    assert (await follow(site.browser(), link)).code == 400
    posted = await browser.post(opened.location, {"new_password1": NEW_PASSWORD,
                                                  "new_password2": NEW_PASSWORD})
    assert posted.code == 400 and INVALID in posted.text
    assert (await site.browser().login("alice", PASSWORD)).code == 303     # unchanged


async def test_the_link_dies_when_the_account_is_deactivated(site, smtp):
    alice = await site.create_user("alice")
    await site.ask(site.browser(), "alice@example.com")
    link = (await smtp.wait_for(1))[0].link()
    browser = site.browser()
    opened = await follow(browser, link)
    alice.is_active = False
    await alice.save(db=site.db)
    assert (await browser.get(opened.location)).code == 400
    assert (await follow(site.browser(), link)).code == 400


async def test_an_expired_link_is_refused(site):
    alice = await site.create_user("alice")
    tokens = ResetTokens(site.app.settings["cookie_secret"], max_age=3600)
    stale = tokens.make(alice, now=time.time() - 3601)
    fresh = tokens.make(alice, now=time.time() - 3500)
    assert (await site.browser().get(f"{RESET}{alice.id}/{stale}/")).code == 400
    assert (await site.browser().get(f"{RESET}{alice.id}/{fresh}/")).code == 302
    future = tokens.make(alice, now=time.time() + 600)
    assert (await site.browser().get(f"{RESET}{alice.id}/{future}/")).code == 400


async def test_the_lifetime_follows_the_setting(server, reset_settings, smtp):
    reset_settings.PASSWORD_RESET_SECONDS = 120
    site = await server(reset_settings)
    alice = await site.create_user("alice")
    await site.ask(site.browser(), "alice@example.com")
    assert "within 2 minutes" in (await smtp.wait_for(1))[0].text
    tokens = ResetTokens(site.app.settings["cookie_secret"], max_age=3600)
    older = tokens.make(alice, now=time.time() - 300)       # fine for an hour, not for 2 min
    assert (await site.browser().get(f"{RESET}{alice.id}/{older}/")).code == 400


async def test_unknown_inactive_and_passwordless_addresses_look_the_same(site, smtp):
    await site.create_user("alice")
    await site.create_user("idle", is_active=False)
    await site.create_user("nopass", password=None)
    answers = {}
    for address in ("alice@example.com", "nobody@example.com", "idle@example.com",
                    "nopass@example.com"):
        browser = site.browser()
        await browser.get(RESET)
        asked = await site.ask(browser, address)
        done = await browser.get(asked.location)
        answers[address] = (asked.code, asked.location, sorted(asked.headers.keys()),
                            asked.text, done.code, text_of(done.text))
    await site.settle()
    assert len(set(map(repr, answers.values()))) == 1, answers
    assert [m.rcpt_tos for m in smtp.messages] == [["alice@example.com"]]


async def test_the_mail_goes_to_the_stored_address_not_the_typed_one(site, smtp):
    await site.create_user("alice", email="alice@example.com")
    await site.ask(site.browser(), "ALICE@EXAMPLE.COM")
    await site.ask(site.browser(), "\u0430lice@example.com")         # a Cyrillic "а"
    got = await smtp.wait_for(2)
    assert [m.rcpt_tos for m in got] == [["alice@example.com"], ["alice@example.com"]]
    assert all("alice@example.com" == m.message["To"] for m in got)


async def test_sessions_and_api_tokens_end(site, smtp):
    alice = await site.create_user("alice")
    elsewhere = site.browser()
    assert (await elsewhere.login("alice")).code == 303
    raw, _ = await TokenStore(site.db).create(alice.id, name="laptop")
    auth = {"Authorization": f"Bearer {raw}"}
    assert (await site.browser().get("/api/blog/article/", headers=auth)).code in (200, 403)
    await site.ask(site.browser(), "alice@example.com")
    link = (await smtp.wait_for(1))[0].link()
    assert (await site.set_password(site.browser(), link)).code == 303
    assert await site.db["sessions"].count_documents({"user_id": alice.id}) == 0
    assert (await elsewhere.get("/admin/")).code == 302             # logged out there
    assert (await site.browser().get("/api/blog/article/", headers=auth)).code == 401


async def test_the_reset_is_audited_without_the_password(site, smtp):
    alice = await site.create_user("alice")
    assert (await site.browser().login("alice")).code == 303
    await site.ask(site.browser(), "alice@example.com")
    link = (await smtp.wait_for(1))[0].link()
    await site.set_password(site.browser(), link)
    (entry,) = await site.entries("password_reset")
    assert entry["object_id"] == str(alice.id) and entry["model_key"] == "accounts.user"
    assert entry["actor"] == "alice"
    assert "set with a password reset link; 1 session(s) ended" in entry["detail"]
    stored = repr(entry)
    assert NEW_PASSWORD not in stored and (await site.user()).password not in stored


async def test_the_new_password_must_pass_the_validators(site, smtp):
    before = (await site.create_user("alice")).password
    await site.ask(site.browser(), "alice@example.com")
    link = (await smtp.wait_for(1))[0].link()
    browser = site.browser()
    opened = await follow(browser, link)
    for first, second, words in [("12345678901", "12345678901", "entirely numeric"),
                                 ("alice-example", "alice-example", "too similar"),
                                 ("short", "short", "too short"),
                                 (NEW_PASSWORD, NEW_PASSWORD + "x", "do not match"),
                                 ("", "", "Enter a new password.")]:
        page = await browser.post(opened.location, {"new_password1": first,
                                                    "new_password2": second})
        assert page.code == 200 and words in page.text, (first, text_of(page.text)[:600])
    assert (await site.user()).password == before                       # nothing changed
    ok = await browser.post(opened.location, {"new_password1": NEW_PASSWORD,
                                              "new_password2": NEW_PASSWORD})
    assert ok.code == 303                                 # the link still works after them


async def test_site_url_and_the_proxy_scheme_make_the_link(server, reset_settings, smtp,
                                                           monkeypatch, caplog):
    monkeypatch.setattr(PasswordResetHandler, "warned_site_url", False)
    reset_settings.SITE_URL = "https://admin.example.com/bastion"
    site = await server(reset_settings)
    await site.create_user("alice")
    await site.ask(site.browser(), "alice@example.com", headers={"Host": "evil.example"})
    link = (await smtp.wait_for(1))[0].link()
    assert link.startswith("https://admin.example.com/bastion/admin/password_reset/")

    reset_settings.SITE_URL = None
    reset_settings.XHEADERS = True
    proxied = await server(reset_settings)
    await proxied.create_user("bob")
    assert not PasswordResetHandler.warned_site_url          # SITE_URL was set until now
    with caplog.at_level(logging.WARNING, logger="bastion.auth"):
        for _ in range(2):
            await proxied.ask(proxied.browser(), "bob@example.com",
                              headers={"X-Scheme": "https", "Host": "admin.example.org"})
    link = (await smtp.wait_for(2))[1].link()
    assert link.startswith("https://admin.example.org/admin/password_reset/")
    warnings = [r.getMessage() for r in caplog.records if "SITE_URL is not set" in r.getMessage()]
    assert len(warnings) == 1 and "'admin.example.org'" in warnings[0]      # once


async def test_requests_are_throttled_per_address_and_per_client(server, reset_settings, smtp):
    reset_settings.XHEADERS = True                # X-Real-Ip names the client
    site = await server(reset_settings)
    await site.create_user("alice")
    for _ in range(3):
        assert (await site.ask(site.browser(), "alice@example.com")).code == 303
    refused = await site.ask(site.browser(), "ALICE@example.com")     # the same address
    assert refused.code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many password reset requests" in refused.text
    other_client = site.browser(remote_headers={"X-Real-Ip": "203.0.113.9"})
    assert (await site.ask(other_client, "alice@example.com")).code == 429   # any client
    await site.settle()
    assert len(smtp.messages) == 3
    # an unknown address is counted the same way: the throttle tells nothing either
    for _ in range(3):
        assert (await site.ask(site.browser(), "ghost@example.com")).code == 303
    assert (await site.ask(site.browser(), "ghost@example.com")).code == 429


async def test_one_client_asking_for_many_addresses_is_throttled(site):
    browser = site.browser()
    codes = [(await site.ask(browser, f"user{n}@example.com")).code for n in range(21)]
    assert codes == [303] * 20 + [429]
    assert await site.db["password_reset_requests"].count_documents({"scope": "ip"}) == 20
