"""manage.py in a subprocess: help, errors, check, ensure_indexes, shell, app commands."""
import os
import pty
import select
import subprocess
import sys
import time

import pytest

from support.cli import REPO, free_port, manage, manage_env, one_error_line

CORE_COMMANDS = ("check", "ensure_indexes", "help", "runserver", "shell")


@pytest.fixture
def env(tmp_path):
    return manage_env(tmp_path)


@pytest.fixture
def notes_env(tmp_path, notes_app):
    return manage_env(tmp_path, BASTION_SETTINGS=notes_app.settings_module,
                      PYTHONPATH=notes_app.root)


def test_help_lists_every_command_with_its_line(env):
    result = manage(["help"], env)
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0]: line for line in result.stdout.splitlines()
              if line.startswith("  ")}
    assert set(CORE_COMMANDS) <= set(listed)
    assert "Serve the admin over HTTP" in listed["runserver"]
    assert manage([], env).stdout == result.stdout  # no command: the same list


@pytest.mark.parametrize("command", CORE_COMMANDS)
def test_every_command_has_help(env, command):
    result = manage([command, "--help"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: manage.py {command}")


def test_help_for_one_command(env):
    result = manage(["help", "runserver"], env)
    assert result.returncode == 0
    assert "--processes" in result.stdout and "--port" in result.stdout


def test_unknown_command_is_one_line_and_exit_2(env):
    result = manage(["frobnicate"], env)
    assert result.returncode == 2
    assert one_error_line(result) == ("error: unknown command 'frobnicate'; "
                                      "run 'manage.py help' to list the commands")
    assert result.stdout == ""


def test_bad_arguments_exit_2(env):
    result = manage(["runserver", "--port", "eighty"], env)
    assert result.returncode == 2
    assert "invalid int value: 'eighty'" in result.stderr


def test_check_ok_on_an_embedded_database(env, tmp_path):
    # a fresh database lacks the installed apps' indexes (if any); ensure_indexes makes them
    assert manage(["ensure_indexes"], env).returncode == 0
    result = manage(["check"], env)
    assert result.returncode == 0, result.stderr
    assert f"database: embedded:{tmp_path / 'db' / 'bastion.sqlite3'} (embedded) answers" \
        in result.stdout
    assert result.stdout.rstrip().endswith("OK")
    assert (tmp_path / "db" / "bastion.sqlite3").exists()


def test_check_fails_when_the_database_does_not_answer(tmp_path):
    env = manage_env(tmp_path, DATABASE_URL=f"mongodb://127.0.0.1:{free_port()}/bastion"
                                            "?serverSelectionTimeoutMS=300")
    result = manage(["check"], env)
    assert result.returncode == 1
    line = one_error_line(result)
    assert line.startswith("error: database mongodb://127.0.0.1:")
    assert "did not answer" in line or "unreachable" in line


def test_check_fails_on_missing_indexes_until_ensure_indexes(notes_env):
    missing = manage(["check"], notes_env)
    assert missing.returncode == 1
    assert one_error_line(missing) == ("error: missing indexes: notes.note (title_1, "
                                       "title_text); run 'manage.py ensure_indexes'")
    created = manage(["ensure_indexes"], notes_env)
    assert created.returncode == 0, created.stderr
    assert created.stdout.splitlines()[0].split() == ["notes.note:", "title_1,", "title_text"]
    ok = manage(["check"], notes_env)
    assert ok.returncode == 0, ok.stderr
    assert "apps: 1 installed (notes), 1 models" in ok.stdout
    assert "indexes: 2 declared, all present" in ok.stdout


def test_ensure_indexes_without_models_still_indexes_core_collections(tmp_path):
    (tmp_path / "noapps.py").write_text("from settings.test import *\nINSTALLED_APPS = []\n")
    env = manage_env(tmp_path, BASTION_SETTINGS="noapps", PYTHONPATH=tmp_path)
    result = manage(["ensure_indexes"], env)
    assert result.returncode == 0, result.stderr
    owners = {line.split(":")[0]: line for line in result.stdout.strip().splitlines()}
    assert set(owners) == {"sessions, login_failures", "api_tokens", "password_reset_requests"}
    assert "expires_at" in owners["sessions, login_failures"]


def test_unknown_installed_app_fails_every_command_with_one_line(tmp_path):
    (tmp_path / "badsettings.py").write_text(
        "from settings.test import *\nINSTALLED_APPS = ['apps.nope_not_here']\n")
    env = manage_env(tmp_path, BASTION_SETTINGS="badsettings", PYTHONPATH=tmp_path)
    result = manage(["check"], env)
    assert result.returncode == 1
    assert one_error_line(result) == ("error: INSTALLED_APPS entry 'apps.nope_not_here' "
                                      "cannot be imported (no module named 'apps.nope_not_here')")
    listing = manage(["help"], env)  # help still works, and says why app commands are missing
    assert listing.returncode == 0 and "runserver" in listing.stdout
    assert "apps.nope_not_here" in listing.stderr


def test_shell_c_prints(env):
    result = manage(["shell", "-c", "print(1)"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1\n"


def test_shell_c_top_level_await(env):
    result = manage(["shell", "-c", "print(await db.ping())"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "None\n"


def test_shell_c_exception_is_one_line_exit_1(env):
    result = manage(["shell", "-c", "1/0"], env)
    assert result.returncode == 1
    assert one_error_line(result) == "error: ZeroDivisionError: division by zero"
    syntax = manage(["shell", "-c", "print(("], env)
    assert syntax.returncode == 1
    assert one_error_line(syntax).startswith("error: SyntaxError:")


def test_shell_preloads_settings_registry_and_models(notes_env):
    code = ("print(settings.module, type(db).__name__, Note._meta.key, "
            "registry.get_model('notes.note') is Note, sorted(models))")
    result = manage(["shell", "-c", code], notes_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1:4] == ["EmbeddedDatabase", "notes.note", "True"]


def test_shell_runs_piped_code_and_data_persists(env):
    write = manage(["shell", "-c",
                    "await db['memo'].insert_one({'_id': 'm1', 'text': 'persisted'})"], env)
    assert write.returncode == 0, write.stderr
    script = "doc = await db['memo'].find_one({'_id': 'm1'})\nprint(doc['text'])\n"
    read = manage(["shell"], env, input=script)
    assert read.returncode == 0, read.stderr
    assert read.stdout == "persisted\n"


def test_app_command_is_listed_and_runs(notes_env):
    listing = manage(["help"], notes_env)
    assert "[notes] commands:" in listing.stdout
    assert "Say hello from the notes app." in listing.stdout
    result = manage(["hello", "ada"], notes_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello, ada, from Notes\n"


def test_interactive_shell_awaits_at_the_prompt(env):
    """On a terminal, shell is an asyncio REPL: top-level await at the >>> prompt."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, str(REPO / "manage.py"), "shell"], cwd=REPO,
                               env=env, stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    output = b""

    def read_until(marker, timeout=20):
        nonlocal output
        deadline = time.monotonic() + timeout
        while marker not in output and time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.2)
            if ready:
                try:
                    output += os.read(controller, 4096)
                except OSError:
                    break
        return marker in output

    try:
        assert read_until(b">>> "), output
        assert b"Preloaded:" in output and b"registry" in output
        os.write(controller, b"n = await db['repl'].count_documents({})\n")
        os.write(controller, b"print('count is', n + 41)\n")
        assert read_until(b"count is 41"), output
        # wait for the next prompt: a Ctrl-D typed while the REPL is busy can be lost
        printed = output.index(b"count is 41")
        deadline = time.monotonic() + 20
        while b">>> " not in output[printed:] and time.monotonic() < deadline:
            read_until(b"\x00", timeout=0.2)
        assert b">>> " in output[printed:], output
        os.write(controller, b"\x04")  # Ctrl-D ends the REPL
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
