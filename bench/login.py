"""Login storm benchmark: does /healthz stay fast while bcrypt works?

    python bench/login.py [--concurrency 20] [--logins 60] [--rounds 12] [--slots 0]

Starts the app in a child process (embedded database in a temp folder,
``BCRYPT_ROUNDS`` 12, ``LOGIN_THROTTLE_CONCURRENCY`` = ``--slots``; 0 means the
default, CPUs - 1), creates a user, then probes ``GET /healthz`` one request
after another: first with nothing else going on ("idle"), then while
``--concurrency`` clients in another process log in (login page for the XSRF
cookie, then the form post) until ``--logins`` logins are done ("storm").
Prints the probe's p50/p99 for both phases, the ratio of the p99s (target: at
most 2) and logins per second. ``--slots 6`` shows what an unbounded default
thread pool (min(32, CPUs + 4) threads) would do on a 2-CPU machine.

The figures are only as quiet as the machine: run it with nothing else busy.
"""
import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_client import percentile  # noqa: E402

PASSWORD = "plum-harbour-velvet"
USERNAME = "bench"


def server_settings(workdir, rounds, slots):
    from core.conf import load_settings
    return load_settings(
        "settings.base", environ={}, DATABASE_URL=f"embedded:{workdir}/bench.sqlite3",
        VAR_DIR=Path(workdir) / "var", INSTALLED_APPS=["apps.accounts"],
        BCRYPT_ROUNDS=rounds, COOKIE_SECRET="bench-only-secret-" + "x" * 32,
        LOGIN_THROTTLE_CONCURRENCY=slots, DEBUG=False)


# -- the child: serve the app ------------------------------------------------------------------

def serve(workdir, rounds, slots):
    import tornado.netutil

    from core.app import make_app, serve as serve_app
    from core.conf import settings as global_settings
    settings = global_settings.configure(server_settings(workdir, rounds, slots))
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    port = sockets[0].getsockname()[1]
    app = make_app(settings)

    def ready():
        print(f"READY {port}", flush=True)

    asyncio.run(serve_app(app, sockets, ready=ready))


# -- the parent: set up, probe, storm ----------------------------------------------------------

async def create_user(workdir, rounds):
    from core.app import make_app, shutdown, startup
    from core.auth.passwords import hash_password
    app = make_app(server_settings(workdir, rounds, 0))
    await startup(app)
    User = app.registry.get_model("accounts.user")
    user = await User.create_user(USERNAME, "bench@example.com", None, db=app.db)
    user.password = await hash_password(PASSWORD, rounds=rounds)
    await user.save(db=app.db)
    await shutdown(app)


async def probe_until(client, base, stop, samples):
    while not stop.is_set():
        started = time.perf_counter()
        response = await client.fetch(base + "/healthz", raise_error=False)
        samples.append((time.perf_counter() - started) * 1000)
        if response.code != 200:
            raise SystemExit(f"/healthz answered {response.code}")


async def login_once(client, base):
    page = await client.fetch(base + "/admin/login/")
    xsrf = re.search(r"_xsrf=([^;]+)", page.headers["Set-Cookie"]).group(1)
    body = urllib.parse.urlencode({"username": USERNAME, "password": PASSWORD, "_xsrf": xsrf})
    response = await client.fetch(base + "/admin/login/", method="POST", body=body,
                                  headers={"Cookie": f"_xsrf={xsrf}"},
                                  follow_redirects=False, raise_error=False)
    if response.code != 303:
        raise SystemExit(f"login answered {response.code}: {response.body[:200]!r}")


async def probe_phase(port, seconds=None, until=None):
    """Probe /healthz for ``seconds``, or until the ``until`` process exits."""
    import tornado.httpclient
    base = f"http://127.0.0.1:{port}"
    prober = tornado.httpclient.AsyncHTTPClient(force_instance=True)
    await prober.fetch(base + "/healthz")                  # warm up
    samples, stop = [], asyncio.Event()
    probing = asyncio.create_task(probe_until(prober, base, stop, samples))
    if until is None:
        await asyncio.sleep(seconds)
    else:
        while until.poll() is None:
            await asyncio.sleep(0.05)
    stop.set()
    await probing
    prober.close()
    return samples


async def storm(port, concurrency, logins):
    """Run in its own process (so its clients do not delay the probe): the logins."""
    import tornado.httpclient
    base = f"http://127.0.0.1:{port}"
    clients = tornado.httpclient.AsyncHTTPClient(
        force_instance=True, max_clients=concurrency + 5,
        defaults={"request_timeout": 600, "connect_timeout": 60})
    await login_once(clients, base)                        # warm up
    remaining = list(range(logins))

    async def worker():
        while remaining:
            remaining.pop()
            await login_once(clients, base)

    print("STARTED", flush=True)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    clients.close()
    print(f"DONE {elapsed}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--logins", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--slots", type=int, default=0,
                        help="LOGIN_THROTTLE_CONCURRENCY (0: CPUs - 1)")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--serve", metavar="WORKDIR", help=argparse.SUPPRESS)
    parser.add_argument("--storm", metavar="PORT", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.serve, args.rounds, args.slots)
    if args.storm:
        return asyncio.run(storm(args.storm, args.concurrency, args.logins))

    with tempfile.TemporaryDirectory(prefix="bastion-bench-login-") as workdir:
        asyncio.run(create_user(workdir, args.rounds))
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", workdir, "--rounds", str(args.rounds),
             "--slots", str(args.slots)], stdout=subprocess.PIPE, text=True, cwd=ROOT,
            env=dict(os.environ, PYTHONUNBUFFERED="1"))
        try:
            line = child.stdout.readline()
            if not line.startswith("READY "):
                raise SystemExit(f"server did not start: {line!r}")
            port = int(line.split()[1])
            idle = asyncio.run(probe_phase(port, seconds=args.idle_seconds))
            stormer = subprocess.Popen(
                [sys.executable, __file__, "--storm", str(port), "--concurrency",
                 str(args.concurrency), "--logins", str(args.logins)],
                stdout=subprocess.PIPE, text=True, cwd=ROOT)
            if stormer.stdout.readline().strip() != "STARTED":
                raise SystemExit("the login storm did not start")
            storm_samples = asyncio.run(probe_phase(port, until=stormer))
            done = stormer.stdout.read().split()
            if stormer.returncode != 0 or not done or done[0] != "DONE":
                raise SystemExit("the login storm failed")
            elapsed = float(done[1])
            rate = args.logins / elapsed
        finally:
            child.terminate()
            child.wait(timeout=30)

    slots = args.slots or max(1, (os.cpu_count() or 2) - 1)
    idle_p99, storm_p99 = percentile(idle, 0.99), percentile(storm_samples, 0.99)
    print(f"login storm: {args.logins} logins, {args.concurrency} concurrent, bcrypt rounds "
          f"{args.rounds}, {slots} password-check slot(s), {os.cpu_count()} CPUs")
    print(f"{'/healthz probe':<16}{'n':>7}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for name, samples in (("idle", idle), ("during storm", storm_samples)):
        print(f"{name:<16}{len(samples):>7}{statistics.median(samples):>10.2f}"
              f"{percentile(samples, 0.99):>10.2f}{max(samples):>10.2f}")
    ratio = storm_p99 / idle_p99 if idle_p99 else float("inf")
    print(f"p99 storm / idle: {ratio:.2f} (target <= 2.00: {'met' if ratio <= 2 else 'MISSED'})")
    print(f"logins: {rate:.2f}/s ({args.logins} in {elapsed:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
