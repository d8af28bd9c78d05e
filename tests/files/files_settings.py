"""Settings for ``manage.py`` subprocesses of the file tests: the test settings with the
``files_demo`` app."""
from settings.test import *  # noqa: F401,F403

INSTALLED_APPS = ["core.audit", "apps.accounts", "files_demo"]
