"""As acl_settings, with DEFAULT_PERMISSIONS for users created without --perm."""
from acl_settings import *  # noqa: F401,F403

DEFAULT_PERMISSIONS = {"shop.product": ["read"]}
