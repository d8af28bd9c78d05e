"""loaddata benchmark: documents per second of ``manage.py loaddata`` on the embedded store.

    python bench/loaddata.py [--documents 20000] [--rounds 3]

Seeds ``--documents`` articles (bench/compare.py's articles: titles, bodies, references
to 20 categories and 5 authors) in a temporary embedded database, dumps them with
``manage.py dumpdata``, then loads the file into a fresh database ``--rounds``
times, each a ``manage.py loaddata`` subprocess as an operator runs it (start-up,
validation, journal, indexes, inserts). Prints the documents in the file, the
seconds and documents per second of each round (by the clock and per second of the
command's CPU, the figure a busy machine distorts least), and their medians.
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


def manage(args, url, workdir):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BASTION_") and k not in ("DATABASE_URL", "PYTHONPATH")}
    env.update(BASTION_SETTINGS="settings.base", DATABASE_URL=url, VAR_DIR=f"{workdir}/var",
               COOKIE_SECRET="bench-only-secret-" + "x" * 32)
    done = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.documents < 1 or args.rounds < 1:
        parser.error("--documents and --rounds take positive integers")
    with tempfile.TemporaryDirectory(prefix="bastion-loaddata-") as workdir:
        source = f"embedded:{workdir}/source.sqlite3"
        asyncio.run(seed_bastion(source, workdir, args.documents))
        dump = f"{workdir}/articles.jsonl"
        manage(["dumpdata", "blog.article", "-o", dump], source, workdir)
        with open(dump, "rb") as handle:
            documents = sum(1 for line in handle if line.strip())
        print(f"{documents:,} documents, {os.path.getsize(dump) / 1e6:.1f} MB", flush=True)
        rates = []
        for n in range(args.rounds):
            target = f"embedded:{workdir}/target{n}.sqlite3"
            started, cpu = time.perf_counter(), children_cpu()
            manage(["loaddata", dump, "--no-progress"], target, workdir)
            seconds, cpu = time.perf_counter() - started, children_cpu() - cpu
            rates.append((documents / seconds, documents / cpu))
            print(f"round {n + 1}: {seconds:.2f} s ({cpu:.2f} s of CPU): {rates[-1][0]:,.0f} "
                  f"documents/s, {rates[-1][1]:,.0f} per CPU second", flush=True)
        print(f"median: {statistics.median(r[0] for r in rates):,.0f} documents/s, "
              f"{statistics.median(r[1] for r in rates):,.0f} per CPU second (loaddata, the "
              "whole command: start-up included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
