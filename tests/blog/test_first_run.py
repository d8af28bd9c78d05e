"""The first run: on an empty database with the dev settings, runserver makes a superuser
(password printed once, in a box) and loads the demo data; never otherwise."""
import asyncio
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from apps.accounts.models import User
from apps.blog.models import Article, Category
from core.conf import load_settings
from core.management.firstrun import first_run
from support import SyncBrowser
from support.cli import free_port, outer_env

REPO = Path(__file__).resolve().parents[2]
ADMIN_URL = "http://127.0.0.1:8000/admin/"
LOGIN_LINE = re.compile(r"Log in at (http://\S+/admin/) as admin / (\S+)")


def dev_settings(tmp_path, **overrides):
    return load_settings("settings.dev", environ={}, VAR_DIR=tmp_path / "var",
                         DATABASE_URL="memory:", BCRYPT_ROUNDS=4, **overrides)


def test_only_the_dev_settings_turn_it_on(tmp_path):
    assert dev_settings(tmp_path).FIRST_RUN_DEMO is True
    assert load_settings("settings.test", environ={}).FIRST_RUN_DEMO is False
    production = load_settings("settings.production", environ={"COOKIE_SECRET": "x" * 40})
    assert production.FIRST_RUN_DEMO is False


async def test_first_run_makes_a_superuser_and_loads_the_demo_once(tmp_path, registry, db):
    settings = dev_settings(tmp_path)
    run = await first_run(settings, registry, db, ADMIN_URL)
    assert run is not None
    box = run.box()
    match = LOGIN_LINE.search(box)
    assert match and match.group(1) == ADMIN_URL
    password = match.group(2)
    assert box.splitlines()[0].startswith("+--") and box.splitlines()[-1].startswith("+--")
    assert all(line.startswith("|") and line.endswith("|") for line in box.splitlines()[1:-1])
    assert len({len(line) for line in box.splitlines()}) == 1

    admin = await User.authenticate("admin", password)
    assert admin is not None and admin.is_superuser and admin.is_active
    assert await Article.count({"author": admin.id}) == 60 and await Category.count() == 6

    assert await first_run(settings, registry, db, ADMIN_URL) is None     # users exist now
    assert await User.count() == 1 and await Article.count() == 60


async def test_two_servers_starting_at_once_make_one_first_run(tmp_path, registry, db):
    settings = dev_settings(tmp_path)
    runs = await asyncio.gather(*(first_run(settings, registry, db, ADMIN_URL)
                                  for _ in range(3)))
    assert sum(run is not None for run in runs) == 1
    assert await User.count() == 1 and await Article.count() == 60
    assert await Category.count() == 6


async def test_a_failed_first_run_can_be_tried_again(tmp_path, registry, db):
    settings = dev_settings(tmp_path)
    accounts = registry.apps["accounts"]

    async def broken(run):
        raise RuntimeError("disk full")

    accounts.first_run = broken
    with pytest.raises(RuntimeError, match="disk full"):
        await first_run(settings, registry, db, ADMIN_URL)
    assert await User.count() == 0 and await Article.count() == 0
    del accounts.first_run                                   # the real hook again
    run = await first_run(settings, registry, db, ADMIN_URL)
    assert run is not None and LOGIN_LINE.search(run.box())
    assert await User.count() == 1 and await Article.count() == 60


async def test_not_when_any_user_exists(tmp_path, registry, db, make_user):
    await make_user("alice")
    assert await first_run(dev_settings(tmp_path), registry, db, ADMIN_URL) is None
    assert await User.count() == 1 and await Article.count() == 0


async def test_not_with_the_test_settings(registry, db):
    settings = load_settings("settings.test", environ={})
    assert await first_run(settings, registry, db, ADMIN_URL) is None
    assert await User.count() == 0 and await Article.count() == 0


# -- the real thing: manage.py runserver in a subprocess ---------------------------------------

def dev_env(tmp_path):
    env = outer_env()
    env.update(BASTION_SETTINGS="settings.dev", VAR_DIR=str(tmp_path / "var"),
               DATABASE_URL=f"embedded:{tmp_path / 'db' / 'bastion.sqlite3'}",
               COOKIE_SECRET="first-run-test-secret", BCRYPT_ROUNDS="4",
               PYTHONUNBUFFERED="1")
    return env


class Runserver:
    """``manage.py runserver`` with the dev settings; ``output`` is everything it printed."""

    def __init__(self, tmp_path, name):
        self.port = free_port()
        self.log = tmp_path / f"{name}.log"
        self.handle = open(self.log, "w")
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "manage.py"), "runserver", "--port", str(self.port)],
            cwd=REPO, env=dev_env(tmp_path), stdout=self.handle, stderr=subprocess.STDOUT)

    @property
    def output(self):
        self.handle.flush()
        return self.log.read_text()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_until_serving(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"runserver exited {self.process.returncode}:\n"
                                     f"{self.output}")
            if "Bastion serving" in self.output:
                return self.output
            time.sleep(0.1)
        raise AssertionError(f"runserver did not start in {timeout} s:\n{self.output}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.handle.close()


@pytest.fixture
def servers():
    started = []
    yield started
    for server in started:
        server.stop()


def test_runserver_first_run_prints_the_password_once_and_it_logs_in(tmp_path, servers):
    first = Runserver(tmp_path, "first")
    servers.append(first)
    output = first.wait_until_serving()
    found = LOGIN_LINE.findall(output)
    assert len(found) == 1, output
    url, password = found[0]
    assert url == f"http://127.0.0.1:{first.port}/admin/"
    assert "Loaded the blog demo data: 6 categories, 60 articles." in output
    assert "Loaded the shop demo data: 8 customers, 24 orders." in output
    assert output.index("Log in at") < output.index("Bastion serving")

    browser = SyncBrowser(first.url(""))
    status, _, _ = browser.open("/admin/login/")
    assert status == 200 and browser.cookie("_xsrf")
    status, where, _ = browser.open("/admin/login/", {
        "username": "admin", "password": "not-" + password, "_xsrf": browser.cookie("_xsrf")})
    assert urllib.parse.urlsplit(where).path == "/admin/login/"     # refused: the form again
    status, where, page = browser.open("/admin/login/", {
        "username": "admin", "password": password, "_xsrf": browser.cookie("_xsrf")})
    assert status == 200 and urllib.parse.urlsplit(where).path == "/admin/", page
    status, _, page = browser.open("/admin/")
    assert status == 200
    assert "/admin/blog/article/" in page and "/admin/accounts/user/" in page
    first.stop()
    assert first.process.returncode == 0

    second = Runserver(tmp_path, "second")
    servers.append(second)
    output = second.wait_until_serving()
    assert "Log in at" not in output and "demo data" not in output
    assert password not in output
    again = SyncBrowser(second.url(""))
    again.open("/admin/login/")
    status, where, _ = again.open("/admin/login/", {
        "username": "admin", "password": password, "_xsrf": again.cookie("_xsrf")})
    assert urllib.parse.urlsplit(where).path == "/admin/"             # same password still
