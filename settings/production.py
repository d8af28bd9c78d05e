"""Production: no debug output, Secure cookies, and COOKIE_SECRET must come from the env."""
from core.conf import ImproperlyConfigured

from .base import *  # noqa: F401,F403

DEBUG = False
SECURE_COOKIES = True


def finalize(settings):
    """Refuse to start without a cookie secret (sessions would be forgeable)."""
    if not settings.COOKIE_SECRET:
        raise ImproperlyConfigured(
            "COOKIE_SECRET is not set; production needs it in the environment "
            "(e.g. COOKIE_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))'))")
