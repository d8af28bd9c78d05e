"""The auth cache (core.auth.cache) across two app instances sharing one embedded file.

Each instance opens the file on its own (its own connections and cache), as two
processes would. The window is long (300 s) so that nothing here passes by timing:
a change made through one instance must count on the other's very next request.
"""
import datetime
import re
import sqlite3
from types import SimpleNamespace

import pytest

from auth_kit import SESSION_COOKIE, make_settings
from core.auth.cache import CachedAuth
from core.auth.sessions import (AUTH_EPOCH_KEY, SESSIONS_COLLECTION, SessionStore, hash_session_id,
                                invalidate_auth_cache, utcnow)
from core.db import connect
from core.db.embedded.store import table_name
from core.permissions import Permissions

WIDGETS = "/admin/demo/widget/"


@pytest.fixture
async def pair(server, tmp_path):
    settings = make_settings(tmp_path, DATABASE_URL=f"embedded:{tmp_path}/shared.sqlite3",
                             AUTH_CACHE_SECONDS=300)
    return await server(settings), await server(settings)


async def logged_in_on_both(first, second, username="alice", **extra):
    user = await first.create_user(username, **extra)
    browser = first.browser()
    assert (await browser.login(username)).code == 303
    other = second.browser(cookies={SESSION_COOKIE: browser.session})
    return user, browser, other


async def test_within_the_window_the_user_is_not_read_again(pair):
    """The cache is used: a raw write that bypasses the models (so moves no epoch) is
    not seen until the epoch moves."""
    first, second = pair
    user, _browser, other = await logged_in_on_both(first, second,
                                                    permissions={"demo.widget": ["read"]})
    assert (await other.get(WIDGETS)).code == 200
    await second.User.get_collection(second.db).update_one(
        {"_id": user.id}, {"$set": {"permissions": {}}})
    assert (await other.get(WIDGETS)).code == 200              # cached
    await invalidate_auth_cache(first.db)
    assert (await other.get(WIDGETS)).code == 403              # the epoch moved


async def test_a_grant_saved_on_one_instance_counts_at_once_on_the_other(pair):
    first, second = pair
    user, _browser, other = await logged_in_on_both(first, second)
    assert (await other.get(WIDGETS)).code == 403
    user.permissions = {"demo.widget": ["read"]}
    await user.save(db=first.db)
    assert (await other.get(WIDGETS)).code == 200
    user.permissions = {}
    await user.save(db=first.db)
    assert (await other.get(WIDGETS)).code == 403


async def test_a_role_change_counts_at_once_on_the_other(pair):
    first, second = pair
    Role = first.app.registry.get_model("accounts.role")
    role = await Role.create(name="readers", permissions={"demo.widget": ["read"]},
                             db=first.db)
    _user, _browser, other = await logged_in_on_both(first, second, roles=["readers"])
    assert (await other.get(WIDGETS)).code == 200
    role.permissions = {}
    await role.save(db=first.db)
    assert (await other.get(WIDGETS)).code == 403
    role.permissions = {"demo.widget": ["read"]}
    await role.save(db=first.db)
    assert (await other.get(WIDGETS)).code == 200
    await role.delete(db=first.db)
    assert (await other.get(WIDGETS)).code == 403


async def test_logout_on_one_instance_ends_the_session_on_the_other(pair):
    first, second = pair
    _user, browser, other = await logged_in_on_both(first, second)
    assert (await other.get("/admin/")).code == 200
    assert (await browser.post("/admin/logout/")).code == 303
    response = await other.get("/admin/")
    assert response.code == 302 and response.location.startswith("/admin/login/")


async def test_a_password_change_ends_the_session_on_the_other(pair):
    first, second = pair
    user, _browser, other = await logged_in_on_both(first, second)
    assert (await other.get("/api/demo/whoami")).code == 200
    # what manage.py changepassword and the admin's set-password page do
    await user.set_password("a-new-long-passphrase-9")
    await user.save(db=first.db)
    await user.end_access(first.db)
    assert (await other.get("/api/demo/whoami")).code == 401


async def test_deactivation_on_one_instance_refuses_the_other_at_once(pair):
    first, second = pair
    user, _browser, other = await logged_in_on_both(first, second)
    assert (await other.get("/api/demo/whoami")).code == 200
    user.is_active = False
    await user.save(db=first.db)
    assert (await other.get("/api/demo/whoami")).code == 401


async def test_a_cached_user_is_a_fresh_object_per_request(pair):
    """Entries hold documents: what one request does to its user object is not seen by
    the next (a form that fails validation after binding changes nothing)."""
    first, second = pair
    _user, _browser, other = await logged_in_on_both(first, second)
    whoami = (await other.get("/api/demo/whoami")).json()
    cache = second.app.auth_cache
    entry = next(iter(cache._entries.values()))
    assert entry.user_doc["username"] == "alice"
    first_user = second.app.registry.get_model("accounts.user").from_bson(entry.user_doc)
    first_user.username = "mallory"
    assert entry.user_doc["username"] == "alice"
    assert (await other.get("/api/demo/whoami")).json() == whoami


