"""Local development: debug pages, the embedded database under var/, a generated secret."""
from core.conf import ensure_dev_cookie_secret

from .base import *  # noqa: F401,F403

DEBUG = True
DATABASE_URL = "embedded:var/bastion.sqlite3"
# An empty database gets a superuser (password printed once) and the demo data.
FIRST_RUN_DEMO = True
# Mail is printed by the server (make run shows password reset links).
EMAIL_URL = "console:"


def finalize(settings):
    """Without COOKIE_SECRET, use (or create, mode 0600) ``VAR_DIR/cookie_secret``."""
    if not settings.COOKIE_SECRET:
        settings.COOKIE_SECRET = ensure_dev_cookie_secret(settings.VAR_DIR)
