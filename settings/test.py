"""The test suite's settings: an in-memory database, cheap bcrypt, a fixed secret."""
from .base import *  # noqa: F401,F403

DEBUG = False
DATABASE_URL = "memory:"
BCRYPT_ROUNDS = 4
COOKIE_SECRET = "test-only-cookie-secret-not-for-real-use"
SHUTDOWN_TIMEOUT = 5.0
# Mail is printed (captured by pytest); the mail tests serve a real SMTP server instead.
EMAIL_URL = "console:"
