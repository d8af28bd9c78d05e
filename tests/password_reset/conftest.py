"""Fixtures for the password reset tests (helpers in ``reset_kit``).

* ``smtp`` — a real SMTP server (``aiosmtpd``) on a free 127.0.0.1 port, for the test.
* ``reset_settings`` — ``settings.test`` with audit, accounts and blog in memory, mailing
  through ``smtp``.
* ``server`` / ``site`` — the app served on a free port (``reset_kit.ResetSite``).
"""
import pytest

from reset_kit import ResetSite, make_settings
from support import server_fixture, site  # noqa: F401  (fixtures)
from support.smtp import SmtpServer


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def reset_settings(tmp_path, smtp):
    return make_settings(tmp_path, smtp)


server = server_fixture("reset_settings", ResetSite)
