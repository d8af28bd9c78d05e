"""Helpers for the admin tests (fixtures are in conftest.py).

* ``make_settings`` — ``settings.test`` with the accounts app and the ``admin_demo``
  test app (``notes.category``, ``notes.note``, ``notes.plain``), in memory.
* ``Site`` — a served app: ``browser()``, ``create_user``, ``user_browser``.
* ``Browser`` — ``AsyncHTTPClient`` with its own cookie jar; redirects are not followed.
"""
import re
import sys
from pathlib import Path

import http_kit
from http_kit import PASSWORD, Response  # noqa: F401  (re-exported for the tests)

SUPPORT = Path(__file__).resolve().parent / "admin_support"
if str(SUPPORT) not in sys.path:
    sys.path.insert(0, str(SUPPORT))


def make_settings(tmp_path, **overrides):
    return http_kit.make_settings(tmp_path, ["core.audit", "apps.accounts", "admin_demo"],
                                  **overrides)


class Browser(http_kit.Browser):
    async def login(self, username, password=PASSWORD):
        response = await super().login(username, password)
        assert response.code == 303, (response.code, response.text[:500])
        return response


class Site(http_kit.Site):
    browser_class = Browser


def error_for(text, name):
    """The error list rendered next to field ``name``, as text ('' if none)."""
    match = re.search(rf'<ul class="errorlist" id="id_{name}_errors">(.*?)</ul>', text, re.S)
    return re.sub(r"<[^>]+>", " ", match.group(1)).strip() if match else ""


def row_ids(text):
    """The object ids of the list page's rows, in order."""
    return re.findall(r'<tr data-id="([0-9a-f]{24})">', text)


def link(text, rel):
    """The href of the ``rel`` pagination link, unescaped ('' if absent)."""
    import html
    match = re.search(rf'<a href="([^"]*)" rel="{rel}">', text)
    return html.unescape(match.group(1)) if match else ""
