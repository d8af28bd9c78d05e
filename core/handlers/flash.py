"""Flashes: a short message for the next page this browser renders ("Saved.", "Your
password was set; log in."), carried in a signed cookie and shown once by ``base.html``.

HTML pages mix in ``FlashMixin`` (the admin's ``AdminHandler``, the login pages'
``AuthHandler``; never the JSON API): ``self.flash(text)`` before a redirect, and the next
full page any of them renders (``BaseHandler.render`` → ``page_context``) takes them.
"""
import json

__all__ = ["FLASH_COOKIE", "FlashMixin"]

FLASH_COOKIE = "bastion_flash"
KEPT = 5


class FlashMixin:
    """``flash`` and ``get_flashes`` for a ``tornado.web.RequestHandler``."""

    _flashes = None

    def flash(self, text, level="success"):
        """Show ``text`` on the next page this browser renders (a signed cookie)."""
        pending = self.get_flashes(clear=False) + [[level, str(text)[:1000]]]
        self._flashes = pending[-KEPT:]
        self.set_signed_cookie(FLASH_COOKIE, json.dumps(self._flashes), expires_days=None,
                               path="/")

    def get_flashes(self, clear=True):
        """The pending ``[(level, text), ...]``; ``clear`` removes them (once shown)."""
        if self._flashes is None:
            raw = self.get_signed_cookie(FLASH_COOKIE, max_age_days=1)
            try:
                data = json.loads(raw) if raw else []
            except ValueError:
                data = []
            self._flashes = [[str(level), str(text)] for level, text in
                             (item for item in data if isinstance(item, list) and len(item) == 2)]
        flashes = list(self._flashes)
        if clear and flashes:
            self._flashes = []
            self.clear_cookie(FLASH_COOKIE, path="/")
        return flashes
