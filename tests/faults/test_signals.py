"""``manage.py runserver --processes 2`` and stop signals, as a terminal and systemd send them.

Ctrl-C in a terminal sends SIGINT to the whole foreground process group, and systemd's
default ``KillMode=control-group`` sends SIGTERM to every process of the service: the
parent and its workers get the signal at once. Each test starts a real server in its own
session (its own process group) on an embedded database in a temp ``VAR_DIR``, waits for
``/healthz``, signals it, and checks that every process exits within a bound, the parent
with status 0, and that no worker was forked again.
"""
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from support.cli import free_port, outer_env

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or not hasattr(os, "killpg"),
                                reason="needs fork and process groups (POSIX)")

REPO = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60
STOP_SECONDS = 20          # settings.test has SHUTDOWN_TIMEOUT = 5


class Server:
    """``manage.py runserver --processes N`` in a new session; output in a file."""

    def __init__(self, tmp_path, spawned, processes=2):
        self.port = free_port()
        self.log = tmp_path / f"runserver-{self.port}.log"
        env = outer_env()
        env.update(BASTION_SETTINGS="settings.test", VAR_DIR=str(tmp_path / "var"),
                   DATABASE_URL=f"embedded:{tmp_path / 'db' / 'bastion.sqlite3'}",
                   PYTHONUNBUFFERED="1")
        with open(self.log, "w") as handle:
            self.process = subprocess.Popen(
                [sys.executable, str(REPO / "manage.py"), "runserver", "--port",
                 str(self.port), "--processes", str(processes)],
                cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT,
                start_new_session=True)
        spawned.append(self.process)
        self.pgid = self.process.pid          # a session leader: its pid is the group id

    def output(self):
        return self.log.read_text()

    def worker_pids(self):
        return [int(pid) for pid in re.findall(r"\(worker \d+, pid (\d+)\)", self.output())]

    def healthz(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz",
                                        timeout=2) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def wait_until_serving(self, workers):
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"runserver exited {self.process.returncode}:\n"
                                     f"{self.output()}")
            try:
                if self.healthz() == 200 and len(self.worker_pids()) >= workers:
                    return self.worker_pids()
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"runserver did not serve in {STARTUP_SECONDS} s:\n"
                             f"{self.output()}")

    def wait_for_exit(self):
        """The parent's exit status; fails if it or any process of its group is left."""
        try:
            status = self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"runserver still running {STOP_SECONDS} s after the "
                                 f"signal:\n{self.output()}") from None
        deadline = time.monotonic() + 5
        while group_alive(self.pgid):
            if time.monotonic() > deadline:
                raise AssertionError(f"processes of group {self.pgid} outlived the parent:\n"
                                     f"{self.output()}")
            time.sleep(0.05)
        return status


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def assert_stopped_cleanly(server, workers):
    output = server.output()
    assert "restarting" not in output, output        # no worker was forked again
    assert len(server.worker_pids()) == len(workers), output
    assert "Traceback" not in output, output
    assert output.rstrip().endswith("stopped"), output
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT],
                         ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_the_whole_process_group_stops_every_process(tmp_path, spawned, signum):
    server = Server(tmp_path, spawned)
    workers = server.wait_until_serving(2)
    assert len(set(workers)) == 2 and server.process.pid not in workers
    os.killpg(server.pgid, signum)
    assert server.wait_for_exit() == 0, server.output()
    assert_stopped_cleanly(server, workers)


def test_sigterm_to_the_parent_alone_stops_every_process(tmp_path, spawned):
    server = Server(tmp_path, spawned)
    workers = server.wait_until_serving(2)
    server.process.send_signal(signal.SIGTERM)
    assert server.wait_for_exit() == 0, server.output()
    assert_stopped_cleanly(server, workers)


def test_a_repeated_group_signal_while_stopping_changes_nothing(tmp_path, spawned):
    server = Server(tmp_path, spawned)
    workers = server.wait_until_serving(2)
    for signum in (signal.SIGINT, signal.SIGINT, signal.SIGTERM):   # impatient Ctrl-C
        os.killpg(server.pgid, signum)
        time.sleep(0.05)
    assert server.wait_for_exit() == 0, server.output()
    assert_stopped_cleanly(server, workers)


def test_a_crashed_worker_is_replaced_and_the_group_still_stops(tmp_path, spawned):
    server = Server(tmp_path, spawned)
    workers = server.wait_until_serving(2)
    os.kill(workers[0], signal.SIGKILL)               # a crash, not a stop request
    deadline = time.monotonic() + STARTUP_SECONDS
    while len(server.worker_pids()) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    replaced = server.worker_pids()
    assert len(replaced) == 3 and "restarting" in server.output(), server.output()
    assert server.healthz() == 200
    os.killpg(server.pgid, signal.SIGTERM)
    assert server.wait_for_exit() == 0, server.output()
    for pid in replaced:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
