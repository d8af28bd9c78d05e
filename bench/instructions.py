"""Instructions per request of one or more checkouts, counted by valgrind, A B A B.

    python bench/instructions.py [--roots DIR,DIR] [--kinds detail,list] [--requests 100]
                                 [--rounds 2] [--data DIR]

CPU time per request on a shared, loaded machine moves by 20% from run to run, so a
change of a few percent cannot be seen in it. The number of instructions the server runs
for a request hardly depends on the load: this script counts them. For each root (a
checkout: ``git archive COMMIT | tar -x -C DIR``; default: this one) and round, the
root's ``compare.py --serve`` runs under ``valgrind --tool=callgrind`` with the counting
off (``--instr-atstart=no``), on a copy of ``bench/search_cpu.py``'s seeded 10k articles
(``--data``, seeded there first if missing); the reader logs in, each page kind
(``bench/compare.py``'s ``bastion_paths``: ``list``, ``detail``, ``search``, ``rare``,
``deep``) is loaded 20 times untimed, then ``callgrind_control -i on``, ``--requests``
GETs one after another on one keep-alive connection, ``-i off``; the server's every thread
is counted, and ``PYTHONHASHSEED=0`` keeps set and dict orders the same from run to run.
Prints instructions per request per root, kind and round, then the medians and each
root's ratio to the first. Instructions are not time (a cache miss costs more than an
add), but an A/B difference of 1% in them is real; read it beside the CPU figures of
``bench/search_cpu.py``. Needs valgrind (``apt-get install valgrind``); a server under it
runs ~30x slower, so a kind of 100 requests takes ~30 s.
"""
import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare import bastion_login, bastion_paths  # noqa: E402
from bench.http_client import Connection  # noqa: E402
from bench.search_cpu import KINDS, copy_of, seeded  # noqa: E402

SIZE = 10_000
WARM_UP = 20


def total_instructions(out_file):
    """The ``totals:`` count of a callgrind output file (its events: ``Ir``)."""
    for line in Path(out_file).read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise SystemExit(f"no totals in {out_file}")


async def load(port, kinds, requests, control):
    """Log in; per kind, warm up, then count ``requests`` GETs (``control(on)`` around)."""
    cookie = await bastion_login(port)
    paths = await bastion_paths(port, cookie, SIZE)
    connection = Connection(port, {"Cookie": cookie})
    counted = {}
    try:
        for kind in kinds:
            for _ in range(WARM_UP):
                status, _body = await connection.get(paths[kind])
                if status != 200:
                    raise SystemExit(f"{paths[kind]} answered {status}")
            control(True)
            for _ in range(requests):
                await connection.get(paths[kind])
            counted[kind] = control(False)
    finally:
        connection.close()
    return counted


def measure(root, kinds, requests, folder, workdir):
    """``{kind: instructions per request}`` of ``root``'s server, one server for all kinds."""
    url = copy_of(folder, workdir)
    out = workdir / "callgrind.out"
    process = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
         sys.executable, str(Path(root) / "bench" / "compare.py"), "--serve", url,
         "--workdir", str(workdir)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=root,
        env=dict(os.environ, PYTHONUNBUFFERED="1", PYTHONHASHSEED="0"))
    try:
        line = process.stdout.readline()
        if not line.startswith("READY "):
            raise SystemExit(f"{root}: the server did not start under valgrind: {line!r}")
        port = int(line.split()[1])

        def control(on):
            """Counting on or off; off dumps what was counted since on (callgrind zeroes
            its counts at each dump) and returns it."""
            subprocess.run(["callgrind_control", "-i", "on" if on else "off",
                            str(process.pid)], check=True, capture_output=True)
            if on:
                return None
            dumped = set(workdir.glob("callgrind.out*"))
            subprocess.run(["callgrind_control", "-d", str(process.pid)], check=True,
                           capture_output=True)
            (new,) = set(workdir.glob("callgrind.out*")) - dumped
            return total_instructions(new)

        counted = asyncio.run(load(port, kinds, requests, control))
    finally:
        process.terminate()
        process.wait(60)
    return {kind: count / requests for kind, count in counted.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roots", default=str(ROOT))
    parser.add_argument("--kinds", default="detail,list")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--data", default=str(Path(tempfile.gettempdir()) / "bastion-search-cpu"),
                        help="where the seeded articles are kept between runs")
    args = parser.parse_args(argv)
    kinds = [kind for kind in args.kinds.split(",") if kind]
    if not kinds or not set(kinds) <= set(KINDS) or not 1 <= args.requests <= 10_000 \
            or args.rounds < 1:
        parser.error(f"--kinds among {','.join(KINDS)}; --requests 1..10000; --rounds >= 1")
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        parser.error("valgrind is not installed (apt-get install valgrind)")
    roots = [str(Path(root).resolve()) for root in args.roots.split(",") if root]
    folder = seeded(args.data, SIZE)
    figures = {(root, kind): [] for root in roots for kind in kinds}
    with tempfile.TemporaryDirectory(prefix="bastion-instructions-") as scratch:
        for round_ in range(args.rounds):
            for n, root in enumerate(roots):
                workdir = Path(scratch) / f"{round_}-{n}"
                for kind, count in measure(root, kinds, args.requests, folder,
                                           workdir).items():
                    figures[(root, kind)].append(count)
                    print(f"round {round_ + 1} {kind:<6} {root}: {count:,.0f} "
                          f"instructions/request", flush=True)
    print(f"\nmedians over {args.rounds} rounds of {args.requests} requests:")
    for kind in kinds:
        first = statistics.median(figures[(roots[0], kind)])
        for root in roots:
            median = statistics.median(figures[(root, kind)])
            print(f"{kind:<6} {root}: {median:,.0f} instructions/request "
                  f"(x{median / first:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
