"""``manage.py startapp``: the scaffold is a working app once its line is in INSTALLED_APPS.

The project (core, apps, settings, templates, static, manage.py, and setup.cfg with
tests/ for the ``support`` package the generated tests use) is copied to a temporary
folder; ``startapp pantry`` runs there, then the checks a newcomer would make:
``ensure_indexes``/``check`` pass, the model is registered, the app's own tests pass
(one of them logs in and reads the admin list over HTTP through ``support``), and its
admin pages and own page answer over HTTP.
"""
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import PASSWORD, SyncBrowser
from support.cli import free_port, one_error_line, outer_env

REPO = Path(__file__).resolve().parents[2]
COPIED = ("core", "apps", "settings", "templates", "static", "manage.py", "setup.cfg", "tests")
EXPECTED_FILES = [
    "apps/pantry/__init__.py", "apps/pantry/admin.py", "apps/pantry/app.py",
    "apps/pantry/forms.py", "apps/pantry/handlers.py", "apps/pantry/models.py",
    "apps/pantry/templates/pantry/summary.html", "apps/pantry/tests/__init__.py",
    "apps/pantry/tests/conftest.py", "apps/pantry/tests/test_pantry.py",
]


class Project:
    def __init__(self, root):
        self.root = root
        self.env = outer_env()
        self.env.update(BASTION_SETTINGS="settings.test", VAR_DIR=str(root / "var"),
                        DATABASE_URL=f"embedded:{root / 'var' / 'pantry.sqlite3'}",
                        PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")

    def run(self, *args, input=None, timeout=120):
        return subprocess.run([sys.executable, *args], cwd=self.root, env=self.env, input=input,
                              capture_output=True, text=True, timeout=timeout)

    def manage(self, *args, **kwargs):
        return self.run("manage.py", *args, **kwargs)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, root / name)
    shutil.rmtree(root / "apps" / "pantry", ignore_errors=True)
    return Project(root)


@pytest.fixture(scope="module")
def pantry(project):
    """``startapp pantry``, then the INSTALLED_APPS line the command asks for."""
    created = project.manage("startapp", "pantry")
    assert created.returncode == 0, created.stderr
    project.startapp_output = created.stdout
    base = project.root / "settings" / "base.py"
    base.write_text(base.read_text().replace('    "apps.blog",\n',
                                             '    "apps.blog",\n    "apps.pantry",\n'))
    assert '"apps.pantry"' in base.read_text()
    return project


def test_startapp_writes_the_app_and_says_what_to_do_next(pantry):
    root = pantry.root
    written = sorted(p.relative_to(root).as_posix() for p in (root / "apps" / "pantry").rglob("*")
                     if p.is_file() and "__pycache__" not in p.parts)
    assert written == sorted(EXPECTED_FILES)
    assert "add \"apps.pantry\" to INSTALLED_APPS" in pantry.startapp_output
    text = "".join((root / f).read_text() for f in EXPECTED_FILES)
    assert "%%" not in text and "app_name" not in text
    assert "class PantryApp(App):" in (root / "apps/pantry/app.py").read_text()
    assert 'verbose_name = "Pantry"' in (root / "apps/pantry/app.py").read_text()
    lint = pantry.run("-m", "flake8", "--max-line-length", "100", "apps/pantry")
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_a_two_word_name_gets_class_and_display_forms(project):
    result = project.manage("startapp", "book_club")
    assert result.returncode == 0, result.stderr
    app = (project.root / "apps/book_club/app.py").read_text()
    shutil.rmtree(project.root / "apps" / "book_club")
    assert "class BookClubApp(App):" in app
    assert 'label = "book_club"' in app and 'verbose_name = "Book club"' in app


def test_bad_or_taken_names_are_one_line_errors_and_change_nothing(project):
    before = sorted(p.name for p in (project.root / "apps").iterdir())
    for name, message in [
        ("Pantry", "'Pantry' is not a valid app name"),
        ("9lives", "'9lives' is not a valid app name"),
        ("my-app", "'my-app' is not a valid app name"),
        ("import", "'import' is not a valid app name"),
        ("accounts", "apps/accounts already exists"),
    ]:
        result = project.manage("startapp", name)
        assert result.returncode == 1, (name, result.stdout, result.stderr)
        assert one_error_line(result).startswith(f"error: {message}")
    assert sorted(p.name for p in (project.root / "apps").iterdir()) == before
    usage = project.manage("startapp")
    assert usage.returncode == 2


def test_the_new_app_is_installed_indexed_and_registered(pantry):
    indexes = pantry.manage("ensure_indexes")
    assert indexes.returncode == 0, indexes.stderr
    assert re.search(r"pantry\.item:\s+name_1, created_-1", indexes.stdout), indexes.stdout
    check = pantry.manage("check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert re.search(r"^apps: \d+ installed \(.*\bpantry\b", check.stdout, re.M), check.stdout
    shell = pantry.manage("shell", "-c", "print(registry.get_model('pantry.item').__module__)")
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.strip() == "apps.pantry.models"


def test_the_generated_test_passes(pantry):
    result = pantry.run("-m", "pytest", "apps/pantry/tests", "-q", "-p", "no:cacheprovider")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b4 passed\b", result.stdout), result.stdout


# -- over HTTP --------------------------------------------------------------------------------

@pytest.fixture
def served_pantry(pantry):
    made = pantry.manage("createsuperuser", "--username", "root", "--email", "root@example.com",
                         "--password-stdin", input=PASSWORD + "\n")
    assert made.returncode == 0 or "already exists" in made.stderr, made.stderr
    made = pantry.manage("createuser", "nobody", "--email", "nobody@example.com",
                         "--password-stdin", input=PASSWORD + "\n")
    assert made.returncode == 0 or "already exists" in made.stderr, made.stderr
    teapot = pantry.manage("shell", "-c", "from apps.pantry.models import Item\n"
                           "if not await Item.count({'name': 'Teapot'}):\n"
                           "    await Item.create(name='Teapot', description='Round')")
    assert teapot.returncode == 0, teapot.stderr
    port = free_port()
    log = pantry.root / "runserver.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "manage.py", "runserver", "--port", str(port)],
                                   cwd=pantry.root, env=pantry.env, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "Bastion serving" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(30)


def test_the_admin_and_the_apps_own_page_answer_over_http(served_pantry):
    root = SyncBrowser(served_pantry)
    status, where, _ = root.login("root")
    assert (status, where) == (200, "/admin/")

    status, _, page = root.open("/admin/pantry/item/")
    assert status == 200 and "Teapot" in page

    status, _, page = root.open("/pantry/")
    assert status == 200
    assert "Teapot" in page and "/admin/pantry/item/" in page

    # the admin's add page uses the app's form class (its own rule shows as a field error)
    status, where, page = root.open("/admin/pantry/item/add/", {"name": "12345"})
    assert status == 200 and where == "/admin/pantry/item/add/"
    assert "A name needs at least one letter." in page
    status, where, page = root.open("/admin/pantry/item/add/", {"name": "Kettle"})
    assert (status, where) == (200, "/admin/pantry/item/") and "Kettle" in page


def test_the_apps_own_page_needs_a_login_and_the_read_permission(served_pantry):
    anonymous = SyncBrowser(served_pantry)
    status, where, _ = anonymous.open("/pantry/")
    assert (status, where) == (200, "/admin/login/")            # redirected to log in

    nobody = SyncBrowser(served_pantry)
    assert nobody.login("nobody")[1] == "/admin/"
    status, _, page = nobody.open("/pantry/")
    assert status == 403 and "Teapot" not in page
