"""Authentication primitives shared by the framework and the accounts app.

``core.auth.passwords``: bcrypt hashing off the event loop and password
validators. The user model itself lives in an app (``apps.accounts``); core
never imports it.
"""
from .passwords import (PasswordError, dummy_verify, hash_password, needs_rehash,
                        validate_password, verify_password)

__all__ = ["PasswordError", "dummy_verify", "hash_password", "needs_rehash",
           "validate_password", "verify_password"]
