"""``/admin/live`` on a real server: who may connect, what each user receives, and when
a socket is closed (logout, heartbeat) or goes quiet (permission revoked)."""
import asyncio
import base64
import contextlib
import os
import re

import pytest

from live_kit import LIST, note_form
from support.live import LiveClient, Refused

NOTES = {"notes.note": ["read", "write", "delete"]}


async def live(site, browser, **kwargs):
    return await LiveClient.connect(site.port, browser.cookies, **kwargs)


async def create_note(browser, **fields):
    response = await browser.post(LIST + "add/", note_form(**fields))
    assert response.code == 303, (response.code, response.text[:300])
    return response


async def note_id(site, title):
    note = await site.model("notes.note").find_one({"title": title}, db=site.db)
    return str(note.id)


@contextlib.contextmanager
def owners_read_only(admin):
    """An object rule on ``admin`` while the block runs: only a note's owner reads it."""
    original = type(admin).has_object_permission

    def own_notes_only(self, handler, action, obj):
        if action == "read":
            return obj.owner == handler.current_user.username
        return original(self, handler, action, obj)

    type(admin).has_object_permission = own_notes_only
    try:
        yield
    finally:
        type(admin).has_object_permission = original


# -- who may connect -------------------------------------------------------------------------
async def test_anonymous_is_refused(site):
    with pytest.raises(Refused) as refused:
        await LiveClient.connect(site.port, cookies=None)
    assert refused.value.code == 403
    anonymous = site.browser()
    await anonymous.get("/admin/login/")              # an xsrf cookie, but no session
    with pytest.raises(Refused) as refused:
        await live(site, anonymous)
    assert refused.value.code == 403


async def test_a_foreign_origin_or_scheme_is_refused(site):
    alice = await site.user_browser("alice", NOTES)
    for origin in ("http://evil.example", f"https://127.0.0.1:{site.port}",
                   f"http://127.0.0.1:{site.port + 1}", "null"):
        with pytest.raises(Refused) as refused:
            await live(site, alice, origin=origin)
        assert refused.value.code == 403, origin
    client = await live(site, alice)                  # the same origin is accepted
    assert client.hello["user"] == "alice"
    client.close()


async def test_subscribing_needs_read_on_the_model(site):
    alice = await site.user_browser("alice", {"notes.category": ["read"]})
    client = await live(site, alice)
    refused = await client.subscribe("notes.note")
    assert refused["type"] == "error" and "may not read" in refused["error"]
    assert (await client.subscribe("notes.category"))["type"] == "subscribed"
    assert (await client.subscribe("nope.nothing"))["type"] == "error"
    client.close()


# -- delivery ---------------------------------------------------------------------------------
async def test_events_reach_readers_only(site):
    writer = await site.user_browser("writer", NOTES)
    reader = await site.user_browser("reader", {"notes.note": ["read"]})
    outsider = await site.user_browser("outsider", {"notes.category": ["read", "write"]})
    readers_socket = await live(site, reader)
    writers_socket = await live(site, writer)
    outsiders_socket = await live(site, outsider)
    assert (await readers_socket.subscribe("notes.note"))["type"] == "subscribed"
    assert (await writers_socket.subscribe("notes.note"))["type"] == "subscribed"
    assert (await outsiders_socket.subscribe("notes.category"))["type"] == "subscribed"

    await create_note(writer, title="Hello live")
    oid = await note_id(site, "Hello live")
    created = await readers_socket.event(event="created", id=oid)
    assert created["model"] == "notes.note" and created["label"] == "Hello live"
    assert created["actor"] == "writer" and created["mine"] is False
    mine = await writers_socket.event(event="created", id=oid)
    assert mine["mine"] is True

    response = await writer.post(f"{LIST}{oid}/change/",
                                 note_form(title="Hello again", _version="1"))
    assert response.code == 303
    updated = await readers_socket.event(event="updated", id=oid)
    assert "title" in updated["fields"] and updated["label"] == "Hello again"

    response = await writer.post(f"{LIST}{oid}/delete/", {})
    assert response.code == 303
    await readers_socket.event(event="deleted", id=oid)
    # the outsider subscribed to another model only: none of it came through
    assert await outsiders_socket.silent(0.3) == []
    for client in (readers_socket, writers_socket, outsiders_socket):
        client.close()


