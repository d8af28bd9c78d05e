"""Sessions over HTTP and in the store: expiry, last_seen, password change, deactivation."""
import asyncio
import datetime
import re
import time

import pytest

from auth_kit import SESSION_COOKIE, error_for, make_settings
from support import NEW_PASSWORD, PASSWORD
from core.auth.sessions import SessionStore, hash_session_id
from core.db import connect


def ago(**kwargs):
    return datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(**kwargs)


async def logged_in(site, username="alice"):
    browser = site.browser()
    response = await browser.login(username)
    assert response.code == 303, response.text
    return browser


# -- expiry -------------------------------------------------------------------------------------

async def test_idle_session_is_refused_and_deleted(site):
    await site.create_user("alice")
    browser = await logged_in(site)
    assert (await browser.get("/admin/")).code == 200
    await site.db["sessions"].update_many({}, {"$set": {"last_seen": ago(hours=2, seconds=1)}})
    response = await browser.get("/admin/")
    assert response.code == 302 and response.location.startswith("/admin/login/")
    assert await site.sessions() == []


async def test_a_session_idle_for_less_than_the_limit_lives_on(site):
    await site.create_user("alice")
    browser = await logged_in(site)
    await site.db["sessions"].update_many({}, {"$set": {"last_seen": ago(hours=1, minutes=59)}})
    assert (await browser.get("/admin/")).code == 200


async def test_absolute_expiry_ends_even_a_busy_session(site):
    await site.create_user("alice")
    browser = await logged_in(site)
    await site.db["sessions"].update_many(
        {}, {"$set": {"created_at": ago(days=14, seconds=1), "last_seen": ago(seconds=5)}})
    response = await browser.get("/admin/")
    assert response.code == 302
    assert await site.sessions() == []


async def test_settings_set_the_lifetimes(server, tmp_path):
    # the shortest idle timeout allowed: twice the 60 s touch interval
    site = await server(make_settings(tmp_path, SESSION_IDLE_SECONDS=120,
                                      SESSION_MAX_AGE_SECONDS=3600))
    await site.create_user("alice")
    browser = await logged_in(site)
    line = [c for c in (await browser.login("alice")).set_cookies
            if c.startswith(SESSION_COOKIE)][0]
    assert "Max-Age=3600" in line
    stored = (await site.sessions())[0]
    assert 119 <= (stored["expires_at"] - stored["created_at"]).total_seconds() <= 120
    await site.db["sessions"].update_many({}, {"$set": {"last_seen": ago(seconds=121)}})
    assert (await browser.get("/admin/")).code == 302


async def test_last_seen_is_written_at_most_once_a_minute(site):
    await site.create_user("alice")
    browser = await logged_in(site)
    first = (await site.sessions())[0]
    for _ in range(3):
        assert (await browser.get("/admin/")).code == 200
    assert (await site.sessions())[0]["last_seen"] == first["last_seen"]
    await site.db["sessions"].update_many({}, {"$set": {"last_seen": ago(seconds=61)}})
    before = time.time()
    assert (await browser.get("/admin/")).code == 200
    touched = (await site.sessions())[0]
    assert touched["last_seen"].timestamp() >= before - 1
    assert touched["expires_at"] > first["expires_at"]


# -- password change ----------------------------------------------------------------------------

