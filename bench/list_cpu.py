"""CPU ms per list-page request of one or more checkouts, measured A B A B in one run.

    python bench/list_cpu.py [--roots DIR,DIR] [--size 10000] [--requests 300]
                             [--rounds 4] [--connections 1,10] [--path PATH]

Absolute req/s on a loaded machine is noise; the server's own CPU time per request
(user + system, from /proc, every thread of the server process) is not, and two
checkouts measured in turn in the same run share whatever else the machine does.
For each root (a checkout of this project: ``git archive COMMIT | tar -x -C DIR``;
default: this one) the script seeds ``--size`` articles with that checkout's
``bench/list_page.py`` seed (its own models and settings), starts that checkout's
list-page server in a child process on 127.0.0.1 and logs the reader in. Then, for
``--rounds`` rounds, each server in turn answers ``--requests`` GETs of ``--path``
(the article list, 50 rows, by default; ``--detail``: the page of that list's first
row, each server's own) over each of ``--connections`` keep-alive
connection counts in turn (``1,10``: one, then ten at once), after an untimed warm-up.
Prints each round's CPU ms per request and req/s per root and connection count, and the
medians: CPU per request compares checkouts; req/s at 10 against 1 shows whether one
process overlaps requests (read it beside the load printed before and after).
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_client import Connection  # noqa: E402
from bench.list_page import log_in, rows_of, stop  # noqa: E402

SEED = """
import asyncio, sys
sys.path.insert(0, sys.argv[1])
from bench.list_page import seed
asyncio.run(seed(sys.argv[2], sys.argv[3], int(sys.argv[4])))
"""


def cpu_seconds(pid):
    """User + system CPU seconds of process ``pid`` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """One checkout's list-page server on a seeded store, in a child process."""

    def __init__(self, root, workdir, size):
        self.root = Path(root).resolve()
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.url = f"embedded:{self.workdir}/list-{size}.sqlite3"
        subprocess.run([sys.executable, "-c", SEED, str(self.root), self.url,
                        str(self.workdir), str(size)], check=True, cwd=self.root)
        self.process = subprocess.Popen(
            [sys.executable, str(self.root / "bench" / "list_page.py"), "--serve", self.url,
             "--workdir", str(self.workdir)], stdout=subprocess.PIPE, text=True,
            cwd=self.root, env=dict(os.environ, PYTHONUNBUFFERED="1"))
        line = self.process.stdout.readline()
        if not line.startswith("READY "):
            self.close()
            raise SystemExit(f"{self.root}: the server did not start: {line!r}")
        self.port = int(line.split()[1])
        self.cookie = asyncio.run(log_in(self.port))
        self.first_row = None

    def path_of(self, args):
        """What this server is asked for: ``--path``, or with ``--detail`` its first row's page
        (each checkout's seed makes its own ids)."""
        if not args.detail:
            return args.path
        if self.first_row is None:
            async def first_row():
                connection = Connection(self.port, {"Cookie": self.cookie})
                try:
                    status, body = await connection.get(args.path)
                finally:
                    connection.close()
                found = re.search(rb'<tr data-id="([0-9a-f]{24})">', body)
                if status != 200 or found is None:
                    raise SystemExit(f"{args.path} answered {status} without rows")
                return f"{args.path.split('?')[0]}{found.group(1).decode()}/"
            self.first_row = asyncio.run(first_row())
        return self.first_row

    def close(self):
        stop(self.process)


async def drive(port, cookie, path, requests, connections, rows=50):
    """``requests`` GETs of ``path`` over ``connections`` connections: seconds taken.
    Each answer must be a 200 with ``rows`` rows (``None``: any)."""
    conns = [Connection(port, {"Cookie": cookie}) for _ in range(connections)]
    remaining = [requests]

    async def worker(connection):
        while remaining[0] > 0:
            remaining[0] -= 1
            status, body = await connection.get(path)
            if status != 200 or (rows is not None and rows_of(body) != rows):
                raise SystemExit(f"{path} answered {status} with {rows_of(body)} rows")
    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker(c) for c in conns))
    finally:
        for connection in conns:
            connection.close()
    return time.perf_counter() - started


def measure(server, args, requests, connections):
    before = cpu_seconds(server.process.pid)
    elapsed = asyncio.run(drive(server.port, server.cookie, server.path_of(args), requests,
                                connections, rows=None if args.detail else 50))
    cpu = cpu_seconds(server.process.pid) - before
    return cpu * 1000 / requests, requests / elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roots", default=str(ROOT),
                        help="comma-separated checkouts to compare (default: this one)")
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--connections", default="1",
                        help="comma-separated connection counts, each measured in turn")
    parser.add_argument("--path", default="/admin/blog/article/")
    parser.add_argument("--detail", action="store_true",
                        help="measure the page of the list's first row instead of the list")
    args = parser.parse_args(argv)
    try:
        counts = [int(n) for n in args.connections.split(",") if n]
    except ValueError:
        counts = []
    if not counts or not all(1 <= n <= 64 for n in counts) or args.requests < 1 \
            or args.rounds < 1:
        parser.error("--connections takes counts 1..64; --requests and --rounds at least 1")
    roots = [root for root in args.roots.split(",") if root]
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1/5 min), "
          f"{os.cpu_count()} CPUs", flush=True)
    servers = []
    with tempfile.TemporaryDirectory(prefix="bastion-bench-cpu-") as workdir:
        try:
            for n, root in enumerate(roots):
                print(f"{root}: seeding {args.size:,} ...", flush=True)
                servers.append(Server(root, Path(workdir) / str(n), args.size))
            for server in servers:                          # warm-up, untimed
                measure(server, args, max(20, args.requests // 5), max(counts))
            figures = {(n, c): [] for n in range(len(servers)) for c in counts}
            for round_ in range(args.rounds):
                for n, server in enumerate(servers):
                    for count in counts:
                        cpu, rate = measure(server, args, args.requests, count)
                        figures[(n, count)].append((cpu, rate))
                        print(f"round {round_ + 1} {roots[n]} x{count}: {cpu:6.2f} ms "
                              f"CPU/request {rate:7.1f} req/s", flush=True)
        finally:
            for server in servers:
                server.close()
    shown = f"{args.path} (its first row's page)" if args.detail else args.path
    print(f"\nmedians over {args.rounds} rounds of {args.requests} requests, {shown}:")
    for (n, count), runs in figures.items():
        cpus = [cpu for cpu, _ in runs]
        rates = [rate for _, rate in runs]
        print(f"  {roots[n]} x{count}: {statistics.median(cpus):6.2f} ms CPU/request "
              f"(min {min(cpus):.2f}) {statistics.median(rates):7.1f} req/s")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1/5 min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