async def test_the_permissions_are_built_once_per_entry_and_again_after_a_grant(pair):
    """Within the window every request forks the entry's built ``Permissions`` (no
    rebuild); a saved grant moves the epoch, and the next request builds them anew."""
    first, second = pair
    user, _browser, other = await logged_in_on_both(first, second,
                                                    permissions={"demo.widget": ["read"]})
    assert (await other.get(WIDGETS)).code == 200
    entry = next(iter(second.app.auth_cache._entries.values()))
    built = entry.permissions
    assert built is not None and built.has("demo.widget", "read")
    for _ in range(3):
        assert (await other.get(WIDGETS)).code == 200
        assert (await other.get(WIDGETS + "add/")).code == 403
    assert next(iter(second.app.auth_cache._entries.values())) is entry
    assert entry.permissions is built                       # never built again
    user.permissions = {"demo.widget": ["read", "write"]}
    await user.save(db=first.db)
    assert (await other.get(WIDGETS + "add/")).code == 200   # built anew at once
    renewed = next(iter(second.app.auth_cache._entries.values()))
    assert renewed is not entry and renewed.permissions is not built
    assert renewed.permissions.has("demo.widget", "write")


def menu_links(page):
    """The labels of the admin menu's links on ``page`` (a response)."""
    found = re.search(r'<nav class="admin-nav"[^>]*>(.*?)</nav>', page.text, re.S)
    return re.findall(r'<a href="[^"]*"[^>]*>([^<]*)</a>', found.group(1)) if found else []


async def test_the_menu_is_worked_out_once_per_entry_and_follows_a_grant_at_once(pair):
    """The models a user may read (the menu, the index) are kept in the entry's shared
    memo; a grant saved on the other instance shows in the very next page's menu."""
    first, second = pair
    user, _browser, other = await logged_in_on_both(first, second,
                                                    permissions={"demo.widget": ["read"]})
    assert menu_links(await other.get(WIDGETS)) == ["Widgets"]
    page = await other.get(WIDGETS)                           # served by the cache entry
    entry = next(iter(second.app.auth_cache._entries.values()))
    held = entry.shared[("readable admins", second.app.admin_site)]
    assert [[admin.key for admin in admins] for _app, admins in held] == [["demo.widget"]]
    assert menu_links(page) == ["Widgets"]
    user.permissions = {"demo.widget": ["read"], "demo.gadget": ["read"]}
    await user.save(db=first.db)
    assert menu_links(await other.get(WIDGETS)) == ["Widgets", "Gadgets"]
    user.permissions = {"demo.gadget": ["read"]}
    await user.save(db=first.db)
    assert (await other.get(WIDGETS)).code == 403
    assert menu_links(await other.get("/admin/demo/gadget/")) == ["Gadgets"]


