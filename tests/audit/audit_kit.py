"""Helpers for the audit tests (fixtures are in conftest.py).

* ``make_settings`` — ``settings.test`` with ``core.audit``, accounts and the
  ``audit_demo`` test app (``vault.box``), on an in-memory database.
* ``Site`` — a served app: ``browser()``, ``create_user``, ``user_browser``, ``entries()``.
* ``Browser`` — ``AsyncHTTPClient`` with its own cookie jar; redirects are not followed.
"""
import re
import sys
from pathlib import Path

import http_kit
from http_kit import NEW_PASSWORD, PASSWORD, Browser, Response  # noqa: F401  (re-exported)

SUPPORT = Path(__file__).resolve().parent / "audit_support"
if str(SUPPORT) not in sys.path:
    sys.path.insert(0, str(SUPPORT))


def make_settings(tmp_path, **overrides):
    return http_kit.make_settings(tmp_path, ["core.audit", "apps.accounts", "audit_demo"],
                                  **overrides)


class Site(http_kit.Site):
    async def entries(self, **flt):
        """The raw ``audit_log`` documents matching ``flt``, oldest first."""
        return await self.db["audit_log"].find(flt).sort([("at", 1), ("_id", 1)]).to_list(None)


def text_of(html):
    """Visible text, tags removed, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def contains(value, needle):
    """Does ``needle`` occur anywhere in a stored document (keys and values)?"""
    if isinstance(value, dict):
        return any(contains(k, needle) or contains(v, needle) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(contains(v, needle) for v in value)
    return needle in str(value)