async def test_an_object_subscription_gets_that_object_only(site):
    writer = await site.user_browser("writer", NOTES)
    Note = site.model("notes.note")
    watched = await Note.create(title="Watched", db=site.db)
    client = await live(site, writer)
    reply = await client.subscribe("notes.note", id=str(watched.id))
    assert reply == {"type": "subscribed", "model": "notes.note", "id": str(watched.id)}
    await create_note(writer, title="Unrelated")
    response = await writer.post(f"{LIST}{watched.id}/change/",
                                 note_form(title="Watched, changed", _version="1"))
    assert response.code == 303
    got = await client.event(event="updated")
    assert got["id"] == str(watched.id)                 # not the unrelated create first
    missing = await client.subscribe("notes.note", id="0123456789abcdef01234567")
    assert missing["type"] == "error"
    client.close()


async def test_an_object_rule_hides_an_objects_events(site):
    """A rule narrowing ``read`` (only owners read their own notes) filters the feed."""
    from core.admin.options import ModelAdmin
    admin = site.app.admin_site.get("notes.note")
    with owners_read_only(admin):
        assert type(admin).has_object_permission is not ModelAdmin.has_object_permission
        alice = await site.user_browser("alice", NOTES)
        bob = await site.user_browser("bob", NOTES)
        bobs_socket = await live(site, bob)
        assert (await bobs_socket.subscribe("notes.note"))["type"] == "subscribed"
        await create_note(alice, title="Alice's secret")
        await create_note(bob, title="Bob's own")
        got = await bobs_socket.event(event="created")
        assert got["label"] == "Bob's own"            # Alice's came first and was held back
        assert await bobs_socket.silent(0.3) == []
        # deleting Alice's note: Bob never could read it, so he hears nothing of it
        alices = await note_id(site, "Alice's secret")
        assert (await alice.post(f"{LIST}{alices}/delete/", {})).code == 303
        bobs = await note_id(site, "Bob's own")
        assert (await bob.post(f"{LIST}{bobs}/delete/", {})).code == 303
        gone = await bobs_socket.event(event="deleted")
        assert gone["id"] == bobs
        bobs_socket.close()


# -- sessions and permissions change while the socket is open ----------------------------------
async def test_logout_closes_the_socket(site):
    alice = await site.user_browser("alice", NOTES)
    client = await live(site, alice)
    assert (await client.subscribe("notes.note"))["type"] == "subscribed"
    response = await alice.post("/admin/logout/", {})
    assert response.code in (302, 303)
    assert await client.closed(timeout=3) == 4001


async def test_deactivation_closes_the_socket(site):
    alice = await site.user_browser("alice", NOTES)
    client = await live(site, alice)
    User = site.model("accounts.user")
    await User.get_collection(site.db).update_one({"username": "alice"},
                                                  {"$set": {"is_active": False}})
    assert await client.closed(timeout=3) == 4001


async def test_an_idle_session_expires_and_the_socket_does_not_keep_it_alive(server, tmp_path):
    import datetime
    from live_kit import make_settings
    site = await server(make_settings(tmp_path, SESSION_IDLE_SECONDS=120))
    alice = await site.user_browser("alice", NOTES)
    client = await live(site, alice)
    await asyncio.sleep(1.0)                         # several re-checks: still open
    assert client.close_code is None
    # the session was last used 121 s ago (its idle timeout is 120 s)
    idle_since = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=121)
    await site.db["sessions"].update_many({}, {"$set": {"last_seen": idle_since}})
    assert await client.closed(timeout=4) == 4001
    assert (await alice.get(LIST)).code == 302          # and the pages agree: logged out


