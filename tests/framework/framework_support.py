"""Helpers shared by the framework tests (subprocesses of manage.py, free ports)."""
import socket
import subprocess
import sys
from pathlib import Path

from http_kit import outer_env

REPO = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage_env(tmp_path, **extra):
    """Environment for ``manage.py`` in a subprocess: test settings, an embedded temp DB."""
    env = outer_env()
    env.update(BASTION_SETTINGS="settings.test", VAR_DIR=str(tmp_path / "var"),
               DATABASE_URL=f"embedded:{tmp_path / 'db' / 'bastion.sqlite3'}",
               PYTHONUNBUFFERED="1")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def manage(args, env, timeout=60, input=None):
    """Run ``python manage.py ARGS``; returns the CompletedProcess (text)."""
    return subprocess.run([sys.executable, str(REPO / "manage.py"), *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout, input=input)
