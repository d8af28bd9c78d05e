"""Production: no debug output, Secure cookies, and COOKIE_SECRET must come from the env."""
from core.conf import ImproperlyConfigured

from .base import *  # noqa: F401,F403

DEBUG = False
SECURE_COOKIES = True
# Browsers keep to HTTPS for a year once they have seen the site over HTTPS.
HSTS_SECONDS = 365 * 24 * 60 * 60

# The shortest COOKIE_SECRET production accepts (bytes, UTF-8); not a setting.
min_secret_bytes = 32
generate_hint = "COOKIE_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"


def finalize(settings):
    """Called last by ``core.conf.load_settings``: refuse to start without a long enough
    cookie secret (sessions and XSRF tokens would be forgeable)."""
    secret = settings.COOKIE_SECRET
    if not secret:
        raise ImproperlyConfigured(
            "COOKIE_SECRET is not set; production needs it in the environment "
            f"(e.g. {generate_hint})")
    size = len(secret.encode() if isinstance(secret, str) else secret)
    if size < min_secret_bytes:
        raise ImproperlyConfigured(
            f"COOKIE_SECRET is {size} bytes; production needs at least "
            f"{min_secret_bytes} (e.g. {generate_hint})")
