"""Live updates across processes: two ``manage.py runserver`` on one embedded database.

Log in over HTTP on process A, open the socket on process B, write through A's admin:
B's feed reads A's audit entry and delivers it. ``manage.py revoke`` (a third process)
then silences B's socket without closing it.
"""
import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import tornado.httpclient

from core.live.wake import folder_for
from support import PASSWORD, CheckedBrowser
from support.cli import free_port, outer_env
from support.live import LiveClient

REPO = Path(__file__).resolve().parents[2]
ARTICLES = "/admin/blog/article/"
SETTINGS = """\
from settings.test import *  # noqa: F401,F403

LIVE_RECHECK_SECONDS = 0.5
LIVE_FEED_INTERVAL = 0.1
"""


@pytest.fixture
def env(tmp_path):
    (tmp_path / "pkgs").mkdir()
    module = f"live_settings_{os.getpid()}"
    (tmp_path / "pkgs" / f"{module}.py").write_text(SETTINGS)
    env = outer_env()
    env.update(BASTION_SETTINGS=module, PYTHONPATH=str(tmp_path / "pkgs"),
               VAR_DIR=str(tmp_path / "var"), COOKIE_SECRET="live-test-secret-shared-by-both",
               DATABASE_URL=f"embedded:{tmp_path / 'db' / 'bastion.sqlite3'}",
               PYTHONUNBUFFERED="1")
    return env


def manage(env, *args, input=None):
    result = subprocess.run([sys.executable, str(REPO / "manage.py"), *args], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=60, input=input)
    assert result.returncode == 0, result.stderr
    return result


class Runserver:
    def __init__(self, env, tmp_path):
        self.port = free_port()
        self.log = open(tmp_path / f"runserver-{self.port}.log", "w+")
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "manage.py"), "runserver", "--port", str(self.port)],
            cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.client = tornado.httpclient.AsyncHTTPClient(force_instance=True)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def output(self):
        if self.log.closed:
            return self.final_output
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def wait_until_up(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                with urllib.request.urlopen(self.url("/healthz"), timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"runserver did not come up:\n{self.output()}")

    def stop(self):
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.final_output = self.output()
        self.log.close()


def assert_clean_exits(*servers):
    """Each stopped server exited 0 with no traceback in its output."""
    logs = "".join(server.output() for server in servers)
    assert "Traceback" not in logs and all(s.process.returncode == 0 for s in servers), logs


async def test_an_event_written_on_one_process_reaches_a_socket_on_another(env, tmp_path):
    a, b = Runserver(env, tmp_path), Runserver(env, tmp_path)   # start while users are made
    try:
        users = [subprocess.Popen(
            [sys.executable, str(REPO / "manage.py"), "createuser", name, "--email",
             f"{name}@example.com", "--password-stdin", "--perm", f"blog.article={perms}"],
            cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
            for name, perms in (("alice", "read,write"), ("bob", "read"))]
        for process in users:
            _, errors = process.communicate(PASSWORD + "\n", timeout=60)
            assert process.returncode == 0, errors
        a.wait_until_up()
        b.wait_until_up()
        alice, bob = CheckedBrowser(a), CheckedBrowser(a)   # both log in on A
        await alice.login("alice")
        await bob.login("bob")
        alices = await LiveClient.connect(b.port, alice.cookies)   # sockets on B
        bobs = await LiveClient.connect(b.port, bob.cookies)
        for client in (alices, bobs):
            assert (await client.subscribe("blog.article"))["type"] == "subscribed"

        response = await alice.post(ARTICLES + "add/", {"title": "Across processes",
                                                        "body": "", "category": "",
                                                        "tags": ""})
        assert response.code == 303, response.text[:300]
        got = await bobs.event(event="created", timeout=10)
        assert got["model"] == "blog.article" and got["label"] == "Across processes"
        assert got["actor"] == "alice"
        assert (await alices.event(event="created", timeout=10))["mine"] is True

        # a third process takes Bob's read away; B notices at its next re-check
        manage(env, "revoke", "bob", "blog.article", "read")
        await asyncio.sleep(0.8)
        response = await alice.post(ARTICLES + "add/", {"title": "After the revoke",
                                                        "body": "", "category": "",
                                                        "tags": ""})
        assert response.code == 303
        await alices.event(event="created", label="After the revoke", timeout=10)
        assert await bobs.silent(0.5) == []
        # logging out on A ends Bob's socket on B (the session is gone from the database)
        assert (await bob.post("/admin/logout/", {})).code in (302, 303)
        assert await bobs.closed(timeout=5) == 4001
        alices.close()
    finally:
        a.stop()
        b.stop()
    assert_clean_exits(a, b)


SLOW_POLL_SETTINGS = """\
from settings.test import *  # noqa: F401,F403

LIVE_FEED_INTERVAL = 30
"""


async def test_a_write_wakes_the_other_processes_feed_at_once(env, tmp_path):
    """Both processes poll the log only every 30 s; a write on A still reaches B's socket
    within seconds: A wakes B through B's socket in the database's ``.live`` folder
    (``core.live.wake``). Stopped processes take their sockets and the folder with them."""
    module = env["BASTION_SETTINGS"] + "_slow"
    (tmp_path / "pkgs" / f"{module}.py").write_text(SLOW_POLL_SETTINGS)
    env = dict(env, BASTION_SETTINGS=module)
    manage(env, "createuser", "alice", "--email", "alice@example.com", "--password-stdin",
           "--perm", "blog.article=read,write", input=PASSWORD + "\n")
    a, b = Runserver(env, tmp_path), Runserver(env, tmp_path)
    folder = folder_for(tmp_path / "db" / "bastion.sqlite3")
    try:
        a.wait_until_up()
        b.wait_until_up()
        assert len(list(folder.glob("*.sock"))) == 2          # one per process
        alice = CheckedBrowser(a)
        await alice.login("alice")
        client = await LiveClient.connect(b.port, alice.cookies)
        assert (await client.subscribe("blog.article"))["type"] == "subscribed"
        await asyncio.sleep(0.5)                  # B's feed primed; its next poll is 30 s away
        for title in ("Woken once", "Woken twice"):
            started = time.monotonic()
            response = await alice.post(ARTICLES + "add/", {"title": title, "body": "",
                                                            "category": "", "tags": ""})
            assert response.code == 303, response.text[:300]
            got = await client.event(event="created", timeout=10)
            assert got["label"] == title
            assert time.monotonic() - started < 5
        client.close()
    finally:
        a.stop()
        b.stop()
    assert_clean_exits(a, b)
    assert not folder.exists()                           # the last one out removed it
