"""Fan-out: an event's permission check runs once per user (the sockets of one session
share it), never once per socket, and still decides for each socket alone."""
from collections import Counter

from core.live.handlers import LiveContext
from live_kit import LIST, make_settings, note_form
from support.live import LiveClient

NOTES = {"notes.note": ["read", "write", "delete"]}


async def test_a_users_sockets_share_one_check_and_each_gets_the_event(server, tmp_path):
    # re-checks far apart: what is counted is the fan-out, not a periodic re-check
    site = await server(make_settings(tmp_path, LIVE_RECHECK_SECONDS=60))
    admin = site.app.admin_site.get("notes.note")
    original = type(admin).has_object_permission
    checks = Counter()

    def own_notes_only(self, handler, action, obj):
        if action == "read" and isinstance(handler, LiveContext):     # a live socket's
            checks[handler.current_user.username, obj.title] += 1
            return obj.owner == handler.current_user.username
        return original(self, handler, action, obj)

    type(admin).has_object_permission = own_notes_only
    try:
        alice = await site.user_browser("alice", NOTES)
        bob = await site.user_browser("bob", NOTES)
        bobs = [await LiveClient.connect(site.port, bob.cookies) for _ in range(3)]
        alices = await LiveClient.connect(site.port, alice.cookies)
        for client in [*bobs, alices]:
            assert (await client.subscribe("notes.note"))["type"] == "subscribed"

        assert (await bob.post(LIST + "add/", note_form(title="Bob's own"))).code == 303
        for client in bobs:                                  # every socket of Bob's gets it
            assert (await client.event(event="created"))["label"] == "Bob's own"
        assert checks["bob", "Bob's own"] == 1               # checked once for three sockets

        assert (await alice.post(LIST + "add/", note_form(title="Alice's secret"))).code == 303
        assert (await alices.event(event="created"))["label"] == "Alice's secret"
        for client in bobs:                                  # who may not read: nothing
            assert await client.silent(0.3) == []
        assert await alices.silent(0.1) == []                # Bob's note never reached Alice
        assert checks["bob", "Alice's secret"] == 1
        for client in [*bobs, alices]:
            client.close()
    finally:
        type(admin).has_object_permission = original


async def test_two_sessions_of_one_user_each_get_the_event(site):
    """Sockets of different sessions (two browsers) are served alike."""
    from support.client import PASSWORD
    await site.create_user("carol", NOTES)
    first, second = site.browser(), site.browser()
    for browser in (first, second):
        assert (await browser.login("carol", PASSWORD)).code == 303
    sockets = [await LiveClient.connect(site.port, b.cookies) for b in (first, second)]
    for client in sockets:
        assert (await client.subscribe("notes.note"))["type"] == "subscribed"
    assert (await first.post(LIST + "add/", note_form(title="Seen twice"))).code == 303
    for client in sockets:
        got = await client.event(event="created")
        assert got["label"] == "Seen twice" and got["mine"] is True
        client.close()


async def test_a_processs_own_write_wakes_its_feed(server, tmp_path):
    """The feed polls every LIVE_FEED_INTERVAL, but a write stored by this process wakes
    it at once: with a 30 s interval the event still comes in well under a second."""
    import time
    site = await server(make_settings(tmp_path, LIVE_FEED_INTERVAL=30))
    writer = await site.user_browser("writer", NOTES)
    client = await LiveClient.connect(site.port, writer.cookies)
    assert (await client.subscribe("notes.note"))["type"] == "subscribed"
    for title in ("First", "Second"):                    # and again after a wake-up
        started = time.monotonic()
        assert (await writer.post(LIST + "add/", note_form(title=title))).code == 303
        assert (await client.event(event="created", timeout=5))["label"] == title
        assert time.monotonic() - started < 3
    client.close()
