"""Fixtures for the users-and-roles admin tests.

``site`` serves ``settings.test`` with the accounts and blog apps (``blog.article``
declares the extra action ``publish``) on a free 127.0.0.1 port: the real
in-memory database, real bcrypt (4 rounds). The helpers (``Site``, ``Browser``)
are the admin tests' (``tests/admin/admin_kit.py``).
"""
import sys
from pathlib import Path

import pytest

from http_kit import serving

ADMIN_TESTS = Path(__file__).resolve().parent.parent / "admin"
if str(ADMIN_TESTS) not in sys.path:
    sys.path.insert(0, str(ADMIN_TESTS))

from admin_kit import Site, make_settings  # noqa: E402


@pytest.fixture
def accounts_settings(tmp_path):
    apps = ["core.audit", "apps.accounts", "apps.blog"]
    return make_settings(tmp_path, INSTALLED_APPS=apps)


@pytest.fixture
async def site(accounts_settings):
    async with serving(Site) as servers:
        yield await servers.serve(accounts_settings)
