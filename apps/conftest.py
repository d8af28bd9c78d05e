"""pytest setup for the apps' own tests (``apps/<name>/tests/``, collected by ``make test``).

The suite-wide hooks of ``tests/support/plugin.py`` (``BASTION_SETTINGS`` defaults to
``settings.test``; a skip is a failure under ``CI=true``). Fixtures are an app's own, in
``apps/<name>/tests/conftest.py``, built from ``support`` (``import support``; see
``tests/support/__init__.py``). Not imported by the app.
"""
pytest_plugins = ["support.plugin", "support.summaries"]
