"""Logging in and out over HTTP: XSRF, messages, cookies, rotation, next=, last_login."""
import datetime
import hashlib
import re

import pytest

from auth_kit import SESSION_COOKIE, make_settings
from support import PASSWORD
from support.pages import inline_scripts

INVALID = "Please enter a correct username and password"


async def test_login_page_is_an_accessible_form_without_inline_script(site):
    page = await site.browser().get("/admin/login/")
    assert page.code == 200
    html = page.text
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert re.search(r'<input[^>]*autocomplete="username"[^>]*name="username"', html)
    assert re.search(r'<input[^>]*autocomplete="current-password"[^>]*name="password"', html)
    assert 'name="_xsrf"' in html
    assert inline_scripts(html) == []               # CSP is 'self' only: no inline code
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"


async def test_the_empty_fields_are_drawn_once_per_language(site, monkeypatch):
    """A login storm's page views draw the empty form once per language (with the page:
    see below); a refused form (what was typed, its errors) is drawn every time, and
    shows what was typed."""
    from core.auth import handlers
    drawn, real = [], handlers.render_field

    def counting(field, **attrs):
        drawn.append(field.name)
        return real(field, **attrs)

    monkeypatch.setattr(handlers, "render_field", counting)
    pages = [await site.browser().get("/admin/login/") for _ in range(3)]
    assert drawn == ["username", "password"]

    def fields(page):
        return re.findall(r'<div class="field.*?</div>', page.text, re.S)

    assert len(fields(pages[0])) == 2 and fields(pages[0]) == fields(pages[2])
    assert '<label for="id_username">Username</label>' in pages[2].text
    french = await site.browser(remote_headers={"Accept-Language": "fr"}).get("/admin/login/")
    assert "Nom d&#x27;utilisateur</label>" in french.text or \
        "Nom d&#39;utilisateur</label>" in french.text
    assert drawn == ["username", "password"] * 2
    refused = await site.browser().login("someone-typed-this", "wrong-password")
    assert refused.code == 200 and 'value="someone-typed-this"' in refused.text
    assert drawn == ["username", "password"] * 3


async def test_the_blank_page_is_drawn_once_per_language_and_filled_in_per_view(
        site, monkeypatch):
    """A login storm's page views draw the login template once per language; each view
    still gets its own XSRF token (which logs in with that view's cookie) and ``next``."""
    from core.auth.handlers import LoginHandler
    drawn, real = [], LoginHandler.render_string

    def counting(self, name, **kwargs):
        drawn.append(name)
        return real(self, name, **kwargs)

    monkeypatch.setattr(LoginHandler, "render_string", counting)
    await site.create_user("alice")
    browsers = [site.browser() for _ in range(3)]
    path = "/admin/login/?next=/admin/x/%3Fa%3D1%26b%3D%22%3E"
    pages = [await browser.get(path) for browser in browsers]
    assert drawn == ["admin/login.html"]
    assert all(page.code == 200 for page in pages)
    tokens = [re.findall(r'(?:name="_xsrf" value|name="xsrf-token" content)="([^"]+)"',
                         page.text) for page in pages]
    assert all(len(found) == 2 and found[0] == found[1] for found in tokens)
    assert len({found[0] for found in tokens}) == 3                  # masked afresh per view
    assert all('<input type="hidden" name="next" value="/admin/x/?a=1&amp;b=&quot;&gt;">'
               in page.text for page in pages)
    other = await browsers[1].get("/admin/login/?next=/admin/elsewhere/")
    assert 'name="next" value="/admin/elsewhere/"' in other.text and "a=1" not in other.text
    response = await browsers[0].fetch("/admin/login/", method="POST", form={
        "username": "alice", "password": PASSWORD, "_xsrf": tokens[0][0], "next": "/admin/y/"})
    assert (response.code, response.location) == (303, "/admin/y/")
    french = await site.browser(remote_headers={"Accept-Language": "fr"}).get("/admin/login/")
    assert "Nom d&#x27;utilisateur</label>" in french.text
    assert drawn == ["admin/login.html"] * 2
    refused = await site.browser().login("someone-typed-this", "wrong-password")
    assert refused.code == 200 and 'value="someone-typed-this"' in refused.text
    assert drawn == ["admin/login.html"] * 3


