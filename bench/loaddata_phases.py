"""Where ``manage.py loaddata`` spends its CPU and its time, phase by phase, on the embedded store.

    python bench/loaddata_phases.py [--documents 20000] [--rounds 3]

Seeds and dumps ``--documents`` articles as bench/loaddata.py does, then loads the file
``--rounds`` times, each in a fresh child process that runs the command in-process and
prints the CPU seconds of: start-up (the interpreter's, imports, settings, models,
catalogs, the command), the validation in the worker processes, this process after
start-up (indexes, the inserts, the commit), and within it the SQLite inserts on the
writer thread (``Store.load_rows``); then the floor: the same rows inserted again into a
fresh collection with the same indexes, nothing else. CPU, not the clock: a busy machine
distorts it least. The clock figures beside them say how much the inserts overlap the
validation: when the first insert starts, when the last one ends, and the whole command
(from the interpreter's start). Prints the median of each.
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


def children_cpu():
    """(bench/loaddata.py's, not imported here: the child's start-up is measured)"""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


PHASES = ("start-up", "validation (workers)", "after start-up (this process)",
          "SQLite inserts (writer thread)", "floor: the same rows, inserts only")
CLOCK = ("clock: first insert starts", "clock: last insert ends", "clock: the whole command")


def _process_started():
    """Seconds since this process started (``time.time()``'s clock), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    with open("/proc/self/stat") as stat:
        started = int(stat.read().rpartition(")")[2].split()[19]) / ticks
    with open("/proc/uptime") as uptime:
        return float(uptime.read().split()[0]) - started


def child(dump, url, floor_url):
    """In the child: run loaddata in-process with timers; print ``phase=seconds`` lines."""
    origin = time.perf_counter() - _process_started()
    from core import i18n
    import core.management as management
    from core.db.embedded import store as store_module
    settings, registry, error = management._load()
    if error is not None:
        raise SystemExit(str(error))
    i18n.activate(i18n.install_for_settings(settings, registry.locale_dirs()))
    command, args = _parsed(management, settings, registry, dump)
    figures = {"start-up": time.process_time()}
    inserted, sql, clock = [], [0.0], []
    real_load_rows = store_module.Store.load_rows

    def load_rows(self, coll, rows):
        cpu, started = time.thread_time(), time.perf_counter()
        try:
            return real_load_rows(self, coll, rows)
        finally:
            sql[0] += time.thread_time() - cpu
            clock.append((started - origin, time.perf_counter() - origin))
            inserted.append((coll, rows))

    store_module.Store.load_rows = load_rows
    cpu, workers = time.process_time(), children_cpu()
    status = management.run_command(command, args)
    if status != 0:
        raise SystemExit(f"loaddata failed ({status})")
    figures["after start-up (this process)"] = time.process_time() - cpu
    figures["validation (workers)"] = children_cpu() - workers
    figures["clock: the whole command"] = time.perf_counter() - origin
    figures["SQLite inserts (writer thread)"] = sql[0]
    figures["clock: first insert starts"] = clock[0][0]
    figures["clock: last insert ends"] = clock[-1][1]
    store_module.Store.load_rows = real_load_rows
    figures["floor: the same rows, inserts only"] = asyncio.run(
        _floor(floor_url, registry, inserted))
    for phase in PHASES + CLOCK:
        print(f"{phase}={figures[phase]:.4f}")


def _parsed(management, settings, registry, dump):
    info = management.find_command(registry, "loaddata")
    command = info.command_class(settings=settings, registry=registry)
    return command, command.create_parser("loaddata").parse_args([dump, "--no-progress"])


async def _floor(url, registry, inserted):
    from core.db import connect
    db = connect(url)
    try:
        for model in registry.models.values():
            await model.ensure_indexes(db=db)
        cpu = 0.0
        for coll, rows in inserted:
            started = time.thread_time()
            db.store.insert_rows(coll, rows, True)   # on this thread: its CPU alone
            cpu += time.thread_time() - started
        return cpu
    finally:
        await db.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    if args.documents < 1 or args.rounds < 1:
        parser.error("--documents and --rounds take positive integers")
    from bench.compare import seed_bastion
    from bench.loaddata import manage, manage_env
    with tempfile.TemporaryDirectory(prefix="bastion-loaddata-") as workdir:
        source = f"embedded:{workdir}/source.sqlite3"
        asyncio.run(seed_bastion(source, workdir, args.documents))
        dump = f"{workdir}/articles.jsonl"
        manage(["dumpdata", "blog.article", "-o", dump], source, workdir)
        empty = Path(workdir) / "empty.jsonl"
        empty.touch()
        manage(["loaddata", str(empty)], f"embedded:{workdir}/warm.sqlite3", workdir)
        results = {phase: [] for phase in PHASES + CLOCK}
        for n in range(args.rounds):
            url = f"embedded:{workdir}/target{n}.sqlite3"
            env = manage_env(url, workdir)
            done = subprocess.run(
                [sys.executable, __file__, "--child", dump, url,
                 f"embedded:{workdir}/floor{n}.sqlite3"],
                cwd=ROOT, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"the measuring child failed: {done.stderr.strip()}")
            for line in done.stdout.splitlines():
                phase, _, seconds = line.rpartition("=")
                if phase in results:
                    results[phase].append(float(seconds))
            print(f"round {n + 1}: " + ", ".join(
                f"{phase} {results[phase][-1]:.3f}" for phase in PHASES + CLOCK), flush=True)
        print(f"{args.documents:,} documents, median CPU seconds:")
        for phase in PHASES:
            print(f"  {phase:38s} {statistics.median(results[phase]):.3f}")
        print("median seconds by the clock, from the interpreter's start:")
        for phase in CLOCK:
            print(f"  {phase:38s} {statistics.median(results[phase]):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
