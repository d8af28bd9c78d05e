"""``manage.py runserver [--address A] [--port P] [--processes N]``: serve the admin.

With N > 1 (or 0: one per CPU) the listening sockets are bound first, then
``tornado.process.fork_processes`` forks the workers, each running its own
event loop and database connection. SIGINT/SIGTERM shut down gracefully: stop
accepting, finish in-flight requests (``SHUTDOWN_TIMEOUT``), close the database.
A supervising parent forwards the signal to its workers and exits 0 once they
have all stopped. With ``FIRST_RUN_DEMO`` (dev) on an empty database, the apps'
first-run hooks run first (``core.management.firstrun``).
"""
import asyncio
import logging
import os
import signal
import sys

import tornado.netutil
import tornado.process

from core.app import make_app, serve
from core.management.base import Command, CommandError
from core.management.commands.check import redact_url
from core.management.firstrun import first_run

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_stop_early = []  # a worker that got a stop signal before its event loop ran


def _remember_stop(signum, frame):
    _stop_early.append(signum)


def fork_workers(count):
    """Fork ``count`` workers (0: one per CPU) with ``tornado.process.fork_processes``.

    Returns the worker's task id in each worker; the parent never returns (it
    exits when every worker has exited cleanly). Tornado's supervisor does not
    pass signals on, so each worker writes its pid to a pipe and the parent's
    SIGINT/SIGTERM handler forwards the signal to every pid read from it.
    """
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    workers = set()

    def forward(signum, frame):
        try:
            while True:
                data = os.read(read_fd, 4096)
                if not data:
                    break
                workers.update(int(pid) for pid in data.split())
        except BlockingIOError:
            pass
        for pid in workers:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    for signum in STOP_SIGNALS:
        signal.signal(signum, forward)
    task_id = tornado.process.fork_processes(count)
    # In a worker from here on: until the event loop takes over, just remember a stop signal.
    for signum in STOP_SIGNALS:
        signal.signal(signum, _remember_stop)
    os.close(read_fd)
    os.write(write_fd, f"{os.getpid()}\n".encode())
    os.close(write_fd)
    return task_id


class RunserverCommand(Command):
    name = "runserver"
    help = "Serve the admin over HTTP until Ctrl-C or SIGTERM (graceful shutdown)."

    def add_arguments(self, parser):
        parser.add_argument("--address", default=None,
                            help="interface to listen on (default: the ADDRESS setting, "
                                 "127.0.0.1)")
        parser.add_argument("--port", type=int, default=None,
                            help="port to listen on (default: the PORT setting or env var, "
                                 "8000; 0 picks a free port)")
        parser.add_argument("--processes", type=int, default=None,
                            help="worker processes: 1 (default) serves in this process, "
                                 "0 forks one per CPU")

    def handle(self, args):
        settings = self.settings
        address = args.address or settings.get("ADDRESS", "127.0.0.1")
        port = settings.PORT if args.port is None else args.port
        processes = settings.get("PROCESSES", 1) if args.processes is None else args.processes
        if not 0 <= port <= 65535:
            raise CommandError(f"--port must be from 0 to 65535, not {port}", returncode=2)
        if processes < 0:
            raise CommandError("--processes must be 0 (one per CPU) or more", returncode=2)
        if processes != 1 and settings.get("AUTORELOAD"):
            raise CommandError("AUTORELOAD works with one process only")
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        try:
            sockets = tornado.netutil.bind_sockets(port, address)
        except OSError as exc:
            raise CommandError(f"cannot listen on {address}:{port}: "
                               f"{exc.strerror or exc}") from None
        port = sockets[0].getsockname()[1]
        if settings.get("FIRST_RUN_DEMO"):
            asyncio.run(self.first_run(address, port))
        worker = None
        if processes != 1:
            worker = fork_workers(processes)
        asyncio.run(self.serve(sockets, address, port, worker))
        return 0

    async def first_run(self, address, port):
        """On an empty database (dev settings): the apps' first-run hooks, their box printed once.

        See ``core.management.firstrun``. Runs before any worker is forked; an
        unreachable database is left for ``serve`` to report.
        """
        host = "127.0.0.1" if address in ("", "0.0.0.0", "::") else address
        host = f"[{host}]" if ":" in host else host
        timeout = float(self.settings.get("DATABASE_PING_TIMEOUT", 2.0))
        async with self.database(bind=False) as db:
            try:
                await asyncio.wait_for(db.ping(), max(timeout, 5.0))
            except Exception:
                return
            run = await first_run(self.settings, self.registry, db,
                                  f"http://{host}:{port}/admin/")
        if run is not None and run.lines:
            self.write(run.box())

    async def serve(self, sockets, address, port, worker):
        app = make_app(self.settings, self.registry)
        timeout = float(self.settings.get("DATABASE_PING_TIMEOUT", 2.0))
        try:
            await asyncio.wait_for(app.db.ping(), max(timeout, 5.0))
        except Exception as exc:
            await app.db.close()
            reason = "no answer" if isinstance(exc, asyncio.TimeoutError) else \
                f"{type(exc).__name__}: {exc}"
            raise CommandError(f"database {redact_url(self.settings.DATABASE_URL)} is "
                               f"unreachable ({reason})") from None
        who = "" if worker is None else f" (worker {worker}, pid {os.getpid()})"

        def ready():
            self.write(f"Bastion serving http://{address}:{port}/ with {self.settings.module}, "
                       f"{app.db.backend} database{who}; Ctrl-C or SIGTERM stops it")
            sys.stdout.flush()

        await serve(app, sockets, ready=ready, stop_requested=lambda: bool(_stop_early))
        if worker is None:
            self.write("stopped")
