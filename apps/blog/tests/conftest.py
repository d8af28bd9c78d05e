"""Fixtures for the blog app's own tests (``support`` is ``tests/support/``).

* ``blog_settings`` — ``settings.test`` with the audit, accounts and blog apps, in memory.
* ``server`` / ``site`` — the app served on a free 127.0.0.1 port after ``startup``
  (``support.CheckedSite``: a login that fails fails the test); real bcrypt (4 rounds).
"""
import pytest

from support import BLOG_APPS, CheckedSite, make_settings, server_fixture, site  # noqa: F401


@pytest.fixture
def blog_settings(tmp_path):
    return make_settings(tmp_path, BLOG_APPS)


server = server_fixture("blog_settings", CheckedSite)
