"""The API's URLs (the table in docs/api.md), for ``core.app.make_app``.

``api_routes(site)`` serves every model of the ``AdminSite``; ``api_fallback_routes()``
(mounted after every app's routes) answers any other ``/api/`` URL with a JSON 404.
"""
from tornado.web import URLSpec

from . import handlers
from .files import ApiFileHandler

NAME = r"([a-z][a-z0-9_]*)"


def api_routes(site):
    kwargs = {"site": site}
    return [
        URLSpec(r"/api/openapi\.json$", handlers.OpenAPIHandler, kwargs, name="api_openapi"),
        URLSpec(rf"/api/{NAME}/{NAME}/?$", handlers.ApiListHandler, kwargs, name="api_list"),
        URLSpec(rf"/api/{NAME}/{NAME}/([^/]+)/?$", handlers.ApiObjectHandler, kwargs,
                name="api_object"),
        URLSpec(rf"/api/{NAME}/{NAME}/([^/]+)/files/{NAME}$", ApiFileHandler, kwargs,
                name="api_file"),
    ]


def api_fallback_routes():
    return [URLSpec(r"/api(/.*)?$", handlers.ApiNotFoundHandler, name="api_not_found")]
