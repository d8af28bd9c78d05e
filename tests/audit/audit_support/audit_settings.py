"""Test settings: the audit app, accounts and the ``audit_demo`` test app."""
from settings.test import *  # noqa: F401,F403

INSTALLED_APPS = ["core.audit", "apps.accounts", "audit_demo"]