async def test_password_change_ends_other_sessions_and_rotates_this_one(site):
    await site.create_user("alice")
    await site.create_user("bob")
    laptop = await logged_in(site)
    phone = await logged_in(site)
    bob = await logged_in(site, "bob")
    laptop_before = laptop.session
    response = await laptop.post("/admin/password_change/", {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.code == 303 and response.location == "/admin/password_change/?done=1"
    assert laptop.session != laptop_before
    done = await laptop.get(response.location)
    assert done.code == 200 and "Your password was changed" in done.text
    assert (await phone.get("/admin/")).code == 302                 # ended
    replay = site.browser(cookies={SESSION_COOKIE: laptop_before})
    assert (await replay.get("/admin/")).code == 302                # the old id is dead
    assert (await bob.get("/admin/")).code == 200                   # other users untouched
    assert len(await site.sessions()) == 2
    assert (await site.browser().login("alice", PASSWORD)).code == 200   # old password: no
    assert (await site.browser().login("alice", NEW_PASSWORD)).code == 303


@pytest.mark.parametrize("form, field, message", [
    ({"old_password": "wrong-password-here", "new_password1": NEW_PASSWORD,
      "new_password2": NEW_PASSWORD}, "id_old_password", "entered incorrectly"),
    ({"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
      "new_password2": NEW_PASSWORD + "x"}, "id_new_password2", "do not match"),
    ({"old_password": PASSWORD, "new_password1": "password123",
      "new_password2": "password123"}, "id_new_password1", "too common"),
    ({"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
     "id_new_password1", "too short"),
    ({"old_password": PASSWORD, "new_password1": "1234567890123",
      "new_password2": "1234567890123"}, "id_new_password1", "entirely numeric"),
    ({"old_password": "", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
     "id_old_password", "Enter your current password"),
])
async def test_password_change_errors_are_shown_in_place_and_change_nothing(
        site, form, field, message):
    user = await site.create_user("alice")
    browser = await logged_in(site)
    other = await logged_in(site)
    response = await browser.post("/admin/password_change/", form)
    assert response.code == 200
    assert message in error_for(response.text, field)
    inputs = re.findall(r'<input[^>]*type="password"[^>]*>', response.text)
    assert len(inputs) == 3 and all('value=""' in tag for tag in inputs)   # never echoed
    await user.reload(db=site.db)
    assert await user.check_password(PASSWORD)
    assert (await other.get("/admin/")).code == 200                 # nobody was logged out


async def test_password_change_needs_login_and_xsrf(site):
    anonymous = await site.browser().get("/admin/password_change/")
    assert anonymous.code == 302
    assert anonymous.location == "/admin/login/?next=%2Fadmin%2Fpassword_change%2F"
    await site.create_user("alice")
    browser = await logged_in(site)
    page = await browser.get("/admin/password_change/")
    assert page.code == 200 and 'autocomplete="new-password"' in page.text
    response = await browser.post("/admin/password_change/", {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD}, xsrf=False)
    assert response.code == 403


async def test_manage_style_end_sessions_logs_the_user_out(site):
    user = await site.create_user("alice")
    browser = await logged_in(site)
    assert await user.end_sessions(site.db) == 1    # what changepassword / deactivate do
    assert (await browser.get("/admin/")).code == 302


# -- deactivated users ----------------------------------------------------------------------------

async def test_a_deactivated_users_session_is_refused_and_deleted(site):
    user = await site.create_user("alice")
    browser = await logged_in(site)
    assert (await browser.get("/api/demo/whoami")).code == 200
    # saved through the model, as every deactivation is: the auth epoch moves with it, so
    # the user cached for the session a moment ago is not trusted (core.auth.cache)
    user.is_active = False
    await user.save(db=site.db)
    assert (await browser.get("/api/demo/whoami")).code == 401
    assert await site.sessions() == []


async def test_a_deleted_users_session_is_refused(site):
    user = await site.create_user("alice")
    browser = await logged_in(site)
    await user.delete(db=site.db)
    assert (await browser.get("/admin/")).code == 302
    assert await site.sessions() == []


# -- the landing page and permissions ------------------------------------------------------------

async def test_landing_page_lists_only_readable_models(site):
    await site.create_user("alice", permissions={"demo.widget": ["read", "write"],
                                                 "demo.gadget": ["write"]})
    browser = await logged_in(site)
    page = await browser.get("/admin/")
    assert 'data-model="demo.widget"' in page.text
    assert 'data-model="demo.gadget"' not in page.text
    assert "read, write" in page.text
    assert 'action="/admin/logout/"' in page.text and 'name="_xsrf"' in page.text
    whoami = (await browser.get("/api/demo/whoami")).json()
    assert whoami == {"username": "alice", "readable": ["demo.widget"]}


async def test_superuser_sees_every_model_and_a_user_without_grants_sees_none(site):
    await site.create_user("root", is_superuser=True)
    await site.create_user("nobody")
    root = await logged_in(site, "root")
    page = (await root.get("/admin/")).text
    for key in ("accounts.user", "accounts.role", "demo.widget", "demo.gadget"):
        assert f'data-model="{key}"' in page
    nobody = (await (await logged_in(site, "nobody")).get("/admin/")).text
    assert "data-model=" not in nobody and "do not have permission" in nobody


# -- the event loop --------------------------------------------------------------------------------

async def test_the_event_loop_keeps_running_while_bcrypt_works(site):
    from core.auth.passwords import hash_password
    user = await site.create_user("alice")
    user.password = await hash_password(PASSWORD, rounds=13)      # ~0.5 s or more per check
    await user.save(db=site.db)
    gaps = []
    stop = asyncio.Event()

    async def ticker():
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    async def timed_login():
        started = time.perf_counter()
        response = await site.browser().login("alice")
        return response.code, time.perf_counter() - started

    ticking = asyncio.create_task(ticker())
    results = await asyncio.gather(timed_login(), timed_login())
    stop.set()
    await ticking
    assert [code for code, _ in results] == [303, 303]
    shortest = min(duration for _, duration in results)
    assert shortest > 0.2                     # bcrypt really ran at cost 13
    # had a check run on the loop, one tick would have waited the whole check (a gap
    # about as long as the shortest login); scheduling noise on a loaded machine stays
    # well below that
    assert max(gaps) < shortest * 0.8, (max(gaps), shortest)


# -- the store itself -----------------------------------------------------------------------------

@pytest.fixture(params=["memory", "embedded"])
async def store(request, tmp_path):
    db = connect("memory:" if request.param == "memory" else f"embedded:{tmp_path / 's.db'}")
    store = SessionStore(db, idle_seconds=600, max_age_seconds=3600)
    await store.ensure_indexes()
    yield store
    await db.close()


async def test_store_keeps_only_the_hash_and_loads_by_the_id(store):
    raw_id, session = await store.create("user-1")
    assert len(raw_id) >= 43
    assert session.key == hash_session_id(raw_id) != raw_id
    assert (await store.load(raw_id)).user_id == "user-1"
    assert await store.load(session.key) is None          # the stored key is not a cookie
    assert await store.load("") is None and await store.load("x" * 500) is None
    other, _ = await store.create("user-1")
    assert other != raw_id


async def test_store_expiry_rules_and_ttl_index(store):
    info = await store.collection.index_information()
    assert info["expires_at_ttl"]["expireAfterSeconds"] == 0
    raw_id, session = await store.create("u")
    now = session.created_at
    assert session.expires_at == now + datetime.timedelta(seconds=600)
    assert await store.load(raw_id, now=now + datetime.timedelta(seconds=599)) is not None
    # that load touched last_seen (> 60 s): idle counts from there
    later = now + datetime.timedelta(seconds=599 + 599)
    assert await store.load(raw_id, now=later) is not None
    assert await store.load(raw_id, now=now + datetime.timedelta(seconds=3600)) is None
    assert await store.collection.count_documents({}) == 0     # deleted on sight
    raw_id, session = await store.create("u")
    await store.collection.update_one({"_id": session.key},
                                      {"$set": {"expires_at": ago(seconds=1)}})
    assert await store.db.sweep_expired() == 1                 # the TTL cleanup


async def test_store_rotate_and_delete_for_user(store):
    a, session_a = await store.create("u")
    b, _ = await store.create("u")
    c, _ = await store.create("someone-else")
    assert await store.delete_for_user("u", keep=session_a) == 1
    assert await store.load(b) is None and await store.load(a) is not None
    new, rotated = await store.rotate(session_a)
    assert await store.load(a) is None
    assert (await store.load(new)).user_id == "u"
    assert await store.delete(new) and not await store.delete(new)
    assert await store.load(c) is not None


async def test_startup_creates_the_ttl_indexes(site):
    for name in ("sessions", "login_failures"):
        info = await site.db[name].index_information()
        assert info["expires_at_ttl"]["expireAfterSeconds"] == 0
        assert info["expires_at_ttl"]["key"] == [("expires_at", 1)]
    assert "user_id" in await site.db["sessions"].index_information()


async def test_the_cookie_header_is_parsed_once_without_tornado_s_simple_cookie(site, monkeypatch):
    """The session, XSRF and flash cookies come from one plain parse of the ``Cookie``
    header (``BaseHandler.get_cookie``), not from ``request.cookies`` (a ``Morsel`` per
    cookie); a cookie named like a cookie attribute, which ``SimpleCookie`` refuses, and
    a quoted one leave the session cookie readable."""
    import tornado.httputil
    await site.create_user("alice")
    browser = await logged_in(site)
    built = []
    real = tornado.httputil.HTTPServerRequest.cookies
    monkeypatch.setattr(tornado.httputil.HTTPServerRequest, "cookies",
                        property(lambda request: built.append(request) or real.fget(request)))
    assert (await browser.get("/api/demo/whoami")).json()["username"] == "alice"
    assert (await browser.get("/admin/demo/widget/")).code in (200, 403)
    assert built == []
    session = browser.cookies[SESSION_COOKIE]
    odd = site.browser()
    odd.cookies.update({"expires": "1", "quoted": '"a b"', SESSION_COOKIE: session})
    assert (await odd.get("/api/demo/whoami")).json()["username"] == "alice"
    odd.cookies[SESSION_COOKIE] = session[:-2] + ("00" if session[-2:] != "00" else "11")
    assert (await odd.get("/api/demo/whoami")).code == 401        # a forged cookie: nobody
