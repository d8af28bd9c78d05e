"""Fixtures for files in the admin: accounts, audit and the ``files_demo`` test app served
on a free 127.0.0.1 port, on the in-memory database; the site hands out browsers and
API clients."""
import pytest

import support
from support import CheckedSite, server_fixture, site  # noqa: F401  (fixtures)
from support.api import ApiSite

FILES_APPS = ["core.audit", "apps.accounts", "files_demo"]


@pytest.fixture
def files_settings(tmp_path):
    return support.make_settings(tmp_path, FILES_APPS)


class FilesSite(CheckedSite, ApiSite):
    """Pages (checked logins) and JSON clients on one served app."""


server = server_fixture("files_settings", FilesSite)
