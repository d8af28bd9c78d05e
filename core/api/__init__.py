"""The JSON API: ``/api/<app>/<model>/`` and ``/api/<app>/<model>/<id>`` for every
installed model, through its ``ModelAdmin`` (permissions, object rules, save and
delete hooks, audit), plus ``/api/openapi.json``. See ``docs/api.md``.
"""
from .routes import api_fallback_routes, api_routes  # noqa: F401

__all__ = ["api_fallback_routes", "api_routes"]
