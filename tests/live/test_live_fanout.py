"""Fan-out: an event's permission check runs once per user (the sockets of one session
share it), never once per socket, and still decides for each socket alone."""
import asyncio
import base64
import datetime
import json
import os
import socket
from collections import Counter

from bson import ObjectId

from core.live.feed import LiveEvent
from core.live.frames import text_frame
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


async def stalled_socket(port, cookies):
    """A live socket subscribed to notes that then never reads again (a small receive
    buffer, so what the server writes piles up on its side soon)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    writer.write(
        f"GET /admin/live HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}"
        f"\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:{port}\r\n"
        f"Cookie: {cookie}\r\n\r\n".encode())
    assert b" 101 " in (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")[0]

    async def read_frame():
        header = await reader.readexactly(2)
        return json.loads(await reader.readexactly(header[1] & 0x7F))

    assert (await read_frame())["type"] == "hello"
    payload, mask = json.dumps({"type": "subscribe", "model": "notes.note"}).encode(), b"abcd"
    writer.write(bytes([0x81, 0x80 | len(payload)]) + mask
                 + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
    assert (await read_frame())["type"] == "subscribed"
    return reader, writer


async def test_a_client_that_stops_reading_is_dropped_and_holds_no_one_up(server, tmp_path):
    """A socket whose client stops reading gets its unread frames buffered only up to
    LIVE_SOCKET_BUFFER_BYTES, then its connection is closed; a reading socket of the same
    user gets every event meanwhile."""
    site = await server(make_settings(tmp_path, LIVE_SOCKET_BUFFER_BYTES=64 * 1024,
                                      LIVE_RECHECK_SECONDS=60))
    alice = await site.user_browser("alice", NOTES)
    assert (await alice.post(LIST + "add/", note_form(title="Often changed"))).code == 303
    note = await site.model("notes.note").find_one({"title": "Often changed"}, db=site.db)
    reading = await LiveClient.connect(site.port, alice.cookies)
    assert (await reading.subscribe("notes.note"))["type"] == "subscribed"
    reader, writer = await stalled_socket(site.port, alice.cookies)
    hub = site.app.live
    assert len(hub.by_model["notes.note"]) == 2

    padding = "x" * 16000                   # 300 events of ~16 kB: far past every buffer
    hub.dispatch([LiveEvent.from_entry({
        "_id": ObjectId(), "action": "update", "model_key": "notes.note",
        "object_id": str(note.id), "object_label": f"{n} {padding}", "actor": "bob",
        "at": datetime.datetime.now(datetime.timezone.utc)}) for n in range(300)])
    for n in range(300):                    # the reading socket: all of them, in order
        got = await reading.event(event="updated", timeout=10)
        assert got["label"] == f"{n} {padding}"
    assert len(hub.connections) == 1 and len(hub.by_model["notes.note"]) == 1
    # the stalled client, when it reads at last, finds its connection closed
    unread = await asyncio.wait_for(reader.read(-1), 10)
    assert reader.at_eof() and len(unread) < 16 * 1024 * 1024
    writer.close()
    reading.close()


def test_a_frame_says_its_length_in_the_form_rfc_6455_asks():
    """Short, 16-bit and 64-bit lengths: FIN + text opcode, no mask, then the payload."""
    for size, header in ((125, bytes([0x81, 125])),
                         (126, bytes([0x81, 126, 0, 126])),
                         (70000, bytes([0x81, 127]) + (70000).to_bytes(8, "big"))):
        payload = b"x" * size
        assert text_frame(payload) == header + payload


async def test_the_timing_clocks_are_read_only_while_their_debug_log_is_on(
        site, monkeypatch, caplog):
    """``bastion.live.timing`` off (the default): no event reads the wall clock or the
    monotonic one for it, and the fan-out takes no thread CPU time; on: one DEBUG line."""
    import logging
    import time
    import types

    from core.live import hub
    thread_times = []
    monkeypatch.setattr(hub, "time", types.SimpleNamespace(
        monotonic=time.monotonic, thread_time=lambda: thread_times.append(1) or 0.0))
    writer = await site.user_browser("writer", NOTES)
    client = await LiveClient.connect(site.port, writer.cookies)
    assert (await client.subscribe("notes.note"))["type"] == "subscribed"
    timing = logging.getLogger("bastion.live.timing")
    assert not timing.isEnabledFor(logging.DEBUG)
    quiet = LiveEvent({"_id": 1, "action": "create", "model_key": "notes.note",
                       "object_id": "x"})
    assert (quiet.seen_at, quiet.seen_wall) == (None, None) and \
        quiet.read_delay_ms() != quiet.read_delay_ms()              # nan
    assert (await writer.post(LIST + "add/", note_form(title="Quiet"))).code == 303
    assert (await client.event(event="created"))["label"] == "Quiet"
    assert thread_times == []
    with caplog.at_level(logging.DEBUG, logger="bastion.live.timing"):
        assert (await writer.post(LIST + "add/", note_form(title="Timed"))).code == 303
        assert (await client.event(event="created"))["label"] == "Timed"
        await asyncio.sleep(0.05)
    assert len(thread_times) == 2
    assert [r.getMessage() for r in caplog.records
            if r.name == "bastion.live.timing" and "fan-out" in r.getMessage()]
    client.close()
