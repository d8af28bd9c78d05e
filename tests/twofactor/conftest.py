"""Fixtures for the two-factor and account-page tests (helpers in ``twofactor_kit``).

* ``tf_settings`` — ``settings.test`` with audit, accounts and blog, in memory.
* ``server`` — ``await server(settings=None)`` serves those (or other) settings; returns a
  ``twofactor_kit.Site``. ``site`` is one such server with ``tf_settings``.
"""
import pytest

from support import BLOG_APPS, make_settings, server_fixture, site  # noqa: F401  (fixtures)
from twofactor_kit import Site


@pytest.fixture
def tf_settings(tmp_path):
    return make_settings(tmp_path, BLOG_APPS)


server = server_fixture("tf_settings", Site)
