"""Suite-wide pytest hooks, loaded by ``tests/conftest.py`` and ``apps/conftest.py``.

* Tests run with ``BASTION_SETTINGS=settings.test`` unless told otherwise.
* Tests that need an optional outside part (a MongoDB-wire server, Chromium) skip with a
  reason on a laptop; under ``CI=true`` such a skip is turned into a failure, so CI always
  runs everything.

No fixtures live here: a plugin's fixtures would reach every folder. Fixtures are made
where they are used (a folder's conftest), from ``support.server_fixture`` and friends.
"""
import os

import pytest

os.environ.setdefault("BASTION_SETTINGS", "settings.test")


def running_in_ci():
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and running_in_ci() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = ("skipped under CI=true, where every optional part must be present: "
                           f"{reason}")
