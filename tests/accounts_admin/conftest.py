"""Fixtures for the users-and-roles admin tests.

``site`` serves ``settings.test`` with the audit, accounts and blog apps (``blog.article``
declares the extra action ``publish``) on a free 127.0.0.1 port: the real in-memory
database, real bcrypt (4 rounds); a ``support.CheckedSite`` (a failed login fails the
test).
"""
import pytest

from support import BLOG_APPS, CheckedSite, make_settings, serving


@pytest.fixture
def accounts_settings(tmp_path):
    return make_settings(tmp_path, BLOG_APPS)


@pytest.fixture
async def site(accounts_settings):
    async with serving(CheckedSite) as servers:
        yield await servers.serve(accounts_settings)