async def test_a_revoked_permission_stops_delivery(site):
    writer = await site.user_browser("writer", NOTES)
    alice = await site.user_browser("alice", {"notes.note": ["read"]})
    alices = await live(site, alice)
    writers = await live(site, writer)
    for client in (alices, writers):
        assert (await client.subscribe("notes.note"))["type"] == "subscribed"
    await create_note(writer, title="Before")
    await alices.event(event="created", label="Before")
    await writers.event(event="created", label="Before")

    User = site.model("accounts.user")
    await User.get_collection(site.db).update_one({"username": "alice"},
                                                  {"$set": {"permissions": {}}})
    await asyncio.sleep(0.5)                          # > LIVE_RECHECK_SECONDS (0.3)
    await create_note(writer, title="After")
    await writers.event(event="created", label="After")   # the event was fanned out...
    assert await alices.silent(0.5) == []                 # ...but not to Alice
    assert alices.close_code is None                      # still connected, just quiet
    for client in (alices, writers):
        client.close()


# -- heartbeat ----------------------------------------------------------------------------------
async def test_a_client_that_stops_answering_pings_is_closed(server, live_settings):
    site = await server(websocket_ping_interval=0.2, websocket_ping_timeout=0.2)
    alice = await site.user_browser("alice", NOTES)
    # a raw socket: it upgrades, then never reads or answers a ping (a dead client)
    reader, writer = await asyncio.open_connection("127.0.0.1", site.port)
    key = base64.b64encode(os.urandom(16)).decode()
    cookie = "; ".join(f"{k}={v}" for k, v in alice.cookies.items())
    writer.write((f"GET /admin/live HTTP/1.1\r\nHost: 127.0.0.1:{site.port}\r\n"
                  f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:{site.port}\r\n"
                  f"Cookie: {cookie}\r\n\r\n").encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101"), head
    hub = site.app.live
    assert len(hub.connections) == 1
    received = b""
    deadline = asyncio.get_running_loop().time() + 5
    while hub.connections and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    assert not hub.connections                        # the server gave up on it
    # and what it sent was a ping, then a close frame (opcode 0x8)
    try:
        received = await asyncio.wait_for(reader.read(4096), 2)
    except asyncio.TimeoutError:
        pass
    assert b"\x89" in received or b"\x88" in received
    writer.close()


async def test_a_live_client_answers_pings_and_stays_open(server):
    site = await server(websocket_ping_interval=0.2, websocket_ping_timeout=0.2)
    alice = await site.user_browser("alice", NOTES)
    client = await live(site, alice)
    await asyncio.sleep(0.8)                          # four ping rounds
    assert client.close_code is None and len(site.app.live.connections) == 1
    await client.send({"type": "ping"})
    assert await client.next() == {"type": "pong"}
    client.close()


async def test_shutdown_closes_sockets_with_going_away(server):
    site = await server()
    alice = await site.user_browser("alice", NOTES)
    client = await live(site, alice)
    await site.app.live.stop()
    assert await client.closed(timeout=3) == 1001
    assert not site.app.live.feed.running


# -- the pages opt in -----------------------------------------------------------------------------
async def test_list_and_detail_pages_load_live_js_and_say_what_to_follow(site):
    alice = await site.user_browser("alice", NOTES)
    note = await site.model("notes.note").create(title="Shown", db=site.db)
    listing = await alice.get(LIST)
    assert listing.code == 200
    assert 'data-live-model="notes.note" data-live-page="list"' in listing.text
    assert 'id="live-status" role="status" aria-live="polite"' in listing.text
    detail = await alice.get(f"{LIST}{note.id}/")
    assert detail.code == 200
    assert f'data-live-page="detail" data-live-id="{note.id}"' in detail.text
    for page in (listing, detail):
        scripts = re.findall(r"<script([^>]*)>", page.text)
        assert any('src="/static/live.js' in attrs for attrs in scripts)
        assert all("src=" in attrs for attrs in scripts)        # CSP: no inline scripts
    script = await alice.get("/static/live.js")
    assert script.code == 200 and "/admin/live" in script.text


async def test_json_api_writes_are_events_too(site):
    import json
    writer = await site.user_browser("writer", NOTES)
    reader = await site.user_browser("reader", {"notes.note": ["read"]})
    client = await live(site, reader)
    assert (await client.subscribe("notes.note"))["type"] == "subscribed"
    token = await writer.xsrf()
    response = await writer.fetch("/api/notes/note/", method="POST",
                                  body=json.dumps({"title": "From the API"}),
                                  headers={"Content-Type": "application/json",
                                           "X-XSRFToken": token})
    assert response.code == 201, (response.code, response.text[:300])
    got = await client.event(event="created")
    assert got["label"] == "From the API" and got["actor"] == "writer"
    client.close()


async def test_bad_client_messages_get_an_error_or_a_close(site):
    alice = await site.user_browser("alice", NOTES)
    client = await live(site, alice)
    await client.connection.write_message("not json")
    assert (await client.next())["type"] == "error"
    await client.send({"type": "subscribe", "model": {"$gt": ""}})
    assert (await client.next())["type"] == "error"
    await client.send({"type": "subscribe", "model": "notes.note", "ids": "x" * 10})
    assert (await client.next())["type"] == "error"
    await client.connection.write_message("[" + "1," * 9000 + "1]")
    assert await client.closed(timeout=3) == 1009


async def test_deeply_nested_or_odd_messages_get_an_error_and_the_socket_goes_on(site):
    alice = await site.user_browser("alice", NOTES)
    client = await live(site, alice)
    deep = "[" * 5000 + "]" * 5000                   # 10 000 characters, under the size limit
    odd = [deep, '{"type": "subscribe", "model": ' + deep + '}',
           '{"type": ' + "[" * 100 + "]" * 100 + '}',
           '{"type": "subscribe", "ids": ' + "[" * 50 + "]" * 50 + '}',
           '{"type": ["ping"]}', '{"type": null}', '{"type": "x' + "y" * 5000 + '"}',
           '{"type": "subscribe", "model": "notes.note", "id": {"$ne": null}}',
           '"\\ud800"', "1e999999", "NaN"]
    for message in odd:
        await client.connection.write_message(message)
        reply = await client.next()
        assert reply is not None and reply["type"] == "error", (message[:60], reply)
        assert len(reply["error"]) < 200
    assert client.close_code is None
    await client.send({"type": "ping"})               # the same socket still answers
    assert await client.next() == {"type": "pong"}
    assert (await client.subscribe("notes.note"))["type"] == "subscribed"
    other = await live(site, alice)                  # and the process still serves
    assert other.hello["user"] == "alice"
    assert (await alice.get(LIST)).code == 200
    other.close()
    client.close()


@pytest.mark.parametrize("recheck", [60, 0], ids=["fan-out", "own-queue"])
async def test_a_deleted_objects_event_goes_only_to_sockets_that_were_sent_it(server, tmp_path,
                                                                              recheck):
    """Under an object rule, a delete reaches a socket only if that socket was sent the
    object before — whether the hub's fan-out delivers it, or the socket's own queue (a
    re-check due at every event: ``LIVE_RECHECK_SECONDS=0``)."""
    from live_kit import make_settings
    site = await server(make_settings(tmp_path, LIVE_RECHECK_SECONDS=recheck))
    admin = site.app.admin_site.get("notes.note")
    with owners_read_only(admin):
        bob = await site.user_browser("bob", NOTES)
        await create_note(bob, title="Bob's earlier")      # before any socket: never sent
        earlier = await note_id(site, "Bob's earlier")
        bobs_socket = await live(site, bob)
        assert (await bobs_socket.subscribe("notes.note"))["type"] == "subscribed"
        await create_note(bob, title="Bob's own")
        assert (await bobs_socket.event(event="created"))["label"] == "Bob's own"
        bobs = await note_id(site, "Bob's own")
        # Bob may read the earlier note, but this socket was never sent it: no delete
        assert (await bob.post(f"{LIST}{earlier}/delete/", {})).code == 303
        assert (await bob.post(f"{LIST}{bobs}/delete/", {})).code == 303
        gone = await bobs_socket.event(event="deleted")
        assert gone["id"] == bobs                            # not the earlier one first
        assert await bobs_socket.silent(0.3) == []
        bobs_socket.close()
