"""Test settings with the accounts app and the shop test app installed."""
from settings.test import *  # noqa: F401,F403

INSTALLED_APPS = ["apps.accounts", "acl_shop"]
