"""Live-update latency: from an admin write to the event on a socket, same and other process.

    python bench/live_latency.py [--writes 40] [--interval 0.1] [--database-url URL]
                                 [--sockets 2] [--users 1] [--processes 2]

Starts ``--processes`` ``manage.py runserver`` processes (A, B, ...) on one
embedded database in a temp folder (or ``--database-url``, e.g. a FerretDB/MongoDB
wire URL), with ``LIVE_FEED_INTERVAL`` = ``--interval``. ``--users`` users (each
may read and write articles) log in on A; ``--sockets`` live sockets, spread
evenly over the processes and the users' sessions, subscribe to ``blog.article``.
Then ``--writes`` articles are added through A's admin form (as the first user),
one at a time at random gaps (so writes land at every phase of the poll), and for
each the time from sending the form to each socket receiving the ``created``
event is taken. Prints p50 / p90 / p99 / max over the sockets of each process,
and the write's own time (the POST) for scale. The fan-out target: ``--sockets
1000 --processes 2``, p99 <= 250 ms.

The sockets are read by a minimal client (an asyncio protocol that parses frames and
stamps each ``created`` event when its bytes arrive), so the client's own cost per
socket stays small next to the server's. Each server also logs, per event, where its
time went (``bastion.live.timing``): from the entry's ``at`` (stamped just before the
commit) to the feed reading it, to the user checks, to the last socket written; the
bench prints p50 / max of each step per process, and the CPU the writing loop took
per socket. It also prints each server's CPU time (user + system, from /proc) per
write over the writes, and the client's: robust figures on a busy machine, where
the latencies are not.

The figures are only as quiet as the machine: run it with nothing else busy.
"""
import argparse
import asyncio
import base64
import json
import os
import random
import re
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tornado.httpclient  # noqa: E402

PASSWORD = "plum-harbour-velvet"
SETTINGS = """\
import logging
from settings.test import *  # noqa: F401,F403
LIVE_FEED_INTERVAL = {interval!r}
logging.getLogger("bastion.live.timing").setLevel(logging.DEBUG)
"""
TIMING = re.compile(r"fan-out \S+: read ([\d.]+) ms after its entry was stamped; \d+ user checks "
                    r"\+([\d.]+) ms; (\d+) sockets written \+([\d.]+) ms \(([\d.]+) ms CPU\)")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(workdir, interval, database_url):
    (Path(workdir) / "pkgs").mkdir()
    (Path(workdir) / "pkgs" / "live_bench_settings.py").write_text(
        SETTINGS.format(interval=interval))
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "COOKIE_SECRET", "BASTION_SETTINGS", "PYTHONPATH")}
    env.update(BASTION_SETTINGS="live_bench_settings", PYTHONPATH=f"{workdir}/pkgs",
               VAR_DIR=f"{workdir}/var", COOKIE_SECRET="live-bench-secret-" + "x" * 32,
               DATABASE_URL=database_url or f"embedded:{workdir}/db/bench.sqlite3",
               PYTHONUNBUFFERED="1")
    return env


def manage(env, *args, input=None):
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env,
                   check=True, capture_output=True, text=True, input=input, timeout=60)


def start_server(env, log_path):
    port = free_port()
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "runserver",
                                    "--port", str(port)], cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("runserver did not start")


