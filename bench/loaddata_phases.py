"""Where ``manage.py loaddata`` spends its CPU, phase by phase, on the embedded store.

    python bench/loaddata_phases.py [--documents 20000] [--rounds 3]

Seeds and dumps ``--documents`` articles as bench/loaddata.py does, then loads the file
``--rounds`` times, each in a fresh child process that runs the command in-process and
prints the CPU seconds of: start-up (imports, settings, models, catalogs, commands),
validation (this process, and its worker processes), the load (indexes, reading the
spool, the inserts), and within the load the SQLite inserts on the writer thread
(``Store.insert_rows``); then the floor: the same rows inserted again into a fresh
collection with the same indexes, nothing else. CPU, not the clock: a busy machine
distorts it least. Prints the median of each.
"""
import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loaddata import children_cpu  # noqa: E402

PHASES = ("start-up", "validation (this process)", "validation (workers)", "load",
          "load: SQLite inserts", "floor: the same rows, inserts only")


def child(dump, url, floor_url):
    """In the child: run loaddata in-process with timers; print ``phase=seconds`` lines."""
    started = time.process_time()
    from core import i18n
    import core.management as management
    from core.db.embedded import store as store_module
    from core.management.commands import loaddata as command_module
    settings, registry, error = management._load()
    if error is not None:
        raise SystemExit(str(error))
    i18n.activate(i18n.install_for_settings(settings, registry.locale_dirs()))
    management.discover_commands(registry)
    figures = {"start-up": time.process_time() - started}
    inserted, sql = [], [0.0]
    real_validate, real_load = command_module.validate_file, command_module.load
    real_insert_rows = store_module.Store.insert_rows

    def validate(*args, **kwargs):
        cpu, workers = time.process_time(), children_cpu()
        try:
            return real_validate(*args, **kwargs)
        finally:
            figures["validation (this process)"] = time.process_time() - cpu
            figures["validation (workers)"] = children_cpu() - workers

    async def load(*args, **kwargs):
        cpu = time.process_time()
        try:
            return await real_load(*args, **kwargs)
        finally:
            figures["load"] = time.process_time() - cpu

    def insert_rows(self, coll, rows, ordered):
        cpu = time.thread_time()
        try:
            return real_insert_rows(self, coll, rows, ordered)
        finally:
            sql[0] += time.thread_time() - cpu
            inserted.append((coll, rows))

    command_module.validate_file, command_module.load = validate, load
    store_module.Store.insert_rows = insert_rows
    status = management.run_command(*_parsed(management, settings, registry, dump))
    if status != 0:
        raise SystemExit(f"loaddata failed ({status})")
    figures["load: SQLite inserts"] = sql[0]
    store_module.Store.insert_rows = real_insert_rows
    figures["floor: the same rows, inserts only"] = asyncio.run(
        _floor(floor_url, registry, inserted))
    for phase in PHASES:
        print(f"{phase}={figures[phase]:.4f}")


def _parsed(management, settings, registry, dump):
    info = management.discover_commands(registry)["loaddata"]
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
        results = {phase: [] for phase in PHASES}
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
                f"{phase} {results[phase][-1]:.3f}" for phase in PHASES), flush=True)
        print(f"{args.documents:,} documents, median CPU seconds:")
        for phase in PHASES:
            print(f"  {phase:38s} {statistics.median(results[phase]):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
