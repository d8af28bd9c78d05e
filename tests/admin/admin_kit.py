"""Settings of the admin tests (fixtures are in conftest.py; the client and the page
helpers are ``support``'s).

* ``DEMO_APPS`` — accounts, audit and the ``admin_demo`` test app (``notes.category``,
  ``notes.note``, ``notes.plain``; in ``admin_support/``, importable through setup.cfg).
* ``make_settings(tmp_path, **overrides)`` — ``settings.test`` with those apps, in memory.
"""
import support

DEMO_APPS = ["core.audit", "apps.accounts", "admin_demo"]


def make_settings(tmp_path, **overrides):
    return support.make_settings(tmp_path, DEMO_APPS, **overrides)
