"""Fixtures for the time-zone tests: the admin test apps served with ``TIME_ZONE`` set to
Europe/Paris (summer: UTC+2, winter: UTC+1)."""
import pytest

import support
from support import CheckedSite, server_fixture, site  # noqa: F401  (fixtures)

APPS = ["core.audit", "apps.accounts", "admin_demo"]


@pytest.fixture
def zone_settings(tmp_path):
    return support.make_settings(tmp_path, APPS, TIME_ZONE="Europe/Paris")


server = server_fixture("zone_settings", CheckedSite)
