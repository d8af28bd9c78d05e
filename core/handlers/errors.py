"""Handlers for URLs nobody else answers, and static files with Bastion's error pages."""
import tornado.web

from core import i18n

from .base import BaseHandler, ErrorPageMixin, HTTPError, LanguageMixin, SessionXsrfMixin

# A static path longer than this, or with a longer segment, names no file of ours.
MAX_STATIC_PATH = 1024
MAX_STATIC_SEGMENT = 255


class NotFoundHandler(BaseHandler):
    """The application's ``default_handler_class``: 404 for every method.

    The XSRF check is skipped: nothing here changes state, and a POST to a
    missing URL should say 404, not 403.
    """

    def check_xsrf_cookie(self):
        """No token needed to be told a page does not exist."""

    async def prepare(self):
        """The user is loaded (the page in their language, with their menu), then 404."""
        await super().prepare()
        raise HTTPError(404, self.gettext("Page not found."))


def describe_size(size, locale=None):
    """``10485760`` → ``"10 MiB"``; ``1500`` → ``"1,500 bytes"``, exactly, in ``locale``
    (the active language by default): its digits, and its word for bytes."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{i18n.format_decimal(size // scale, locale)} {unit}"
    return i18n.format_byte_size(size, locale, exact=True)


class PayloadTooLargeHandler(BaseHandler):
    """Answers 413 to a request whose body is over ``MAX_BODY_SIZE``, whatever its URL.

    ``core.app`` sends such a request here (before or instead of reading its body):
    an error page, or ``{"error": ...}`` under ``/api/`` and for JSON clients. No
    XSRF check and no session lookup: nothing is done with the request.
    """

    def initialize(self, limit):
        self.limit = limit

    def check_xsrf_cookie(self):
        """Refused anyway; a 403 would hide the real reason."""

    def prepare(self):
        raise HTTPError(413, self.gettext("The request body is too large: at most %(size)s "
                                          "is accepted.") % {
            "size": describe_size(self.limit, self.locale)})


def static_path_is_plain(path):
    """Is ``path`` (decoded, relative to ``STATIC_DIR``) a plain file name we could serve?

    No NUL or other control character, no backslash, no empty, ``.`` or ``..``
    segment, nothing overlong. Anything else is answered 404 before the file
    system is asked (``os.stat`` raises on a NUL; a traversal is no file of ours).
    """
    if not path or len(path) > MAX_STATIC_PATH or "\\" in path:
        return False
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        return False
    return all(part not in ("", ".", "..") and len(part) <= MAX_STATIC_SEGMENT
               for part in path.split("/"))


class StaticFileHandler(SessionXsrfMixin, LanguageMixin, ErrorPageMixin,
                        tornado.web.StaticFileHandler):
    """Tornado's static file handler, with Bastion's error pages and a strict path check.

    A path that is not a plain file name under ``STATIC_DIR`` (a NUL byte, ``..``,
    a folder, an overlong name) is a 404, never a 403 or a 500.
    """

    def parse_url_path(self, url_path):
        """Called first with the decoded path: refuse what cannot be one of our files."""
        if not static_path_is_plain(url_path):
            raise HTTPError(404, self.gettext("File not found."))
        return super().parse_url_path(url_path)

    def validate_absolute_path(self, root, absolute_path):
        """Tornado's checks (inside the root, a regular file), each failure a 404."""
        try:
            return super().validate_absolute_path(root, absolute_path)
        except tornado.web.HTTPError as exc:
            if exc.status_code in (403, 404):
                raise HTTPError(404, self.gettext("File not found.")) from None
            raise
        except (OSError, ValueError):
            raise HTTPError(404, self.gettext("File not found.")) from None
