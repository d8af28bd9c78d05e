"""Storage benchmark: bytes and seeding time of the same articles in Bastion and Django.

    python bench/storage.py [--sizes 20k] [--rounds 1] [--no-django] [--cache-dir DIR]

For each size, seeds bench/compare.py's articles into a fresh embedded database
(``insert_many`` in batches of 5,000, through the models, with the admin's search
index on title and body) and, unless ``--no-django``, into Django 5.2 on SQLite
(``bulk_create``; its virtualenv is bench/compare.py's, created on first use).
Prints the seconds and CPU seconds of each seeding, Bastion's file by part (the
documents, each index, the search index; SQLite's ``dbstat``), its size after a
``VACUUM`` (pages packed: what a seeded file would gain from it), Django's file, and
the ratios.
"""
import argparse
import asyncio
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare import django_project, django_python, parse_size, seed_bastion, \
    seed_django  # noqa: E402


def cpu_seconds(who):
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def parts(path):
    """``Counter({part: bytes})`` of the SQLite file at ``path``."""
    found = Counter()
    with sqlite3.connect(path) as conn:
        for name, size in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            if name.startswith("c:"):
                found["documents " + name[2:]] += size
            elif name.startswith("i:"):
                found["index " + name[2:]] += size
            elif name.startswith("s:"):
                found["search index " + name[2:].split("_data")[0].split("_idx")[0]
                      .split("_docsize")[0].split("_config")[0]] += size
            else:
                found["other (schema, metadata)"] += size
    return found


def vacuumed_size(path, workdir):
    copy = f"{workdir}/vacuumed.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"VACUUM INTO '{copy}'")
    size = os.path.getsize(copy)
    os.remove(copy)
    return size


def seed_bastion_once(size, workdir):
    """``(seconds, CPU seconds, path)`` of seeding ``size`` articles into a fresh file."""
    path = f"{workdir}/bastion.sqlite3"
    started, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_SELF)
    asyncio.run(seed_bastion(f"embedded:{path}", workdir, size))
    return time.perf_counter() - started, cpu_seconds(resource.RUSAGE_SELF) - cpu, path


def seed_django_once(size, workdir, args):
    """``(seconds, CPU seconds, bytes)`` of Django's seeding (migrations included)."""
    python = django_python(args.cache_dir)
    root = django_project(workdir, Path(workdir) / "django.sqlite3")
    started, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_CHILDREN)
    seed_django(python, root, size)
    return (time.perf_counter() - started, cpu_seconds(resource.RUSAGE_CHILDREN) - cpu,
            os.path.getsize(f"{workdir}/django.sqlite3"))


def measure(size, args):
    ratios = []
    for round_number in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="bastion-storage-") as workdir:
            seconds, cpu, path = seed_bastion_once(size, workdir)
            total = os.path.getsize(path)
            print(f"\n{size:,} articles, round {round_number}: Bastion seeded in {seconds:.1f} s "
                  f"({cpu:.1f} s CPU), file {total / 1e6:.1f} MB", flush=True)
            if round_number == 1:
                for name, part in parts(path).most_common():
                    if part >= total / 200:
                        print(f"   {name:<55} {part / 1e6:8.2f} MB")
                packed = vacuumed_size(path, workdir)
                print(f"   after VACUUM: {packed / 1e6:.1f} MB", flush=True)
            if args.no_django:
                continue
            django_seconds, django_cpu, django_bytes = seed_django_once(size, workdir, args)
            print(f"   Django seeded in {django_seconds:.1f} s ({django_cpu:.1f} s CPU, "
                  f"migrations included), file {django_bytes / 1e6:.1f} MB")
            ratios.append((seconds / django_seconds, cpu / django_cpu))
            print(f"   ratios: bytes {total / django_bytes:.2f}x ({packed / django_bytes:.2f}x "
                  f"after VACUUM), seeding time {ratios[-1][0]:.2f}x, CPU "
                  f"{ratios[-1][1]:.2f}x", flush=True)
    if len(ratios) > 1:
        print(f"   median over {len(ratios)} rounds (Bastion, Django, Bastion, Django...): "
              f"seeding time {statistics.median(r[0] for r in ratios):.2f}x, CPU "
              f"{statistics.median(r[1] for r in ratios):.2f}x", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20k")
    parser.add_argument("--no-django", action="store_true")
    parser.add_argument("--rounds", type=int, default=1,
                        help="seed both this many times, one after the other (A B A B), and "
                             "print the median ratios (the bytes are the first round's)")
    parser.add_argument("--cache-dir", default=os.environ.get(
        "BASTION_BENCH_CACHE", str(Path.home() / ".cache" / "bastion-bench")))
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds takes a positive integer")
    try:
        sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes takes sizes such as 20k,100k,1m")
    for size in sizes:
        measure(size, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
