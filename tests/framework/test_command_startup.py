"""What a ``manage.py`` command imports before it runs: only what commands need.

Every command loads the installed apps (models, admin modules, commands), and the test
suite and operators start hundreds of them; a heavy library that only some request
handlers use must be imported by those handlers on first use.
"""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import runpy, sys
sys.argv = ["manage.py", "help"]
try:
    runpy.run_path("manage.py", run_name="__main__")
except SystemExit:
    pass
print("LOADED", " ".join(sorted(name for name in {LIBRARIES!r} if name in sys.modules)))
"""

# only the passkey pages use webauthn, which pulls in cryptography and pyasn1
REQUEST_ONLY_LIBRARIES = ("webauthn", "pyasn1", "pyasn1_modules")


def test_help_starts_without_the_libraries_only_requests_use():
    code = PROBE.replace("{LIBRARIES!r}", repr(REQUEST_ONLY_LIBRARIES))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = result.stdout.rsplit("LOADED", 1)[1].split()
    assert loaded == [], f"manage.py help imported {loaded}"


NAMED = """
import runpy, sys
sys.argv = ["manage.py", "loaddata", {path!r}]
try:
    runpy.run_path("manage.py", run_name="__main__")
except SystemExit:
    pass
print("LOADED", " ".join(sorted(name for name in sys.modules
                                if name.startswith("core.management.commands."))))
"""


def test_a_named_command_imports_its_own_module_not_every_command(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.touch()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("BASTION_") and key != "DATABASE_URL"}
    env.update(BASTION_SETTINGS="settings.test", DATABASE_URL=f"embedded:{tmp_path}/db.sqlite3",
               VAR_DIR=str(tmp_path / "var"))
    result = subprocess.run([sys.executable, "-c", NAMED.format(path=str(empty))], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert "holds none" in result.stdout
    loaded = result.stdout.rsplit("LOADED", 1)[1].split()
    assert loaded == ["core.management.commands.loaddata"], loaded


def test_find_command_answers_as_discovery_does(notes_app):
    from core.management import discover_commands, find_command
    from core.registry import Registry
    for registry in (None, Registry(installed_apps=[notes_app.package]).load()):
        discovered = discover_commands(registry)
        for name, info in discovered.items():
            found = find_command(registry, name)
            assert (found.command_class, found.source) == (info.command_class, info.source)
        for unknown in ("nope", "_tokens_common", "../help", "Help"):
            assert find_command(registry, unknown) is None
    assert find_command(registry, "hello").source == "notes"
