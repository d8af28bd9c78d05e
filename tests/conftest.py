"""Suite-wide pytest setup: the hooks of ``support.plugin`` (``BASTION_SETTINGS`` defaults
to ``settings.test``; a skip is a failure under ``CI=true``). Helpers and fixture makers
are in ``tests/support/`` (``import support``)."""
pytest_plugins = ["support.plugin", "support.summaries"]
