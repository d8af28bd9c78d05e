"""Login storm benchmark: does /healthz stay fast while bcrypt works?

    python bench/login.py [--concurrency 20] [--logins 60] [--rounds 12] [--slots 0]
                          [--repeat 1] [--roots DIR[@MS],DIR] [--no-cpu] [--slices]
                          [--switch-interval MS]

Starts the app in a child process (embedded database in a temp folder,
``BCRYPT_ROUNDS`` 12, ``LOGIN_THROTTLE_CONCURRENCY`` = ``--slots``; 0 means the
default, CPUs - 1), creates a user, then probes ``GET /healthz`` one request
after another: with nothing else going on ("idle", after a second of warm-up; half
of ``--idle-seconds`` before the storm and half after it, so that a burst of other
work on the machine weighs on both phases alike), and while ``--concurrency``
clients in another process log in (login page for the XSRF cookie, then the form
post, one connection per request as browsers arriving one by one do) until
``--logins`` logins are done ("storm"). Prints the probe's p50/p95/p99 for both
phases, the ratio of the p99s (the target: at most 2) and of the p95s, and logins
per second. ``--slots 6`` shows what an unbounded default thread pool (min(32, CPUs +
4) threads) would do on a 2-CPU machine.

A ratio of two few-millisecond tails moves with whatever else the machine does,
so the bench also measures what holds on a busy machine: after the probed storm it
runs the same storm again without probes and prints the server's CPU time per
login by thread -- the event loop's, the database threads', the rest but bcrypt --
and the storm client's (``--no-cpu`` skips this). ``--slices`` also times every
callback of the server's event loop during both storms (``bench/loop_slices.py``):
a probe waits behind the callback running when it arrives, so what sets its tail is
the longest uninterrupted slices, by step (wall and CPU time), and the thread pools'
work items (their Python parts hold the GIL the loop needs). ``--repeat N`` runs N
rounds and prints every round and the median and range; ``--roots A,B`` runs the
server of each checkout (``git archive COMMIT | tar -x -C DIR``) in turn within each
round (A B A B), with this script's clients, to compare two versions on the same
load; ``DIR@MS`` serves that checkout with ``sys.setswitchinterval(MS / 1000)``
(``--switch-interval`` for all of them).

The storm's clients are a minimal asyncio HTTP client, so that the load generator,
which shares the machine's CPUs with the server, costs little next to the
server's work per login; the probe is Tornado's HTTP client, as it always was.
"""
import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_client import percentile  # noqa: E402
from bench.list_page import stop as stop_child  # noqa: E402

PASSWORD = "plum-harbour-velvet"
USERNAME = "bench"
REQUEST_TIMEOUT = 600


def server_settings(workdir, rounds, slots):
    from core.conf import load_settings
    return load_settings(
        "settings.base", environ={}, DATABASE_URL=f"embedded:{workdir}/bench.sqlite3",
        VAR_DIR=Path(workdir) / "var", INSTALLED_APPS=["apps.accounts"],
        BCRYPT_ROUNDS=rounds, COOKIE_SECRET="bench-only-secret-" + "x" * 32,
        LOGIN_THROTTLE_CONCURRENCY=slots, DEBUG=False)


# -- the child: serve one checkout's app ------------------------------------------------------

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


def thread_cpu():
    """CPU seconds of this process's threads, by group: ``loop`` (the main thread, which
    runs the event loop), ``database`` (``bastion-db-*``), ``bcrypt``, ``other``."""
    groups = {"loop": 0.0, "database": 0.0, "bcrypt": 0.0, "other": 0.0}
    for thread in threading.enumerate():
        try:
            seconds = time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
        except (AttributeError, OSError, TypeError):     # not on this platform
            if thread is threading.main_thread():
                groups["loop"] += time.thread_time()
            continue
        if thread is threading.main_thread():
            group = "loop"
        elif thread.name.startswith("bastion-bcrypt"):
            group = "bcrypt"
        elif thread.name.startswith("bastion-db"):
            group = "database"
        else:
            group = "other"
        groups[group] += seconds
    return groups


