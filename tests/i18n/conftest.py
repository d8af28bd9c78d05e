"""Fixtures for the language tests: the admin test apps (notes) with audit and accounts.

* ``i18n_settings`` — ``settings.test`` with ``LANGUAGES`` en/fr/de and ``LANGUAGE`` "en";
* ``server`` / ``site`` — those settings served (``support.server_fixture``);
* helpers for reading a page in another language live in ``i18n_kit``.
"""
import pytest

import support
from support import CheckedSite, server_fixture, site  # noqa: F401  (fixtures)

APPS = ["core.audit", "apps.accounts", "admin_demo"]


@pytest.fixture
def i18n_settings(tmp_path):
    return support.make_settings(tmp_path, APPS)


server = server_fixture("i18n_settings", CheckedSite)
