"""``manage.py runserver [--address A] [--port P] [--processes N]``: serve the admin.

With N > 1 (or 0: one per CPU) the listening sockets are bound first, then a
``Supervisor`` forks the workers, each running its own event loop and database
connection. SIGINT/SIGTERM shut down gracefully: stop accepting, finish in-flight
requests (``SHUTDOWN_TIMEOUT``), close the database. Whether the signal reaches the
parent alone or the whole process group (Ctrl-C in a terminal, systemd's default
``KillMode=control-group``), the parent passes it on, forks no new worker, and
exits 0 once every worker has stopped; a worker that crashes while serving is
replaced. Every process catches the stop signals from start to exit (a second one
while stopping is ignored), so none is killed half-way. With ``FIRST_RUN_DEMO`` (dev) on an empty
database, the apps' first-run hooks run first (``core.management.firstrun``).
"""
import asyncio
import logging
import os
import signal
import sys
import time

import tornado.netutil

from core.app import make_app, serve
from core.i18n import gettext as _
from core.i18n import gettext_lazy as _l
from core.management.base import Command, CommandError
from core.management.commands.check import redact_url
from core.management.firstrun import first_run

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
MAX_RESTARTS = 100              # worker crashes a supervisor replaces before giving up
KILL_GRACE_SECONDS = 5.0        # after SHUTDOWN_TIMEOUT, before workers still running get SIGKILL
_stop_early = []  # a worker that got a stop signal before its event loop ran

log = logging.getLogger("bastion.runserver")


def _remember_stop(signum, frame):
    _stop_early.append(signum)


def ignore_stop_signals():
    """Stopped: ignore SIGINT/SIGTERM from here to exit.

    Python puts the default action back while the interpreter finalizes, so a late
    copy of the signal (the process group's, the supervisor's, a second Ctrl-C)
    would otherwise kill a process that has already shut down cleanly.
    """
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def _describe(status):
    if os.WIFSIGNALED(status):
        return f"was killed by signal {os.WTERMSIG(status)}"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"


class Supervisor:
    """The parent of ``--processes N``: forks the workers, replaces a crashed one, and on
    SIGINT/SIGTERM stops them all and exits.

    A stop signal may reach the parent alone (``kill PID``) or the whole process
    group at once (Ctrl-C in a terminal, systemd's ``KillMode=control-group``). Either
    way the parent passes it on to every worker, never forks again, waits up to
    ``SHUTDOWN_TIMEOUT`` + ``KILL_GRACE_SECONDS`` for them to finish gracefully (then
    SIGKILLs the rest), and exits 0 when each worker exited 0.
    """

    def __init__(self, count, shutdown_timeout):
        self.count = count
        self.shutdown_timeout = shutdown_timeout
        self.children = {}          # pid -> worker number
        self.stop_signal = None     # the first SIGINT/SIGTERM the parent got
        self.stop_deadline = None
        self.restarts = 0
        self.failed = False

    def fork(self, number):
        """Fork worker ``number``; returns it in the child, ``None`` in the parent."""
        pid = os.fork()
        if pid == 0:
            # a worker: until its event loop takes over, just remember a stop signal
            for signum in STOP_SIGNALS:
                signal.signal(signum, _remember_stop)
            return number
        self.children[pid] = number
        return None

    def request_stop(self, signum, frame=None):
        """The parent's SIGINT/SIGTERM handler: pass the signal on, stop forking."""
        if self.stop_signal is None:
            self.stop_signal = signum
            self.stop_deadline = time.monotonic() + self.shutdown_timeout + KILL_GRACE_SECONDS
        self.signal_children(signum)

    def signal_children(self, signum):
        for pid in list(self.children):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    def run(self):
        """Fork the workers and supervise them. Returns the worker's number in a worker,
        ``None`` in the parent once every worker has stopped (``status`` says how)."""
        for signum in STOP_SIGNALS:
            signal.signal(signum, _remember_stop)       # a signal before forking is kept
        for number in range(self.count):
            if _stop_early:
                break
            if self.fork(number) is not None:
                return number
        for signum in STOP_SIGNALS:
            signal.signal(signum, self.request_stop)
        if _stop_early:
            self.request_stop(_stop_early[-1])
        while self.children:
            number = self.reap()
            if number is None:
                continue
            if self.fork(number) is not None:
                return number
        return None

    @property
    def status(self):
        """The parent's exit status: 0 when every worker stopped cleanly when asked."""
        return 1 if self.failed else 0

    def reap(self):
        """Wait a little for a worker to end; the number of one to fork again, or ``None``."""
        if self.stop_deadline is not None and time.monotonic() > self.stop_deadline:
            log.warning("workers still running %.0f s after the stop signal; killing them",
                        self.shutdown_timeout + KILL_GRACE_SECONDS)
            self.failed = True
            self.signal_children(signal.SIGKILL)
            self.stop_deadline = None
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            self.children.clear()
            return None
        if pid == 0:
            time.sleep(0.05)
            return None
        number = self.children.pop(pid, None)
        if number is None:
            return None
        clean = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        if self.stop_signal is not None:
            if not clean:
                self.failed = True
                log.warning("worker %d (pid %d) %s while stopping", number, pid,
                            _describe(status))
            return None
        if clean:
            log.info("worker %d (pid %d) exited", number, pid)
            return None
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            log.error("worker %d (pid %d) %s; too many restarts, stopping", number, pid,
                      _describe(status))
            self.failed = True
            self.request_stop(signal.SIGTERM)
            return None
        log.warning("worker %d (pid %d) %s; restarting", number, pid, _describe(status))
        return number


