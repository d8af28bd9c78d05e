"""Accounts: users, roles and their permissions (``manage.py createuser``, ``grant``, ...).

See docs/permissions.md. Turn it on with ``"apps.accounts"`` in ``INSTALLED_APPS``.
"""
