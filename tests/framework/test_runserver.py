"""``manage.py runserver`` as a real process: serves, stops cleanly, keeps data, forks."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from support.cli import REPO, free_port, manage, manage_env


class Server:
    """A runserver subprocess with its output in a file."""

    def __init__(self, env, tmp_path, *args):
        self.port = free_port()
        self.log = tmp_path / f"runserver-{self.port}.log"
        self.handle = open(self.log, "w")
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "manage.py"), "runserver", "--port", str(self.port),
             *args], cwd=REPO, env=env, stdout=self.handle, stderr=subprocess.STDOUT)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path, timeout=10):
        try:
            with urllib.request.urlopen(self.url(path), timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def wait_until_up(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"runserver exited {self.process.returncode}:\n"
                                     f"{self.output()}")
            try:
                status, _ = self.get("/healthz", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"runserver did not answer in {timeout} s:\n{self.output()}")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        finally:
            self.handle.close()

    def output(self):
        if not self.handle.closed:
            self.handle.flush()
        return self.log.read_text()

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.handle.close()


@pytest.fixture
def servers():
    started = []
    yield started
    for server in started:
        server.kill()


@pytest.fixture
def notes_env(tmp_path, notes_app):
    return manage_env(tmp_path, BASTION_SETTINGS=notes_app.settings_module,
                      PYTHONPATH=notes_app.root)


def test_runserver_serves_healthz_and_stops_cleanly_on_sigterm(tmp_path, servers):
    server = Server(manage_env(tmp_path), tmp_path)
    servers.append(server)
    server.wait_until_up()
    status, body = server.get("/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert server.stop() == 0
    output = server.output()
    assert f"serving http://127.0.0.1:{server.port}/" in output
    assert "Traceback" not in output and output.rstrip().endswith("stopped")


def test_data_survives_a_restart(tmp_path, notes_env, servers):
    wrote = manage(["shell", "-c",
                    "await db[Note._meta.collection].insert_one({'_id': 'n1', 'text': 'kept'})"],
                   notes_env)
    assert wrote.returncode == 0, wrote.stderr
    for _ in range(2):  # serve, stop, serve again: the note is still there
        server = Server(notes_env, tmp_path)
        servers.append(server)
        server.wait_until_up()
        status, body = server.get("/notes/n1")
        assert (status, json.loads(body)) == (200, {"id": "n1", "text": "kept"})
        assert server.get("/notes/n2")[0] == 404
        assert server.stop() == 0
    # and the server's startup created the model's indexes in the file
    check = manage(["check"], notes_env)
    assert check.returncode == 0, check.stderr


def test_sigterm_lets_an_in_flight_request_finish(tmp_path, notes_env, servers):
    server = Server(notes_env, tmp_path)
    servers.append(server)
    server.wait_until_up()
    marker = tmp_path / "request-started"
    result = {}

    def slow_request():
        result["response"] = server.get(f"/notes/slow?seconds=1.5&marker={marker}", timeout=20)

    thread = threading.Thread(target=slow_request)
    thread.start()
    deadline = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists(), server.output()
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    thread.join(20)
    assert result["response"] == (200, b"done")
    assert server.process.wait(20) == 0
    assert time.monotonic() - started >= 1.0  # it waited for the request
    with pytest.raises(OSError):  # and no longer accepts connections
        server.get("/healthz", timeout=2)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_runserver_with_two_processes_forwards_sigterm(tmp_path, servers):
    server = Server(manage_env(tmp_path), tmp_path, "--processes", "2")
    servers.append(server)
    server.wait_until_up()
    deadline = time.monotonic() + 15
    while server.output().count("serving http://") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    output = server.output()
    assert "(worker 0, pid" in output and "(worker 1, pid" in output, output
    assert server.get("/healthz")[0] == 200
    assert server.stop() == 0
    assert "restarting" not in server.output()


def test_runserver_refuses_a_busy_port(tmp_path, servers):
    server = Server(manage_env(tmp_path), tmp_path)
    servers.append(server)
    server.wait_until_up()
    clash = manage(["runserver", "--port", str(server.port)], manage_env(tmp_path))
    assert clash.returncode == 1
    assert clash.stderr.strip().startswith(f"error: cannot listen on 127.0.0.1:{server.port}")
    assert server.stop() == 0


def test_runserver_with_an_unreachable_database_fails_with_one_line(tmp_path):
    env = manage_env(tmp_path, DATABASE_URL=f"mongodb://127.0.0.1:{free_port()}/bastion"
                                            "?serverSelectionTimeoutMS=300")
    result = manage(["runserver", "--port", str(free_port())], env)
    assert result.returncode == 1
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("error: database mongodb://127.0.0.1:")
    assert "is unreachable" in errors[0]


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs process groups")
def test_a_group_sigterm_lets_in_flight_requests_finish_on_every_worker(tmp_path, notes_env):
    port = free_port()
    log = tmp_path / "group.log"
    with open(log, "w") as handle:
        process = subprocess.Popen(
            [sys.executable, str(REPO / "manage.py"), "runserver", "--port", str(port),
             "--processes", "2"], cwd=REPO, env=notes_env, stdout=handle,
            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while log.read_text().count("serving http://") < 2 and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            time.sleep(0.1)
        results, threads = [], []
        markers = [tmp_path / f"started-{n}" for n in range(4)]

        def slow(marker):
            url = f"http://127.0.0.1:{port}/notes/slow?seconds=1.5&marker={marker}"
            with urllib.request.urlopen(url, timeout=20) as response:
                results.append((response.status, response.read()))

        for marker in markers:
            threads.append(threading.Thread(target=slow, args=(marker,)))
            threads[-1].start()
        deadline = time.monotonic() + 10
        while not all(m.exists() for m in markers) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert all(m.exists() for m in markers), log.read_text()
        os.killpg(process.pid, signal.SIGTERM)        # systemd's KillMode=control-group
        for thread in threads:
            thread.join(20)
        assert results == [(200, b"done")] * 4, log.read_text()
        assert process.wait(20) == 0, log.read_text()
        assert "restarting" not in log.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