class Session:
    """Cookies of one logged-in browser on a server."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}
        self.client = tornado.httpclient.AsyncHTTPClient(force_instance=True)

    async def fetch(self, path, form=None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            form = dict(form, _xsrf=self.cookies.get("_xsrf", ""))
            body = urllib.parse.urlencode(form)
        response = await self.client.fetch(
            f"http://127.0.0.1:{self.port}{path}", method="POST" if form is not None else "GET",
            body=body, headers=headers, follow_redirects=False, raise_error=False)
        for line in response.headers.get_list("Set-Cookie"):
            name, _, rest = line.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response


class LiveSocket(asyncio.Protocol):
    """One live socket, read at the protocol level: each text frame of a ``created`` event
    is stamped (``time.perf_counter``) as its bytes arrive; pings are answered."""

    def __init__(self, arrivals):
        self.arrivals = arrivals          # label -> [arrival times], shared by the sockets
        self.buffer = bytearray()
        self.upgraded = asyncio.get_running_loop().create_future()
        self.messages = asyncio.Queue()   # before the measurement: hello, subscribed
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError("closed before the upgrade"))

    def data_received(self, data):
        now = time.perf_counter()
        self.buffer += data
        if not self.upgraded.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[:end]).split(b"\r\n", 1)[0]
            del self.buffer[:end + 4]
            if b" 101 " not in status:
                self.upgraded.set_exception(ConnectionError(status.decode()))
                return
            self.upgraded.set_result(None)
        while len(self.buffer) >= 2:
            opcode, size, start = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F, 2
            if size == 126:
                if len(self.buffer) < 4:
                    return
                size, start = struct.unpack("!H", self.buffer[2:4])[0], 4
            elif size == 127:
                if len(self.buffer) < 10:
                    return
                size, start = struct.unpack("!Q", self.buffer[2:10])[0], 10
            if len(self.buffer) < start + size:
                return
            payload = bytes(self.buffer[start:start + size])
            del self.buffer[:start + size]
            if opcode == 0x9:
                self.send(payload, opcode=0xA)
            elif opcode == 0x1:
                message = json.loads(payload)
                if message.get("type") == "event":
                    self.arrivals.setdefault(message.get("label"), []).append(now)
                else:
                    self.messages.put_nowait(message)

    def send(self, payload, opcode=0x1):
        """One masked client frame (payloads here are short)."""
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)


async def socket_for(port, cookies, arrivals):
    loop = asyncio.get_running_loop()
    _transport, live = await loop.create_connection(lambda: LiveSocket(arrivals),
                                                    "127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    live.transport.write(
        f"GET /admin/live HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: http://127.0.0.1:{port}\r\nCookie: {cookie}\r\n\r\n".encode())
    await live.upgraded
    assert (await live.messages.get())["type"] == "hello"
    live.send(json.dumps({"type": "subscribe", "model": "blog.article"}).encode())
    assert (await live.messages.get())["type"] == "subscribed"
    return live


async def all_arrived(arrivals, label, count, timeout=30):
    deadline = time.perf_counter() + timeout
    while len(arrivals.get(label, ())) < count:
        if time.perf_counter() > deadline:
            raise SystemExit(f"only {len(arrivals.get(label, ()))} of {count} sockets got "
                             f"{label!r} within {timeout} s")
        await asyncio.sleep(0.005)


def describe(name, values):
    values = sorted(values)

    def at(share):
        return values[max(0, int(len(values) * share + 0.5) - 1)] * 1000
    return (f"{name:<42} p50 {statistics.median(values) * 1000:6.0f} ms   "
            f"p90 {at(0.9):6.0f} ms   p99 {at(0.99):6.0f} ms   max {values[-1] * 1000:6.0f} ms")


async def measure(env, writes, sockets, users, processes, workdir):
    servers = [start_server(env, Path(workdir) / f"server{n}.log") for n in range(processes)]
    ports = [port for _process, port in servers]
    try:
        browsers = []
        for n in range(users):
            browser = Session(ports[0])
            await browser.fetch("/admin/login/")
            response = await browser.fetch("/admin/login/",
                                           {"username": f"bench{n}", "password": PASSWORD})
            assert response.code == 303, response.code
            browsers.append(browser)
        # socket i: process i % processes, user (i // processes) % users
        arrivals = [{} for _ in range(processes)]     # per process: label -> [times]
        connections = [await socket_for(ports[i % processes],
                                        browsers[(i // processes) % users].cookies,
                                        arrivals[i % processes])
                       for i in range(sockets)]
        counts = [len(connections[n::processes]) for n in range(processes)]
        times = [[] for _ in range(processes)]
        post_times = []
        cpu_before = [cpu_seconds(process.pid) for process, _port in servers]
        client_before = time.process_time()
        for number in range(writes):
            await asyncio.sleep(random.uniform(0.05, 0.4))
            label = f"Latency {number}"
            started = time.perf_counter()
            response = await browsers[0].fetch("/admin/blog/article/add/", {
                "title": label, "body": "", "category": "", "tags": ""})
            post_times.append(time.perf_counter() - started)
            text = re.sub(r"\s+", " ", (response.body or b"").decode()[:300])
            assert response.code == 303, (response.code, text)
            for n in range(processes):
                await all_arrived(arrivals[n], label, counts[n])
                times[n].extend(t - started for t in arrivals[n].pop(label))
        cpu = [(cpu_seconds(process.pid) - before) / writes
               for (process, _port), before in zip(servers, cpu_before)]
        cpu.append((time.process_time() - client_before) / writes)
        for connection in connections:
            connection.transport.close()
        return times, post_times, cpu
    finally:
        for process, _port in servers:
            process.send_signal(signal.SIGTERM)
            process.wait(15)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=40)
    parser.add_argument("--interval", type=float, default=0.1,
                        help="LIVE_FEED_INTERVAL, seconds between audit-log polls")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--sockets", type=int, default=2,
                        help="live sockets in all, spread over the processes")
    parser.add_argument("--users", type=int, default=1,
                        help="users (one session each) the sockets belong to")
    parser.add_argument("--processes", type=int, default=2, help="runserver processes")
    args = parser.parse_args()
    if not 1 <= args.processes <= 8 or args.sockets < args.processes or args.users < 1 \
            or args.writes < 1:
        parser.error("--processes 1..8, --sockets at least one per process, --users and "
                     "--writes at least 1")
    with tempfile.TemporaryDirectory() as workdir:
        env = environment(workdir, args.interval, args.database_url)
        for n in range(args.users):
            manage(env, "createuser", f"bench{n}", "--email", f"bench{n}@example.com",
                   "--password-stdin", "--perm", "blog.article=read,write",
                   input=PASSWORD + "\n")
        times, posts, cpu = asyncio.run(measure(env, args.writes, args.sockets, args.users,
                                                args.processes, workdir))
        steps = [server_steps(Path(workdir) / f"server{n}.log") for n in range(args.processes)]
    backend = args.database_url.split(":", 1)[0] if args.database_url else "embedded"
    print(f"live latency, {args.writes} writes, LIVE_FEED_INTERVAL={args.interval} s, "
          f"{backend} database, {args.processes} runserver processes, {args.sockets} sockets "
          f"of {args.users} user(s)")
    print(describe("admin POST (the write itself)", posts))
    for n, values in enumerate(times):
        where = "the writer's process" if n == 0 else "another process"
        print(describe(f"write -> event, {chr(65 + n)} ({where})", values))
    print(describe("write -> event, every socket", [t for v in times for t in v]))
    servers = ", ".join(f"server {chr(65 + n)} {seconds * 1000:.1f} ms"
                        for n, seconds in enumerate(cpu[:-1]))
    print(f"CPU per write (user + system): {servers}, bench client {cpu[-1] * 1000:.1f} ms")
    print("inside each server, per event (bastion.live.timing):")
    for n, found in enumerate(steps):
        if not found:
            print(f"  {chr(65 + n)}: no timing lines logged")
            continue
        read, checked, written, spent = ([row[i] for row in found] for i in (0, 1, 3, 4))
        sockets = max(row[2] for row in found)
        print(f"  {chr(65 + n)}: {len(found)} events, {sockets} sockets; "
              f"entry stamped -> read p50 {median(read):.0f} / max {max(read):.0f} ms, "
              f"read -> checked p50 {median(checked):.1f} / max {max(checked):.1f} ms, "
              f"checked -> all written p50 {median(written):.1f} / max {max(written):.1f} ms, "
              f"writing CPU {median(spent) * 1000 / max(1, sockets):.0f} us per socket")


def cpu_seconds(pid):
    """User + system CPU seconds of process ``pid`` so far (Linux /proc; nan elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median(values):
    return statistics.median(values)


def server_steps(log_path):
    """``(read, checked, sockets, written)`` of each ``bastion.live.timing`` line of a server."""
    found = []
    for line in Path(log_path).read_text(errors="replace").splitlines():
        match = TIMING.search(line)
        if match:
            read, checked, sockets, written, spent = match.groups()
            found.append((float(read), float(checked), int(sockets), float(written),
                          float(spent)))
    return found


if __name__ == "__main__":
    main()
