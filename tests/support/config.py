"""Passwords, app sets and settings for tests that build or serve the app."""
from core.conf import load_settings

PASSWORD = "plum-harbour-velvet"          # passes every validator
NEW_PASSWORD = "quartz-meadow-lantern"

# the project's own apps, as most served tests install them
BLOG_APPS = ["core.audit", "apps.accounts", "apps.blog"]


def make_settings(tmp_path, apps, module="settings.test", **overrides):
    """``module`` read without the outer environment, on an in-memory database with
    ``VAR_DIR`` under ``tmp_path`` and ``INSTALLED_APPS = apps``; ``overrides`` win."""
    values = dict(VAR_DIR=tmp_path / "var", DATABASE_URL="memory:", INSTALLED_APPS=apps)
    values.update(overrides)
    return load_settings(module, environ={}, **values)