async def test_the_kept_page_is_the_page_the_template_draws(site, monkeypatch):
    from core.auth.handlers import LoginHandler
    kept = await site.browser().get("/admin/login/?next=/admin/y/")
    kept_again = await site.browser().get("/admin/login/?next=/admin/y/")
    monkeypatch.setattr(LoginHandler, "cache_blank_page", False)
    drawn = await site.browser().get("/admin/login/?next=/admin/y/")

    def without_tokens(text):
        return re.sub(r'"2\|[0-9a-f]+\|[0-9a-f]+\|[0-9]+"', '"TOKEN"', text)

    assert without_tokens(kept.text) == without_tokens(kept_again.text) == \
        without_tokens(drawn.text)
    assert "TOKEN" in without_tokens(kept.text)


async def test_a_logged_in_users_login_page_is_never_kept_nor_shown_to_others(site):
    await site.create_user("alice")
    alice = site.browser()
    assert (await alice.login("alice")).code == 303
    hers = await alice.get("/admin/login/")
    assert '<span class="username">alice</span>' in hers.text
    anonymous = await site.browser().get("/admin/login/")
    assert "alice" not in anonymous.text and 'class="username"' not in anonymous.text
    assert '<span class="username">alice</span>' in (await alice.get("/admin/login/")).text


async def test_post_without_xsrf_token_is_403_and_logs_nobody_in(site):
    await site.create_user("alice")
    browser = site.browser()
    await browser.get("/admin/login/")              # has the _xsrf cookie, omits the field
    response = await browser.post("/admin/login/", {"username": "alice", "password": PASSWORD},
                                  xsrf=False)
    assert response.code == 403
    assert response.set_cookie_line(SESSION_COOKIE) is None
    assert await site.sessions() == []


async def test_wrong_password_and_unknown_user_get_the_same_answer(site):
    await site.create_user("alice")
    browser = site.browser()
    wrong = await browser.login("alice", "not-her-password-at-all")
    unknown = await browser.login("nobody-by-that-name", "not-her-password-at-all")
    assert wrong.code == unknown.code == 200
    assert INVALID in wrong.text and INVALID in unknown.text

    def strip(text):                     # the xsrf token and the typed username differ
        return re.sub(r'(value|content)="[^"]*"', "", text)

    assert strip(wrong.text) == strip(unknown.text)
    assert browser.session is None
    assert await site.sessions() == []


async def test_inactive_user_with_the_right_password_gets_the_same_message(site):
    await site.create_user("alice", is_active=False)
    response = await site.browser().login("alice")
    assert response.code == 200 and INVALID in response.text
    assert await site.sessions() == []


async def test_unknown_user_costs_a_bcrypt_check_too(site, monkeypatch):
    import bcrypt
    calls = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda pw, h: calls.append(h) or real(pw, h))
    await site.create_user("alice")
    browser = site.browser()
    await browser.login("alice", "not-her-password-at-all")
    await browser.login("nobody-by-that-name", "not-her-password-at-all")
    assert len(calls) == 2
    assert calls[0][:7] == calls[1][:7]             # same algorithm and cost ("$2b$04$")


async def test_empty_fields_are_shown_next_to_the_fields(site):
    response = await site.browser().post("/admin/login/", {"username": "", "password": ""})
    assert response.code == 200
    assert 'id="id_username_errors"' in response.text and "Enter your username." in response.text
    assert 'id="id_password_errors"' in response.text and "Enter your password." in response.text
    assert 'aria-invalid="true"' in response.text


async def test_login_sets_a_signed_httponly_lax_cookie_holding_only_a_hashed_key(site):
    user = await site.create_user("alice")
    browser = site.browser()
    response = await browser.login("alice")
    assert response.code == 303 and response.location == "/admin/"
    line = response.set_cookie_line(SESSION_COOKIE)
    assert "HttpOnly" in line and "SameSite=Lax" in line and "Path=/" in line
    assert "Secure" not in line                      # test settings: plain http
    raw_id = browser.session
    stored = await site.sessions()
    assert len(stored) == 1
    # the cookie is Tornado-signed; its value holds the random id, the db only its hash
    from tornado.web import decode_signed_value
    session_id = decode_signed_value(site.app.settings["cookie_secret"], SESSION_COOKIE,
                                     raw_id).decode()
    assert len(session_id) >= 43                     # token_urlsafe(32): 256 bits
    assert stored[0]["_id"] == hashlib.sha256(session_id.encode()).hexdigest()
    assert stored[0]["user_id"] == user.id
    assert session_id not in repr(stored)
    # and it works: the landing page knows alice
    page = await browser.get("/admin/")
    assert page.code == 200 and "alice" in page.text
    await user.reload(db=site.db)
    assert user.last_login is not None


