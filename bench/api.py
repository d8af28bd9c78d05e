"""API and live benchmark: JSON list/detail req/s at 1 and N processes, live fan-out, socket RSS.

    python bench/api.py [--articles 10000] [--processes 1,4] [--clients 16] [--seconds 5]
                        [--sockets 1000] [--socket-processes 2] [--writes 20]
                        [--database-url URL]

1. Seeds an embedded database in a temp folder (or ``--database-url``) through
   ``manage.py loaddata`` (``--articles`` articles in 20 categories), makes a user
   with ``blog.article: read, write`` and a Bearer token for it (``manage.py
   createtoken``, when ``core/auth/tokens.py`` exists).
2. For each ``--processes`` count: ``manage.py runserver --processes N`` on
   127.0.0.1; a separate client process keeps ``--clients`` keep-alive
   connections busy for ``--seconds`` on ``GET /api/blog/article/`` (the first
   page), then on ``GET /api/blog/article/<id>``. Prints req/s, p50, p99.
3. Live (when ``core/live`` exists): one server process; the user logs in
   (session cookie) and ``--sockets`` WebSocket clients, spread over
   ``--socket-processes`` client processes, open ``/admin/live`` and subscribe
   to ``blog.article``. With them idle, the server's resident memory grows by
   RSS delta / sockets per connection. Then ``--writes`` articles are created
   through the API, one at a time, and every socket's receipt of each
   ``created`` event is timed: from the write's commit (the event's ``at``,
   the audit entry's time stamp, same host clock) and from the moment the
   write's 201 came back. Prints p50 / p99 over every (write, socket) pair.

Everything listens on loopback; every phase is bounded (``--seconds``; the live
phase by a timeout per write). Figures depend on the machine: its CPU count is
printed, and client processes share it with the server.
"""
import argparse
import asyncio
import datetime
import importlib.util
import json
import os
import random
import resource
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

from bench.http_client import Connection, percentile  # noqa: E402

PASSWORD = "plum-harbour-velvet"
USERNAME = "apibench"
CATEGORIES = 20
REQUEST_TIMEOUT = 60.0
UTC = datetime.timezone.utc


def has_module(name):
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def raise_file_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# -- the site --------------------------------------------------------------------------------
def environment(workdir, database_url):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "MONGO_DRIVER", "COOKIE_SECRET", "BASTION_SETTINGS",
                        "PYTHONPATH", "VAR_DIR", "PORT", "DEBUG")}
    env.update(BASTION_SETTINGS="settings.test", VAR_DIR=f"{workdir}/var",
               COOKIE_SECRET="api-bench-secret-" + "x" * 32,
               DATABASE_URL=database_url or f"embedded:{workdir}/db/bench.sqlite3",
               PYTHONUNBUFFERED="1")
    return env


def manage(env, *args, input=None):
    result = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT,
                            env=env, capture_output=True, text=True, input=input, timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def seed_file(path, articles):
    """A dumpdata file: ``CATEGORIES`` categories and ``articles`` articles."""
    from bson import ObjectId

    from core.management.serialization import dump_line
    start = datetime.datetime(2024, 1, 1, tzinfo=UTC)
    categories = [ObjectId() for _ in range(CATEGORIES)]
    with open(path, "w", encoding="utf-8") as out:
        for number, oid in enumerate(categories):
            out.write(dump_line("blog.category", {"_id": oid, "version": 1,
                                                  "name": f"Category {number}",
                                                  "description": ""}))
        for number in range(articles):
            when = start + datetime.timedelta(minutes=number)
            out.write(dump_line("blog.article", {
                "_id": ObjectId(), "version": 1, "title": f"Article {number}",
                "body": "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
                "published": number % 2 == 0, "category": categories[number % CATEGORIES],
                "author": None, "tags": ["bench"], "created": when, "updated": when}))


def start_server(env, processes):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "runserver", "--port", str(port),
         "--processes", str(processes)], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"runserver --processes {processes} exited ({process.returncode})")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                # every worker has its own start-up; give them a moment to finish theirs
                time.sleep(0.5 if processes == 1 else 2.0)
                return process, port
        except OSError:
            time.sleep(0.1)
    stop_server(process)
    raise SystemExit("runserver did not start")


