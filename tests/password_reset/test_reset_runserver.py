"""The issue's "done when": on a fresh clone (the dev settings, ``EMAIL_URL=console:``) a
user who forgot their password gets the link printed by the server, sets a new password
and logs in. ``manage.py runserver`` runs as a real process; a blocking client drives it."""
import subprocess
import sys
import time

import pytest

from support import NEW_PASSWORD, SyncBrowser
from support.cli import REPO, free_port, manage_env
from support.smtp import LINK_RE


@pytest.fixture
def dev_server(tmp_path):
    port = free_port()
    log = tmp_path / "runserver.log"
    with open(log, "w") as out:
        env = manage_env(tmp_path, BASTION_SETTINGS="settings.dev", BCRYPT_ROUNDS=4)
        env.pop("EMAIL_URL", None)                              # the dev default: console:
        process = subprocess.Popen([sys.executable, str(REPO / "manage.py"), "runserver",
                                    "--port", str(port)], cwd=REPO, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
        try:
            yield f"http://127.0.0.1:{port}", log, process
        finally:
            process.terminate()
            process.wait(30)


def wait_for(predicate, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no {what} within {timeout} s")


def test_the_dev_server_prints_the_link_and_the_user_sets_a_new_password(dev_server):
    base, log, process = dev_server
    wait_for(lambda: "Log in at" in log.read_text() or process.poll() is not None,
             "first-run box")
    assert process.poll() is None, log.read_text()
    browser = SyncBrowser(base)
    status, path, text = browser.open("/admin/login/")
    assert status == 200 and "Forgot your password?" in text
    browser.open("/admin/password_reset/")
    status, path, text = browser.open("/admin/password_reset/",
                                      {"email": "admin@example.com"})
    assert (status, path) == (200, "/admin/password_reset/done/")
    link = wait_for(lambda: LINK_RE.findall(log.read_text()), "reset link in the output")[0]
    assert link.startswith(base + "/admin/password_reset/")
    status, path, text = browser.open(link[len(base):])
    assert status == 200 and path.endswith("/set-password/") and "Set a new password" in text
    status, path, text = browser.open(path, {"new_password1": NEW_PASSWORD,
                                             "new_password2": NEW_PASSWORD})
    assert (status, path) == (200, "/admin/login/")
    assert "Your password has been set" in text
    status, path, _ = SyncBrowser(base).login("admin", NEW_PASSWORD)
    assert (status, path) == (200, "/admin/")