async def test_a_login_writes_its_session_last_login_and_audit_entry_in_one_call(
        site, monkeypatch):
    """The post's writes go to the database together (one hand-off to the embedded store's
    writer): the browser's old session goes, the new one, ``last_login``, the entry."""
    from core.audit.models import RECORDED_LISTENERS
    user = await site.create_user("alice")
    browser = site.browser()
    assert (await browser.login("alice")).code == 303
    first = await site.sessions()
    calls, real = [], site.db.write_each

    async def spy(writes):
        calls.append([(name, method) for name, method, *_args in writes])
        return await real(writes)

    monkeypatch.setattr(site.db, "write_each", spy)
    users = site.User._meta.collection
    for name in ("sessions", users, "audit_log"):
        for method in ("insert_one", "update_one", "delete_one"):
            monkeypatch.setattr(site.db[name], method, None)      # not called one by one
    heard = []
    RECORDED_LISTENERS.append(heard.append)
    try:
        assert (await browser.login("alice", next="/admin/y/")).location == "/admin/y/"
    finally:
        RECORDED_LISTENERS.remove(heard.append)
    assert calls == [[("sessions", "delete_one"), ("sessions", "insert_one"),
                      (users, "update_one"), ("audit_log", "insert_one")]]
    now = await site.sessions()
    assert len(now) == 1 and now[0]["_id"] != first[0]["_id"]       # rotated
    assert [entry.action for entry in heard] == ["login"] and heard[0].actor == "alice"
    stored = await site.db["audit_log"].find({"action": "login"}).to_list(None)
    assert len(stored) == 2 and stored[-1]["_id"] == heard[0].id
    assert stored[-1]["actor_id"] == user.id and stored[-1]["ip"] == "127.0.0.1"
    await user.reload(db=site.db)
    assert user.last_login == now[0]["created_at"]


async def test_an_audit_entry_that_cannot_be_stored_does_not_stop_the_login(
        site, monkeypatch, caplog):
    from core.audit.models import AuditEntry
    await site.create_user("alice")
    taken = (await site.db["audit_log"].insert_one({"action": "other"})).inserted_id
    real = AuditEntry.document_to_insert

    def clashing(entry):
        document = real(entry)
        document["_id"] = taken
        return document

    monkeypatch.setattr(AuditEntry, "document_to_insert", clashing)
    response = await site.browser().login("alice")
    assert response.code == 303 and response.set_cookie_line(SESSION_COOKIE)
    assert len(await site.sessions()) == 1
    assert await site.db["audit_log"].count_documents({"action": "login"}) == 0
    assert "could not record login in the audit log" in caplog.text


async def test_a_session_that_cannot_be_stored_is_an_error_and_records_no_login(
        site, monkeypatch):
    from core.auth.sessions import SessionStore
    user = await site.create_user("alice")
    await site.db["sessions"].insert_one({"_id": "taken", "user_id": None})
    real = SessionStore.new_document

    def clashing(store, *args, **kwargs):
        raw_id, document = real(store, *args, **kwargs)
        return raw_id, dict(document, _id="taken")

    monkeypatch.setattr(SessionStore, "new_document", clashing)
    response = await site.browser().login("alice")
    assert response.code == 500 and response.set_cookie_line(SESSION_COOKIE) is None
    assert await site.db["audit_log"].count_documents({"action": "login"}) == 0
    await user.reload(db=site.db)
    assert user.last_login is None


async def test_cookies_are_secure_under_production_settings(server, tmp_path):
    settings = make_settings(tmp_path, "settings.production", COOKIE_SECRET="x" * 48)
    site = await server(settings)
    await site.create_user("alice")
    browser = site.browser()
    response = await browser.login("alice")
    assert response.code == 303
    line = response.set_cookie_line(SESSION_COOKIE)
    assert "Secure" in line and "HttpOnly" in line and "SameSite=Lax" in line


async def test_forged_or_unknown_session_cookie_is_anonymous(site):
    await site.create_user("alice")
    browser = site.browser()
    await browser.login("alice")
    browser.cookies[SESSION_COOKIE] = browser.session[:-4] + "AAAA"   # bad signature
    response = await browser.get("/admin/")
    assert response.code == 302 and response.location.startswith("/admin/login/")
    await site.db["sessions"].delete_many({})
    fresh = site.browser()
    await fresh.login("alice")
    await site.db["sessions"].delete_many({})                        # validly signed, unknown id
    response = await fresh.get("/admin/")
    assert response.code == 302