def stop_server(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def http_json(port, path, token=None, method="GET", body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode())
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
        return response.status, json.loads(response.read() or b"null")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


# -- role: HTTP load (a separate process) ----------------------------------------------------
async def http_load(port, path, token, clients, seconds):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    connections = [Connection(port, headers) for _ in range(clients)]
    for connection in connections:                      # warm every connection up
        status, body = await asyncio.wait_for(connection.get(path), REQUEST_TIMEOUT)
        if status != 200:
            raise SystemExit(f"GET {path}: {status} {body[:200]!r}")
    latencies, errors = [], []
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(connection):
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            status, _body = await asyncio.wait_for(connection.get(path), REQUEST_TIMEOUT)
            latencies.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                errors.append(status)

    try:
        await asyncio.gather(*(worker(c) for c in connections))
    finally:
        for connection in connections:
            connection.close()
    elapsed = time.perf_counter() - started
    return {"requests": len(latencies), "seconds": elapsed, "errors": len(errors),
            "p50": statistics.median(latencies), "p99": percentile(latencies, 0.99)}


def run_http_role(args):
    result = asyncio.run(http_load(args.port, args.path, args.token, args.clients,
                                   args.seconds))
    print(json.dumps(result), flush=True)


def measure_http(port, path, token, clients, seconds):
    """Run the load from a separate process; its JSON result."""
    out = subprocess.run(
        [sys.executable, __file__, "--role", "http", "--port", str(port), "--path", path,
         "--token", token or "", "--clients", str(clients), "--seconds", str(seconds)],
        capture_output=True, text=True, timeout=seconds + 120)
    if out.returncode != 0:
        raise SystemExit(f"load client failed: {out.stderr.strip()[-500:]}")
    return json.loads(out.stdout)


# -- role: WebSocket clients (separate processes) --------------------------------------------
async def ws_clients(port, cookie, count, writes, timeout):
    """Open ``count`` sockets; say ``ready``; record each ``created`` event's receipt."""
    import tornado.httpclient
    import tornado.websocket

    async def connect():
        request = tornado.httpclient.HTTPRequest(
            f"ws://127.0.0.1:{port}/admin/live",
            headers={"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"},
            connect_timeout=60, request_timeout=60)
        connection = await tornado.websocket.websocket_connect(request)
        hello = json.loads(await connection.read_message())
        assert hello.get("type") == "hello", hello
        await connection.write_message(json.dumps({"type": "subscribe",
                                                   "model": "blog.article"}))
        reply = json.loads(await connection.read_message())
        assert reply.get("type") == "subscribed", reply
        return connection

    connections = []
    for start in range(0, count, 50):                   # open in waves of 50
        wave = min(count, start + 50) - start
        connections += await asyncio.gather(*(connect() for _ in range(wave)))
    print(f"ready {len(connections)}", flush=True)
    receipts = []                                       # (label, received wall time, at)

    async def listen(connection):
        seen = 0
        while seen < writes:
            message = await connection.read_message()
            now = time.time()
            if message is None:
                return
            data = json.loads(message)
            if data.get("type") == "event" and data.get("event") == "created" and \
                    str(data.get("label", "")).startswith("fanout "):
                at = datetime.datetime.fromisoformat(data["at"]).timestamp()
                receipts.append((data["label"], now, at))
                seen += 1

    try:
        await asyncio.wait_for(asyncio.gather(*(listen(c) for c in connections)), timeout)
    except asyncio.TimeoutError:
        pass
    for connection in connections:
        connection.close()
    print(json.dumps(receipts), flush=True)


def run_ws_role(args):
    raise_file_limit()
    asyncio.run(ws_clients(args.port, args.cookie, args.sockets, args.writes, args.timeout))


def log_in(port):
    """The session cookie header of ``USERNAME`` logged in through the login form."""
    import http.cookiejar
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"http://127.0.0.1:{port}/admin/login/", timeout=30).read()
    xsrf = next(c.value for c in jar if c.name == "_xsrf")
    body = urllib.parse.urlencode({"username": USERNAME, "password": PASSWORD,
                                   "_xsrf": xsrf}).encode()
    opener.open(urllib.request.Request(f"http://127.0.0.1:{port}/admin/login/", data=body),
                timeout=30).read()
    cookies = {c.name: c.value for c in jar}
    if len(cookies) < 2:
        raise SystemExit(f"login failed: cookies {sorted(cookies)}")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def measure_live(env, token, sockets, socket_processes, writes):
    """``(rss per socket KiB, latencies from commit ms, latencies from 201 ms, received)``."""
    process, port = start_server(env, 1)
    workers = []
    try:
        cookie = log_in(port)
        # warm the live path up with one socket, then take the baseline
        warm = subprocess.Popen(
            [sys.executable, __file__, "--role", "ws", "--port", str(port), "--cookie", cookie,
             "--sockets", "1", "--writes", "0", "--timeout", "1"],
            stdout=subprocess.PIPE, text=True)
        warm.communicate(timeout=60)
        time.sleep(1.0)
        baseline = rss_kib(process.pid)
        share = [sockets // socket_processes + (1 if i < sockets % socket_processes else 0)
                 for i in range(socket_processes)]
        for count in share:
            workers.append(subprocess.Popen(
                [sys.executable, __file__, "--role", "ws", "--port", str(port),
                 "--cookie", cookie, "--sockets", str(count), "--writes", str(writes),
                 "--timeout", str(30 + writes * 5)], stdout=subprocess.PIPE, text=True))
        for worker in workers:
            line = worker.stdout.readline()
            if not line.startswith("ready"):
                raise SystemExit(f"a socket client failed to connect: {line!r}")
        time.sleep(2.0)                                   # idle sockets, settled
        loaded = rss_kib(process.pid)
        per_socket = (loaded - baseline) / sockets
        acknowledged = {}
        for number in range(writes):
            time.sleep(random.uniform(0.3, 0.6))
            label = f"fanout {number}"
            status, _ = http_json(port, "/api/blog/article/", token, "POST",
                                  {"title": label, "body": "", "tags": []})
            acknowledged[label] = time.time()
            if status != 201:
                raise SystemExit(f"POST /api/blog/article/: {status}")
        receipts = []
        for worker in workers:
            out, _ = worker.communicate(timeout=60 + writes * 5)
            receipts += json.loads(out.strip().splitlines()[-1])
        from_commit = [(received - at) * 1000 for _label, received, at in receipts]
        from_ack = [(received - acknowledged[label]) * 1000
                    for label, received, _at in receipts if label in acknowledged]
        return per_socket, baseline, loaded, from_commit, from_ack, len(receipts)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
        stop_server(process)


