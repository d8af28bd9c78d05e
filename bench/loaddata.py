"""loaddata benchmark: documents per second of ``manage.py loaddata`` on the embedded store.

    python bench/loaddata.py [--documents 20000] [--rounds 3] [--roots DIR,DIR]

Seeds ``--documents`` articles (bench/compare.py's articles: titles, bodies, references
to 20 categories and 5 authors) in a temporary embedded database, dumps them with
``manage.py dumpdata``, then loads the file into a fresh database ``--rounds``
times, each a ``manage.py loaddata`` subprocess as an operator runs it (start-up,
indexes, validation and inserts). Prints the documents in the file, the
seconds and documents per second of each round (by the clock and per second of the
command's CPU, the figure a busy machine distorts least), and their medians.

``--roots`` names checkouts (default: this one) whose ``manage.py`` load the same
file, interleaved in each round (A B A B), with the ratio of each to the first: a
side-by-side comparison of two versions. Each checkout's start-up is measured as an
installed one starts, with its compiled bytecode: one untimed load of an empty file
first writes it (even where ``PYTHONDONTWRITEBYTECODE`` is set).
"""
import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare import seed_bastion  # noqa: E402


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def manage_env(url, workdir):
    """The environment of a measured ``manage.py`` child: this one's without Bastion's own
    settings, with ``url`` as its database (compiled bytecode allowed, as installed)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BASTION_")
           and k not in ("DATABASE_URL", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    env.update(BASTION_SETTINGS="settings.base", DATABASE_URL=url, VAR_DIR=f"{workdir}/var",
               COOKIE_SECRET="bench-only-secret-" + "x" * 32)
    return env


def manage(args, url, workdir, root=ROOT):
    env = manage_env(url, workdir)
    done = subprocess.run([sys.executable, str(Path(root) / "manage.py"), *args], cwd=root,
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--roots", default=str(ROOT),
                        help="checkouts to compare, comma-separated (default: this one)")
    args = parser.parse_args(argv)
    if args.documents < 1 or args.rounds < 1:
        parser.error("--documents and --rounds take positive integers")
    roots = [root for root in args.roots.split(",") if root]
    missing = [root for root in roots if not (Path(root) / "manage.py").is_file()]
    if not roots or missing:
        parser.error(f"--roots: no manage.py in {', '.join(missing) or 'any of them'}")
    with tempfile.TemporaryDirectory(prefix="bastion-loaddata-") as workdir:
        source = f"embedded:{workdir}/source.sqlite3"
        asyncio.run(seed_bastion(source, workdir, args.documents))
        dump = f"{workdir}/articles.jsonl"
        manage(["dumpdata", "blog.article", "-o", dump], source, workdir)
        with open(dump, "rb") as handle:
            documents = sum(1 for line in handle if line.strip())
        print(f"{documents:,} documents, {os.path.getsize(dump) / 1e6:.1f} MB", flush=True)
        empty = Path(workdir) / "empty.jsonl"
        empty.touch()
        for n, root in enumerate(roots):      # untimed: compiles each checkout's bytecode
            manage(["loaddata", str(empty)], f"embedded:{workdir}/warm{n}.sqlite3", workdir,
                   root)
        rates = {root: [] for root in roots}
        for round_ in range(args.rounds):
            for n, root in enumerate(roots):
                target = f"embedded:{workdir}/target{round_}-{n}.sqlite3"
                started, cpu = time.perf_counter(), children_cpu()
                manage(["loaddata", dump, "--no-progress"], target, workdir, root)
                seconds, cpu = time.perf_counter() - started, children_cpu() - cpu
                rates[root].append((documents / seconds, documents / cpu))
                label = f" {root}" if len(roots) > 1 else ""
                print(f"round {round_ + 1}{label}: {seconds:.2f} s ({cpu:.2f} s of CPU): "
                      f"{rates[root][-1][0]:,.0f} documents/s, {rates[root][-1][1]:,.0f} per "
                      "CPU second", flush=True)
        first = None
        for root in roots:
            clock = statistics.median(r[0] for r in rates[root])
            per_cpu = statistics.median(r[1] for r in rates[root])
            label = f" {root}" if len(roots) > 1 else ""
            ratio = "" if first is None else (f" ({clock / first[0]:.2f}x by the clock, "
                                              f"{per_cpu / first[1]:.2f}x per CPU second)")
            first = first or (clock, per_cpu)
            print(f"median{label}: {clock:,.0f} documents/s, {per_cpu:,.0f} per CPU second"
                  f"{ratio} (loaddata, the whole command: start-up included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
