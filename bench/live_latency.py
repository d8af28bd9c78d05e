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

The figures are only as quiet as the machine: run it with nothing else busy.
"""
import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import statistics
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
import tornado.websocket  # noqa: E402

PASSWORD = "plum-harbour-velvet"
SETTINGS = """\
from settings.test import *  # noqa: F401,F403
LIVE_FEED_INTERVAL = {interval!r}
"""


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


def start_server(env):
    port = free_port()
    process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "runserver",
                                "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


async def socket_for(port, cookies):
    request = tornado.httpclient.HTTPRequest(
        f"ws://127.0.0.1:{port}/admin/live", headers={
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            "Origin": f"http://127.0.0.1:{port}"})
    connection = await tornado.websocket.websocket_connect(request)
    await connection.read_message()                                     # hello
    await connection.write_message(json.dumps({"type": "subscribe", "model": "blog.article"}))
    await connection.read_message()                                     # subscribed
    return connection


async def wait_for(connection, label, started):
    while True:
        message = json.loads(await connection.read_message())
        if message.get("type") == "event" and message.get("label") == label:
            return time.perf_counter() - started


def describe(name, values):
    values = sorted(values)

    def at(share):
        return values[max(0, int(len(values) * share + 0.5) - 1)] * 1000
    return (f"{name:<42} p50 {statistics.median(values) * 1000:6.0f} ms   "
            f"p90 {at(0.9):6.0f} ms   p99 {at(0.99):6.0f} ms   max {values[-1] * 1000:6.0f} ms")


async def measure(env, writes, sockets, users, processes):
    servers = [start_server(env) for _ in range(processes)]
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
        connections = [await socket_for(ports[i % processes],
                                        browsers[(i // processes) % users].cookies)
                       for i in range(sockets)]
        times = [[] for _ in range(processes)]
        post_times = []
        for number in range(writes):
            await asyncio.sleep(random.uniform(0.05, 0.4))
            label = f"Latency {number}"
            started = time.perf_counter()
            waits = [asyncio.ensure_future(wait_for(c, label, started)) for c in connections]
            response = await browsers[0].fetch("/admin/blog/article/add/", {
                "title": label, "body": "", "category": "", "tags": ""})
            post_times.append(time.perf_counter() - started)
            text = re.sub(r"\s+", " ", (response.body or b"").decode()[:300])
            assert response.code == 303, (response.code, text)
            for i, took in enumerate(await asyncio.wait_for(asyncio.gather(*waits), 30)):
                times[i % processes].append(took)
        for connection in connections:
            connection.close()
        return times, post_times
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
        times, posts = asyncio.run(measure(env, args.writes, args.sockets, args.users,
                                           args.processes))
    backend = args.database_url.split(":", 1)[0] if args.database_url else "embedded"
    print(f"live latency, {args.writes} writes, LIVE_FEED_INTERVAL={args.interval} s, "
          f"{backend} database, {args.processes} runserver processes, {args.sockets} sockets "
          f"of {args.users} user(s)")
    print(describe("admin POST (the write itself)", posts))
    for n, values in enumerate(times):
        where = "the writer's process" if n == 0 else "another process"
        print(describe(f"write -> event, {chr(65 + n)} ({where})", values))
    print(describe("write -> event, every socket", [t for v in times for t in v]))


if __name__ == "__main__":
    main()