def test_a_fork_is_the_request_s_own_and_an_expired_grant_rebuilds():
    """A rule one request adds to its fork reaches no other request; a cached object
    whose grant has expired since it was built is not handed out again."""
    built_at = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)
    ends = (built_at + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%MZ")
    user = {"is_active": True, "permissions": {"demo.widget": ["read", f"write@{ends}"]}}
    permissions = Permissions(user, {}, None, now=built_at)
    assert permissions.has("demo.widget", "write") and not permissions.holds_at()
    entry = CachedAuth(1, dict(user), Permissions(user, {}, None))
    mine, theirs = entry.permissions_for(user, None), entry.permissions_for(user, None)
    assert mine is not theirs and mine.user is user
    mine.add_object_rule("demo.widget", lambda who, action, obj: False)
    assert not mine.has("demo.widget", "read", obj=object())
    assert theirs.has("demo.widget", "read", obj=object())
    assert not theirs.has("demo.widget", "write")               # expired before now
    stale = CachedAuth(1, dict(user), permissions)
    assert stale.permissions.has("demo.widget", "write")        # as built, two hours ago
    fresh = stale.permissions_for(user, None)
    assert not fresh.has("demo.widget", "write") and fresh.has("demo.widget", "read")
    assert stale.permissions is not None and stale.permissions.holds_at()


def test_a_put_lets_expired_entries_go(monkeypatch):
    """Entries past their window leave at the next ``put`` (with what they kept), not
    only when their own session comes back; entries still within it stay."""
    import time

    from core.auth.cache import AuthCache
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    cache = AuthCache(5)
    user = {"username": "alice", "is_active": True}
    cache.put("old", 1, user, Permissions(user, {}, None))
    clock[0] += 3
    cache.put("recent", 1, user, Permissions(user, {}, None))
    clock[0] += 3                                   # "old" is 6 s old, "recent" 3 s
    cache.put("new", 1, user, Permissions(user, {}, None))
    assert list(cache._entries) == ["recent", "new"]


def count_session_reads(site):
    """Wrap ``find`` of ``site``'s sessions collection; returns the list that the filters
    of its session-and-epoch reads (``load_with_epoch``) go to."""
    collection = site.db[SESSIONS_COLLECTION]
    reads, find = [], collection.find

    def counted(flt=None, *args, **kwargs):
        if AUTH_EPOCH_KEY in str(flt):
            reads.append(flt)
        return find(flt, *args, **kwargs)
    collection.find = counted
    return reads


async def test_with_nothing_written_the_session_is_not_read_again(pair):
    first, second = pair
    _user, _browser, other = await logged_in_on_both(first, second)
    reads = count_session_reads(second)
    assert (await other.get("/api/demo/whoami")).code == 200
    assert len(reads) == 1                                  # read once: the file had moved
    assert (await other.get("/api/demo/whoami")).code == 200
    assert (await other.get("/api/demo/whoami")).code == 200
    assert len(reads) == 1                                  # nothing written since
    await first.db["unrelated"].insert_one({"n": 1})        # any write, anywhere
    assert (await other.get("/api/demo/whoami")).code == 200
    assert len(reads) == 2


async def test_a_session_deleted_by_another_connection_counts_at_once(pair, tmp_path):
    """Another process deleting the row (here: a plain SQLite connection to the file)."""
    first, second = pair
    _user, _browser, other = await logged_in_on_both(first, second)
    assert (await other.get("/api/demo/whoami")).code == 200
    assert (await other.get("/api/demo/whoami")).code == 200     # from what was kept
    conn = sqlite3.connect(tmp_path / "shared.sqlite3")
    try:
        conn.execute(f"DELETE FROM {table_name(SESSIONS_COLLECTION)}")
        conn.commit()
    finally:
        conn.close()
    assert (await other.get("/api/demo/whoami")).code == 401


async def test_a_logout_on_the_same_instance_ends_the_kept_session(pair):
    """The session a request ended is not served again from what was kept (the cookie
    replayed after the logout is anonymous)."""
    first, second = pair
    _user, _browser, other = await logged_in_on_both(first, second)
    replay = second.browser(cookies=dict(other.cookies))
    assert (await replay.get("/admin/")).code == 200
    assert (await replay.get("/admin/")).code == 200
    assert (await other.post("/admin/logout/")).code == 303
    response = await replay.get("/admin/")
    assert response.code == 302 and response.location.startswith("/admin/login/")


async def test_no_auth_caching_keeps_no_session_read(server, tmp_path):
    settings = make_settings(tmp_path, DATABASE_URL=f"embedded:{tmp_path}/one.sqlite3",
                             AUTH_CACHE_SECONDS=0)
    site = await server(settings)
    await site.create_user("alice")
    browser = site.browser()
    assert (await browser.login("alice")).code == 303
    reads = count_session_reads(site)
    for _ in range(3):
        assert (await browser.get("/api/demo/whoami")).code == 200
    assert len(reads) == 3 and not site.app.session_store._kept


async def test_a_kept_session_still_expires_and_is_touched(tmp_path):
    """Expiry and the ``last_seen`` touch are judged from the kept times on every load."""
    db = connect(f"embedded:{tmp_path}/store.sqlite3")
    try:
        store = SessionStore(db, idle_seconds=600, max_age_seconds=3600, touch_seconds=60)
        start = utcnow()
        raw_id, _session = await store.create("alice", now=start)
        reads = count_session_reads(SimpleNamespace(db=db))
        assert (await store.load_with_epoch(raw_id, now=start))[0] is not None
        assert (await store.load_with_epoch(raw_id, now=start))[0] is not None
        assert len(reads) == 1
        later = start + datetime.timedelta(seconds=90)      # a touch is due: written
        assert (await store.load_with_epoch(raw_id, now=later))[0].last_seen == later
        stored = await db[SESSIONS_COLLECTION].find_one({"_id": hash_session_id(raw_id)})
        assert stored["last_seen"].replace(tzinfo=datetime.timezone.utc) == later
        assert (await store.load_with_epoch(raw_id, now=later))[0] is not None
        assert len(reads) == 2                              # the touch moved the marker
        idle = later + datetime.timedelta(seconds=601)
        assert (await store.load_with_epoch(raw_id, now=idle))[0] is None
        assert await db[SESSIONS_COLLECTION].find_one({"_id": hash_session_id(raw_id)}) is None
        assert (await store.load_with_epoch(raw_id, now=later))[0] is None
    finally:
        await db.close()


def test_an_expired_grant_empties_what_the_entry_s_requests_shared():
    """What requests kept in the entry's shared memo (the menu's readable admins) was
    decided by its grants: once one has expired, the rebuilt object shares an empty memo,
    and a fork of the old object shares none."""
    built_at = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)
    ends = (built_at + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%MZ")
    user = {"is_active": True, "permissions": {"demo.widget": ["read", f"write@{ends}"]}}
    entry = CachedAuth(1, dict(user), Permissions(user, {}, None, now=built_at))
    served_before = entry.permissions.fork(user)
    entry.shared_with(served_before)["readable admins"] = ["decided by the expired grant"]
    fresh = entry.permissions_for(user, None)
    assert entry.shared_with(fresh) == {}
    assert entry.shared_with(served_before) is None