class RunserverCommand(Command):
    name = "runserver"
    help = _l("Serve the admin over HTTP until Ctrl-C or SIGTERM (graceful shutdown).")

    def add_arguments(self, parser):
        parser.add_argument("--address", default=None,
                            help=_("interface to listen on (default: the ADDRESS setting, "
                                   "127.0.0.1)"))
        parser.add_argument("--port", type=int, default=None,
                            help=_("port to listen on (default: the PORT setting or env var, "
                                   "8000; 0 picks a free port)"))
        parser.add_argument("--processes", type=int, default=None,
                            help=_("worker processes: 1 (default) serves in this process, "
                                   "0 forks one per CPU"))

    def check_admin(self):
        """Refuse to start with a misconfigured ``ModelAdmin`` (each error on one line)."""
        from core.admin.sites import AdminSite
        problems = AdminSite(self.registry).check()
        for problem in problems:
            self.warn(str(problem))
        if problems:
            raise CommandError(_("the admin is misconfigured (see above); nothing was "
                                 "started"))

    def handle(self, args):
        settings = self.settings
        address = args.address or settings.get("ADDRESS", "127.0.0.1")
        port = settings.PORT if args.port is None else args.port
        processes = settings.get("PROCESSES", 1) if args.processes is None else args.processes
        if not 0 <= port <= 65535:
            raise CommandError(_("--port must be from 0 to 65535, not %(port)s")
                               % {"port": port}, returncode=2)
        if processes < 0:
            raise CommandError(_("--processes must be 0 (one per CPU) or more"), returncode=2)
        if processes != 1 and settings.get("AUTORELOAD"):
            raise CommandError(_("AUTORELOAD works with one process only"))
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.check_admin()                     # before forking: a worker would fail forever
        try:
            sockets = tornado.netutil.bind_sockets(port, address)
        except OSError as exc:
            raise CommandError(_("cannot listen on %(address)s: %(reason)s") % {
                "address": f"{address}:{port}", "reason": exc.strerror or exc}) from None
        port = sockets[0].getsockname()[1]
        if settings.get("FIRST_RUN_DEMO"):
            asyncio.run(self.first_run(address, port))
        worker = None
        if processes != 1:
            asyncio.run(self.prepare_database())   # once, not raced by every worker
            supervisor = Supervisor(processes or os.cpu_count() or 1,
                                    float(settings.get("SHUTDOWN_TIMEOUT", 10.0)))
            worker = supervisor.run()
            if worker is None:                 # the parent: every worker has stopped
                ignore_stop_signals()
                for sock in sockets:
                    sock.close()
                self.write(_("stopped") if supervisor.status == 0 else
                           _("stopped (a worker did not stop cleanly)"))
                return supervisor.status
        for signum in STOP_SIGNALS:              # (workers have it already)
            signal.signal(signum, _remember_stop)
        asyncio.run(self.serve(sockets, address, port, worker))
        ignore_stop_signals()
        return 0

    async def prepare_database(self):
        """Before forking workers: every index, and the audit repair, made once by the
        parent (``core.app.ensure_all_indexes``); an unreachable database is left for
        each worker's ``serve`` to report."""
        from core.app import ensure_all_indexes
        async with self.database() as db:
            try:
                await asyncio.wait_for(db.ping(), 5.0)
            except Exception:
                return
            await ensure_all_indexes(self.registry, db, self.settings)

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
            reason = _("no answer") if isinstance(exc, asyncio.TimeoutError) else \
                f"{type(exc).__name__}: {exc}"
            raise CommandError(_("database %(url)s is unreachable (%(reason)s)") % {
                "url": redact_url(self.settings.DATABASE_URL), "reason": reason}) from None
        values = {"url": f"http://{address}:{port}/", "settings": self.settings.module,
                  "backend": app.db.backend, "worker": worker, "pid": os.getpid()}
        line = (_("Bastion serving %(url)s with %(settings)s, %(backend)s database; Ctrl-C or "
                  "SIGTERM stops it") if worker is None else
                _("Bastion serving %(url)s with %(settings)s, %(backend)s database (worker "
                  "%(worker)s, pid %(pid)s); Ctrl-C or SIGTERM stops it")) % values

        def ready():
            self.write(line)
            sys.stdout.flush()

        await serve(app, sockets, ready=ready, stop_requested=lambda: bool(_stop_early),
                    ensure_indexes=worker is None)
        if worker is None:
            self.write(_("stopped"))