# -- main --------------------------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--processes", default="1,4",
                        help="runserver process counts to measure, comma-separated")
    parser.add_argument("--clients", type=int, default=16,
                        help="keep-alive connections of the HTTP load client")
    parser.add_argument("--seconds", type=float, default=5.0, help="per HTTP measurement")
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--socket-processes", type=int, default=2)
    parser.add_argument("--writes", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    # internal: this script runs its own client processes
    parser.add_argument("--role", choices=["http", "ws"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--cookie", help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=60, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "http":
        return run_http_role(args)
    if args.role == "ws":
        return run_ws_role(args)

    limit = raise_file_limit()
    has_api = has_module("core.api") and has_module("core.auth.tokens")
    has_live = has_module("core.live")
    counts = [int(n) for n in args.processes.split(",") if n.strip()]
    lines = [f"bench/api.py: {os.cpu_count()} CPUs, {args.articles} articles, "
             f"{'embedded' if not args.database_url else args.database_url.split(':')[0]} "
             f"database; HTTP: {args.clients} keep-alive clients in 1 separate process, "
             f"{args.seconds:g} s each"]
    with tempfile.TemporaryDirectory(prefix="bastion-api-bench-") as workdir:
        env = environment(workdir, args.database_url)
        manage(env, "createuser", USERNAME, "--email", f"{USERNAME}@example.com",
               "--password-stdin", "--perm", "blog.article=read,write",
               "--perm", "blog.category=read", input=PASSWORD + "\n")
        seed = Path(workdir) / "seed.jsonl"
        seed_file(seed, args.articles)
        started = time.perf_counter()
        manage(env, "loaddata", str(seed))
        lines.append(f"seeded with manage.py loaddata: {args.articles + CATEGORIES} documents "
                     f"in {time.perf_counter() - started:.1f} s")
        token = None
        if has_api:
            token = manage(env, "createtoken", USERNAME, "--name", "bench").strip() \
                .splitlines()[-1]
        else:
            lines.append("NOTE: core/api or core/auth/tokens.py is missing (A1's JSON API has "
                         "not landed): no JSON API figures")

        if has_api:
            lines.append(f"{'JSON API':<30} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
                         f"{'errors':>7}")
            for processes in counts:
                process, port = start_server(env, processes)
                try:
                    _, page = http_json(port, "/api/blog/article/", token)
                    detail = f"/api/blog/article/{page['results'][0]['id']}"
                    plural = "es" if processes > 1 else ""
                    for name, path in (("list (first page)", "/api/blog/article/"),
                                       ("detail", detail)):
                        result = measure_http(port, path, token, args.clients, args.seconds)
                        lines.append(
                            f"{f'{name}, {processes} process{plural}':<30}"
                            f" {result['requests'] / result['seconds']:>8.0f}"
                            f" {result['p50']:>8.1f} {result['p99']:>8.1f}"
                            f" {result['errors']:>7}")
                finally:
                    stop_server(process)

        if not has_live:
            lines.append("NOTE: core/live is missing (A2's live updates have not landed): no "
                         "fan-out or per-socket memory figures")
        elif not has_api:
            lines.append("NOTE: the live phase writes through the JSON API, which is missing")
        elif limit < args.sockets * 2 + 100:
            lines.append(f"NOTE: the open-file limit ({limit}) is too low for {args.sockets} "
                         "sockets; skipped the live phase")
        else:
            per_socket, baseline, loaded, from_commit, from_ack, received = measure_live(
                env, token, args.sockets, args.socket_processes, args.writes)
            expected = args.sockets * args.writes
            lines.append(f"live: {args.sockets} idle sockets on /admin/live (1 server process, "
                         f"clients in {args.socket_processes} processes): server RSS "
                         f"{baseline / 1024:.1f} -> {loaded / 1024:.1f} MiB, "
                         f"{per_socket:.1f} KiB per connection")
            if from_commit:
                lines.append(f"live fan-out, {args.writes} API writes x {args.sockets} sockets "
                             f"({received}/{expected} events received):")
                lines.append(f"  from the write's commit (event 'at'): p50 "
                             f"{statistics.median(from_commit):.0f} ms, p99 "
                             f"{percentile(from_commit, 0.99):.0f} ms, max "
                             f"{max(from_commit):.0f} ms")
                lines.append(f"  from the write's 201 response:        p50 "
                             f"{statistics.median(from_ack):.0f} ms, p99 "
                             f"{percentile(from_ack, 0.99):.0f} ms")
            else:
                lines.append("live fan-out: no events received")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