async def test_a_new_session_id_at_every_login_and_the_old_one_is_discarded(site):
    await site.create_user("alice")
    await site.create_user("mallory")
    planted = site.browser()
    await planted.login("mallory")
    fixated = planted.session                    # a cookie an attacker got into the browser
    victim = site.browser(cookies=dict(planted.cookies))
    response = await victim.login("alice")
    assert response.code == 303
    assert victim.session != fixated
    # the cookie presented before login is dead now, for everyone holding it
    replay = site.browser(cookies={SESSION_COOKIE: fixated})
    assert (await replay.get("/admin/")).code == 302
    stored = await site.sessions()
    assert len(stored) == 1
    whoami = await victim.get("/api/demo/whoami")
    assert whoami.json()["username"] == "alice"
    # logging in again rotates again
    before = victim.session
    await victim.login("alice")
    assert victim.session != before
    assert len(await site.sessions()) == 1


async def test_anonymous_html_is_redirected_to_login_with_next(site):
    response = await site.browser().get("/admin/?x=1")
    assert response.code == 302
    assert response.location == "/admin/login/?next=%2Fadmin%2F%3Fx%3D1"


async def test_anonymous_api_gets_401_json(site):
    response = await site.browser().get("/api/demo/whoami")
    assert response.code == 401
    assert response.headers["Content-Type"].startswith("application/json")
    assert "error" in response.json() and "log in" in response.json()["error"].lower()
    as_json = await site.browser().get("/demo/whoami", headers={"Accept": "application/json"})
    assert as_json.code == 401


async def test_login_required_decorator_guards_one_method(site):
    await site.create_user("alice")
    anonymous = site.browser()
    assert (await anonymous.get("/api/demo/mixed")).json() == {"username": None}
    assert (await anonymous.post("/api/demo/mixed")).code == 401
    browser = site.browser()
    await browser.login("alice")
    assert (await browser.post("/api/demo/mixed")).json() == {"posted_by": "alice"}


async def test_logout_is_post_only_and_a_replayed_cookie_fails(site):
    await site.create_user("alice")
    browser = site.browser()
    await browser.login("alice")
    old = browser.session
    assert (await browser.get("/admin/logout/")).code == 405
    assert (await browser.get("/admin/")).code == 200     # GET did not log out
    response = await browser.post("/admin/logout/")
    assert response.code == 303 and response.location == "/admin/login/"
    cleared = response.set_cookie_line(SESSION_COOKIE)
    assert cleared.startswith(f'{SESSION_COOKIE}="";')
    expires = re.search(r"expires=\w+, (\d+ \w+ \d+)", cleared).group(1)
    assert datetime.datetime.strptime(expires, "%d %b %Y") < datetime.datetime.now()
    assert browser.session is None
    assert await site.sessions() == []
    replay = site.browser(cookies={SESSION_COOKIE: old})
    response = await replay.get("/admin/")
    assert response.code == 302 and response.location.startswith("/admin/login/")


async def test_logout_without_xsrf_is_refused(site):
    await site.create_user("alice")
    browser = site.browser()
    await browser.login("alice")
    response = await browser.post("/admin/logout/", xsrf=False)
    assert response.code == 403
    assert len(await site.sessions()) == 1


@pytest.mark.parametrize("target", [
    "//evil.com", "//evil.com/admin/", "/\\evil.com", "/\\/evil.com", "\\\\evil.com",
    "https://evil.com/", "http:evil.com", "javascript:alert(1)", "evil.com",
    "/\t/evil.com", "/\n/evil.com", " //evil.com", "", "admin/",
])
async def test_open_redirects_on_next_are_refused(site, target):
    await site.create_user("alice")
    response = await site.browser().login("alice", next=target)
    assert response.code == 303
    assert response.location == "/admin/"


async def test_a_same_site_next_is_honoured_from_query_or_form(site):
    await site.create_user("alice")
    response = await site.browser().login("alice", next="/admin/demo/widget/?q=a%20b&o=-name")
    assert response.location == "/admin/demo/widget/?q=a%20b&o=-name"
    page = await site.browser().get("/admin/login/?next=/admin/demo/gadget/")
    assert 'name="next" value="/admin/demo/gadget/"' in page.text
    evil = await site.browser().get("/admin/login/?next=//evil.com")
    assert 'name="next" value="/admin/"' in evil.text


def test_safe_next_url_rules():
    from core.auth.handlers import safe_next_url
    assert safe_next_url("/admin/x/?a=1#frag") == "/admin/x/?a=1#frag"
    assert safe_next_url("/") == "/"
    for bad in ("//x", "/\\x", "https://x", "javascript:x", "x", None, 42, "/a\x00b",
                "/" + "a" * 3000):
        assert safe_next_url(bad) == "/admin/"
    assert safe_next_url("//x", default="/home") == "/home"
