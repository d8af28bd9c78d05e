"""DEFAULT_PERMISSIONS naming a model that is not installed."""
from acl_settings import *  # noqa: F401,F403

DEFAULT_PERMISSIONS = {"blog.article": ["read"]}