def serve(workdir, rounds, slots, root, slices=False, switch_interval=0.0):
    sys.path.insert(0, str(root))         # this checkout's core, settings and apps
    if switch_interval:
        sys.setswitchinterval(switch_interval / 1000)
    import tornado.netutil

    from core.app import make_app, serve as serve_app
    from core.conf import settings as global_settings
    asyncio.run(create_user(workdir, rounds))
    settings = global_settings.configure(server_settings(workdir, rounds, slots))
    if slices:       # SIGUSR2: print the loop's slices since the last SIGUSR2 (and restart)
        from bench.loop_slices import SliceTimer
        timer = SliceTimer(root).install()
        signal.signal(signal.SIGUSR2, lambda signum, frame: print(
            "SLICES " + json.dumps(timer.report()), flush=True))
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    port = sockets[0].getsockname()[1]
    app = make_app(settings)
    if slices:
        timer.time_requests(app)
    # SIGUSR1: print the threads' CPU time (the handler runs on the main thread)
    signal.signal(signal.SIGUSR1,
                  lambda signum, frame: print("CPU " + json.dumps(thread_cpu()), flush=True))

    def ready():
        print(f"READY {port}", flush=True)

    asyncio.run(serve_app(app, sockets, ready=ready))


class Server:
    """One checkout's app in a child process, on a fresh embedded database."""

    def __init__(self, root, workdir, rounds, slots, slices=False, switch_interval=0.0):
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(workdir), "--root", str(root),
             "--rounds", str(rounds), "--slots", str(slots),
             "--switch-interval", str(switch_interval)] + (["--slices"] if slices else []),
            stdout=subprocess.PIPE, text=True, cwd=root,
            env=dict(os.environ, PYTHONUNBUFFERED="1"))
        line = self.process.stdout.readline()
        if not line.startswith("READY "):
            self.stop()
            raise SystemExit(f"server of {root} did not start: {line!r}")
        self.port = int(line.split()[1])

    def cpu(self):
        """The server's thread CPU seconds by group (``thread_cpu``)."""
        self.process.send_signal(signal.SIGUSR1)
        line = self.process.stdout.readline()
        if not line.startswith("CPU "):
            raise SystemExit(f"the server did not report its CPU: {line!r}")
        return json.loads(line[4:])

    def slices(self):
        """The loop's slices since the last call (``bench.loop_slices``; ``--slices``)."""
        self.process.send_signal(signal.SIGUSR2)
        line = self.process.stdout.readline()
        if not line.startswith("SLICES "):
            raise SystemExit(f"the server did not report its slices: {line!r}")
        return json.loads(line[7:])

    def stop(self):
        stop_child(self.process)


# -- the probe ------------------------------------------------------------------------------

async def probe_until(client, base, stop, samples):
    while not stop.is_set():
        started = time.perf_counter()
        response = await client.fetch(base + "/healthz", raise_error=False)
        samples.append((time.perf_counter() - started) * 1000)
        if response.code != 200:
            raise SystemExit(f"/healthz answered {response.code}")


async def probe_phase(port, seconds=None, until=None, warm_up=0.0):
    """Probe /healthz for ``seconds``, or until the ``until`` process exits; the first
    ``warm_up`` seconds of probes are not kept."""
    import tornado.httpclient
    base = f"http://127.0.0.1:{port}"
    prober = tornado.httpclient.AsyncHTTPClient(force_instance=True)
    await prober.fetch(base + "/healthz")
    if warm_up:
        stop = asyncio.Event()
        warming = asyncio.create_task(probe_until(prober, base, stop, []))
        await asyncio.sleep(warm_up)
        stop.set()
        await warming
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


# -- the storm (its own process, so its clients do not delay the probe's) --------------------

