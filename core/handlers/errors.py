"""Handlers for URLs nobody else answers, and static files with Bastion's error pages."""
import tornado.web

from .base import BaseHandler, ErrorPageMixin, HTTPError


class NotFoundHandler(BaseHandler):
    """The application's ``default_handler_class``: 404 for every method.

    The XSRF check is skipped: nothing here changes state, and a POST to a
    missing URL should say 404, not 403.
    """

    def check_xsrf_cookie(self):
        """No token needed to be told a page does not exist."""

    def prepare(self):
        raise HTTPError(404, "Page not found.")


class StaticFileHandler(ErrorPageMixin, tornado.web.StaticFileHandler):
    """Tornado's static file handler, with Bastion's HTML/JSON error pages."""
