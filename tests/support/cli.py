"""``manage.py`` in a subprocess (``Cli``, ``manage``), and the free ports a subprocess
server listens on."""
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# the variables a ``manage.py`` subprocess must not inherit from the outer environment
SETTINGS_VARIABLES = ("DATABASE_URL", "MONGO_DRIVER", "COOKIE_SECRET", "BCRYPT_ROUNDS",
                      "PORT", "DEBUG", "VAR_DIR", "BASTION_SETTINGS", "EMAIL_URL",
                      "DEFAULT_FROM_EMAIL", "EMAIL_TIMEOUT", "SITE_URL",
                      "PASSWORD_RESET_SECONDS", "SSL_CERT_FILE")


def outer_env(keep_pythonpath=False):
    """``os.environ`` for a ``manage.py`` subprocess: without the settings' variables, and
    without ``PYTHONPATH`` unless ``keep_pythonpath``; the caller adds its own."""
    dropped = SETTINGS_VARIABLES if keep_pythonpath else SETTINGS_VARIABLES + ("PYTHONPATH",)
    return {k: v for k, v in os.environ.items() if k not in dropped}


def manage_env(tmp_path, **extra):
    """Environment for ``manage.py`` in a subprocess: test settings, an embedded temp DB
    under ``tmp_path``; ``extra`` (values made strings) wins."""
    env = outer_env()
    env.update(BASTION_SETTINGS="settings.test", VAR_DIR=str(tmp_path / "var"),
               DATABASE_URL=f"embedded:{tmp_path / 'db' / 'bastion.sqlite3'}",
               PYTHONUNBUFFERED="1")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def manage(args, env, timeout=60, input=None):
    """Run ``python manage.py ARGS`` in the checkout; returns the CompletedProcess (text)."""
    return subprocess.run([sys.executable, str(REPO / "manage.py"), *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout, input=input)


def one_error_line(result):
    """The single stderr line of a failed command (no traceback)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def free_port():
    """A 127.0.0.1 port that was free a moment ago (for a server in a subprocess)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cli:
    """``manage.py`` in a subprocess on one embedded database file (``db_url``):
    ``cli("createuser", ...)`` returns the CompletedProcess, ``cli.ok(...)`` also asserts
    exit 0. ``Cli.on_embedded(tmp_path, settings, pythonpath)`` makes one on
    ``tmp_path/db.sqlite3`` with the settings module ``settings`` (found on ``pythonpath``)."""

    env: dict
    db_url: str

    @classmethod
    def on_embedded(cls, tmp_path, settings, pythonpath):
        env = outer_env()
        db_url = f"embedded:{tmp_path / 'db.sqlite3'}"
        env.update(BASTION_SETTINGS=settings, PYTHONPATH=str(pythonpath), DATABASE_URL=db_url,
                   VAR_DIR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")
        return cls(env, db_url)

    def __call__(self, *args, input=None, settings=None, timeout=60):
        env = dict(self.env)
        if settings:
            env["BASTION_SETTINGS"] = settings
        return subprocess.run([sys.executable, str(REPO / "manage.py"), *args], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=timeout,
                              input="" if input is None else input)

    def ok(self, *args, **kwargs):
        result = self(*args, **kwargs)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result
