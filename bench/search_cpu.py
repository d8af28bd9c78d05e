"""CPU ms per search-page request of one or more checkouts, at several sizes, A B A B.

    python bench/search_cpu.py [--roots DIR,DIR] [--sizes 10k,1m]
                               [--kinds search,rare,list,deep,detail] [--seconds 5]
                               [--rounds 3] [--connections 10] [--data DIR]

``bench/compare.py``'s Bastion pages without Django: for each size, the articles of
``compare.py`` (its ``seed_bastion``, seeded once into ``--data``/<size> and kept
there for the next run, since 1M takes minutes) are copied for each root (a checkout
of this project: ``git archive COMMIT | tar -x -C DIR``; default: this one), whose
own ``compare.py --serve`` serves them in a child process. Each page kind
(``search``: "zebras" and published; ``rare``: "narwhal"; ``list``: the list;
``deep``: the page 100 pages in, by its keyset cursor; ``detail``: an article) is
loaded by ``wrk -t2 -c<connections>`` for ``--seconds``, each root in turn, for
``--rounds`` rounds after an untimed warm-up. Prints each run's server CPU ms per
request (from /proc, the server's whole process), req/s and p50, then the medians
and, per root and kind, the ratio of the largest size's CPU to the smallest's (with
``wrk -c10`` on one process the p50 is the queue of ten requests, so the p50 ratio
follows the CPU ratio). Read the figures beside the load printed before and after.
"""
import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare import (Child, bastion_login, bastion_paths, parse_size,  # noqa: E402
                           run_wrk, seed_bastion, tree_cpu_seconds)

KINDS = ("search", "rare", "list", "deep", "detail")
DEFAULT_KINDS = ("search", "rare", "list")
FILE = "bastion.sqlite3"


def seeded(data, size):
    """The directory holding ``size`` articles seeded by ``compare.seed_bastion``."""
    folder = Path(data) / str(size)
    if not (folder / FILE).exists():
        print(f"seeding {size:,} articles into {folder} ...", flush=True)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        asyncio.run(seed_bastion(f"embedded:{folder}/{FILE}", str(folder), size))
    return folder


def copy_of(folder, workdir):
    """A copy of the seeded file for one server (each may write its sessions)."""
    workdir.mkdir(parents=True)
    for name in os.listdir(folder):
        if name.startswith(FILE) and (folder / name).is_file():
            shutil.copyfile(folder / name, workdir / name)
    return f"embedded:{workdir}/{FILE}"


def measure(pid, port, path, cookie, seconds, connections):
    """``(cpu ms per request, req/s, p50 ms)`` of one ``wrk`` run."""
    before = tree_cpu_seconds(pid)
    requests, rate, p50, _p99 = run_wrk(port, path, cookie, seconds, connections)
    return (tree_cpu_seconds(pid) - before) * 1000 / requests, rate, p50


def start(root, size, folder, workdir):
    """``(server, port, cookie, paths)``: ``root``'s ``compare.py --serve`` on a copy of the
    seeded ``folder``, the reader logged in."""
    url = copy_of(folder, workdir)
    server = Child([], command=[sys.executable, str(Path(root) / "bench" / "compare.py"),
                                "--serve", url, "--workdir", str(workdir)])
    port = server.__enter__()
    try:
        cookie = asyncio.run(bastion_login(port))
        return server, port, cookie, asyncio.run(bastion_paths(port, cookie, size))
    except BaseException:
        server.__exit__()
        raise


def run_size(roots, size, args, scratch):
    """Each kind's median ``(cpu ms, req/s, p50 ms)`` per root at ``size``."""
    folder = seeded(args.data, size)
    figures = {(root, kind): [] for root in roots for kind in args.kinds}
    sites = []
    try:
        for n, root in enumerate(roots):
            sites.append((root, *start(root, size, folder, Path(scratch) / f"{size}-{n}")))
        for _root, server, port, cookie, paths in sites:             # warm-up, untimed
            for kind in args.kinds:
                measure(server.pid, port, paths[kind], cookie, 1, args.connections)
        for round_ in range(args.rounds):
            for kind in args.kinds:
                for root, server, port, cookie, paths in sites:
                    run = measure(server.pid, port, paths[kind], cookie, args.seconds,
                                  args.connections)
                    figures[(root, kind)].append(run)
                    print(f"{size:>9,} round {round_ + 1} {kind:<6} {root}: {run[0]:6.2f} ms "
                          f"CPU/request {run[1]:7.1f} req/s p50 {run[2]:6.1f} ms", flush=True)
    finally:
        for site in sites:
            site[1].__exit__()
    return {key: tuple(statistics.median(run[i] for run in runs) for i in range(3))
            for key, runs in figures.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roots", default=str(ROOT),
                        help="comma-separated checkouts to compare (default: this one)")
    parser.add_argument("--sizes", default="10k,1m")
    parser.add_argument("--kinds", default=",".join(DEFAULT_KINDS))
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--data", default=str(Path(tempfile.gettempdir()) / "bastion-search-cpu"),
                        help="where the seeded articles are kept between runs")
    args = parser.parse_args(argv)
    args.kinds = [kind for kind in args.kinds.split(",") if kind]
    if not set(args.kinds) <= set(KINDS) or not args.kinds or args.rounds < 1 \
            or not 1 <= args.connections <= 256 or not 0 < args.seconds <= 300:
        parser.error(f"--kinds among {','.join(KINDS)}; --rounds >= 1; --connections "
                     "1..256; --seconds 0..300")
    roots = [str(Path(root).resolve()) for root in args.roots.split(",") if root]
    sizes = [parse_size(text) for text in args.sizes.split(",") if text.strip()]
    print(f"load: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs",
          flush=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="bastion-search-cpu-") as scratch:
        for size in sizes:
            results[size] = run_size(roots, size, args, scratch)
    print(f"\nmedians over {args.rounds} rounds (wrk -c{args.connections}, "
          f"{args.seconds:g} s each): CPU ms/request, req/s, p50 ms")
    for size, figures in results.items():
        for (root, kind), (cpu, rate, p50) in figures.items():
            print(f"{size:>9,} {kind:<6} {root}: {cpu:6.2f} ms {rate:7.1f} req/s "
                  f"p50 {p50:6.1f} ms")
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        for root in roots:
            for kind in args.kinds:
                a, b = results[small][(root, kind)], results[large][(root, kind)]
                print(f"{kind:<6} {root}: {large:,}/{small:,} CPU x{b[0] / a[0]:.2f}, "
                      f"p50 x{b[2] / a[2]:.2f}")
    print(f"load: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
