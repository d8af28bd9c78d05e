"""Bastion's settings modules.

``base`` holds the defaults; ``dev``, ``test`` and ``production`` refine them.
``BASTION_SETTINGS`` names the module to use (default ``settings.dev``) and
environment variables override single values; ``core.conf`` does the loading.
Every setting is described in docs/settings.md.
"""