async def request(port, method, path, headers=(), body=b""):
    """One HTTP/1.1 request on its own connection: ``(status, head)``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close",
             *headers]
    if body:
        lines += ["Content-Type: application/x-www-form-urlencoded",
                  f"Content-Length: {len(body)}"]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    data = await reader.read()            # the server closes after its answer
    writer.close()
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    if not head.startswith("HTTP/1."):
        raise SystemExit(f"{method} {path}: no HTTP answer: {data[:200]!r}")
    return int(head.split(" ", 2)[1]), head


async def login_once(port):
    status, head = await request(port, "GET", "/admin/login/")
    found = re.search(r"(?im)^set-cookie: _xsrf=([^;\r\n]+)", head)
    if status != 200 or not found:
        raise SystemExit(f"the login page answered {status} without an XSRF cookie")
    xsrf = found.group(1)
    body = urllib.parse.urlencode({"username": USERNAME, "password": PASSWORD, "_xsrf": xsrf})
    status, head = await request(port, "POST", "/admin/login/", [f"Cookie: _xsrf={xsrf}"],
                                 body.encode("ascii"))
    if status != 303:
        raise SystemExit(f"login answered {status}: {head[:200]!r}")


async def storm(port, concurrency, logins):
    await asyncio.wait_for(login_once(port), REQUEST_TIMEOUT)      # warm up
    remaining = list(range(logins))

    async def worker():
        while remaining:
            remaining.pop()
            await asyncio.wait_for(login_once(port), REQUEST_TIMEOUT)

    print("STARTED", flush=True)
    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"DONE {elapsed} {cpu}", flush=True)


def start_storm(port, args):
    stormer = subprocess.Popen(
        [sys.executable, __file__, "--storm", str(port), "--concurrency",
         str(args.concurrency), "--logins", str(args.logins)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT)
    if stormer.stdout.readline().strip() != "STARTED":
        raise SystemExit("the login storm did not start")
    return stormer


def end_storm(stormer):
    """``(seconds, client CPU seconds)`` of a finished storm."""
    done = stormer.stdout.read().split()
    stormer.wait()
    if stormer.returncode != 0 or len(done) != 3 or done[0] != "DONE":
        raise SystemExit("the login storm failed")
    return float(done[1]), float(done[2])


# -- one round of one checkout ----------------------------------------------------------------

def run_round(root, args):
    """One round of the checkout ``root`` (``DIR`` or ``DIR@MS``: with that switch interval)."""
    root, _, interval = root.partition("@")
    switch_interval = float(interval) if interval else args.switch_interval
    result = {}
    with tempfile.TemporaryDirectory(prefix="bastion-bench-login-") as workdir:
        server = Server(root, workdir, args.rounds, args.slots, args.slices,
                        switch_interval)
        try:
            # idle: half before the storm, half after, so that what else the machine does
            # weighs on both phases alike
            result["idle"] = asyncio.run(probe_phase(server.port, seconds=args.idle_seconds / 2,
                                                     warm_up=1.0))
            stormer = start_storm(server.port, args)
            if args.slices:
                server.slices()                                # from here on
            result["storm"] = asyncio.run(probe_phase(server.port, until=stormer))
            if args.slices:
                result["probed_slices"] = server.slices()
            result["seconds"], _client = end_storm(stormer)
            result["idle"] += asyncio.run(probe_phase(server.port, seconds=args.idle_seconds / 2))
            if args.cpu:
                stormer = start_storm(server.port, args)      # after its warm-up login
                before = server.cpu()
                if args.slices:
                    server.slices()                            # from here on
                stormer.wait()
                after = server.cpu()
                if args.slices:
                    result["slices"] = server.slices()
                _seconds, client = end_storm(stormer)
                result["cpu"] = {group: (after[group] - before.get(group, 0.0)) * 1000
                                 / args.logins for group in after}
                result["cpu"]["client"] = client * 1000 / args.logins
        finally:
            server.stop()
    idle_p99, storm_p99 = percentile(result["idle"], 0.99), percentile(result["storm"], 0.99)
    result["ratio"] = storm_p99 / idle_p99 if idle_p99 else float("inf")
    idle_p95 = percentile(result["idle"], 0.95)
    result["ratio95"] = percentile(result["storm"], 0.95) / idle_p95 if idle_p95 else \
        float("inf")
    return result


def print_round(number, root, result, args):
    print(f"round {number} {root}")
    print(f"  {'/healthz probe':<16}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
          f"{'max ms':>9}")
    for name, samples in (("idle", result["idle"]), ("during storm", result["storm"])):
        print(f"  {name:<16}{len(samples):>7}{statistics.median(samples):>9.2f}"
              f"{percentile(samples, 0.95):>9.2f}{percentile(samples, 0.99):>9.2f}"
              f"{max(samples):>9.2f}")
    print(f"  p99 storm / idle: {result['ratio']:.2f} (target <= 2.00: "
          f"{'met' if result['ratio'] <= 2 else 'MISSED'}); p95: {result['ratio95']:.2f}; "
          f"logins: {args.logins / result['seconds']:.2f}/s")
    if "cpu" in result:
        cpu = result["cpu"]
        print(f"  CPU ms per login (storm without probes): server loop {cpu['loop']:.2f}, "
              f"database threads {cpu['database']:.2f}, other threads {cpu['other']:.2f}, "
              f"bcrypt {cpu['bcrypt']:.1f}; storm client {cpu['client']:.2f}", flush=True)
    if "slices" in result:
        from bench.loop_slices import print_report
        print("  the storm with probes:")
        print_report(result["probed_slices"], per=args.logins, top=6)
        print("  the storm without probes:")
        print_report(result["slices"], per=args.logins)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--logins", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=12, help="bcrypt rounds")
    parser.add_argument("--slots", type=int, default=0,
                        help="LOGIN_THROTTLE_CONCURRENCY (0: CPUs - 1)")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the whole measure")
    parser.add_argument("--roots", default=str(ROOT),
                        help="checkouts to serve, comma-separated, measured in turn (DIR@MS: "
                             "with that --switch-interval)")
    parser.add_argument("--no-cpu", dest="cpu", action="store_false",
                        help="skip the storm without probes that measures CPU per login")
    parser.add_argument("--slices", action="store_true",
                        help="time the server loop's callbacks during the storm without "
                             "probes and print the longest and costliest by step "
                             "(bench/loop_slices.py)")
    parser.add_argument("--switch-interval", type=float, default=0.0, metavar="MS",
                        help="the server's sys.setswitchinterval, in ms (0: Python's, 5 ms)")
    parser.add_argument("--serve", metavar="WORKDIR", help=argparse.SUPPRESS)
    parser.add_argument("--root", default=str(ROOT), help=argparse.SUPPRESS)
    parser.add_argument("--storm", metavar="PORT", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.serve, args.rounds, args.slots, args.root, args.slices,
                     args.switch_interval)
    if args.storm:
        return asyncio.run(storm(args.storm, args.concurrency, args.logins))

    roots = [str(Path(root.partition("@")[0]).resolve()) + root.partition("@")[1]
             + root.partition("@")[2] for root in args.roots.split(",") if root]
    slots = args.slots or max(1, (os.cpu_count() or 2) - 1)
    print(f"login storm: {args.logins} logins, {args.concurrency} concurrent, bcrypt rounds "
          f"{args.rounds}, {slots} password-check slot(s), {os.cpu_count()} CPUs; load "
          f"{os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1/5 min)", flush=True)
    results = {root: [] for root in roots}
    for number in range(1, args.repeat + 1):
        for root in roots:
            result = run_round(root, args)
            results[root].append(result)
            print_round(number, root, result, args)
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1/5 min)")
    if args.repeat > 1 or len(roots) > 1:
        for root, rounds in results.items():
            ratios = [r["ratio"] for r in rounds]
            line = (f"{root}: p99 storm/idle median {statistics.median(ratios):.2f} "
                    f"(range {min(ratios):.2f}-{max(ratios):.2f}, "
                    f"{sum(r <= 2 for r in ratios)}/{len(ratios)} rounds <= 2); p95 median "
                    f"{statistics.median(r['ratio95'] for r in rounds):.2f}")
            if rounds[0].get("cpu"):
                line += "; CPU ms/login median: loop {:.2f}, database {:.2f}, client {:.2f}".format(
                    *(statistics.median(r["cpu"][g] for r in rounds)
                      for g in ("loop", "database", "client")))
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
