"""Helpers for the audit tests (fixtures are in conftest.py).

* ``SUPPORT`` — the folder of the ``audit_demo`` test app (``vault.box``) and of the
  ``audit_settings`` module (importable in-process through setup.cfg; a ``manage.py``
  subprocess gets it as ``PYTHONPATH``).
* ``make_settings`` — ``settings.test`` with ``core.audit``, accounts and ``audit_demo``,
  on an in-memory database.
* ``Site`` — ``support.Site`` with ``entries()``.
* ``contains(value, needle)`` — does a stored document hold ``needle`` anywhere.
"""
from pathlib import Path

import support

SUPPORT = Path(__file__).resolve().parent / "audit_support"


def make_settings(tmp_path, **overrides):
    return support.make_settings(tmp_path, ["core.audit", "apps.accounts", "audit_demo"],
                                 **overrides)


class Site(support.Site):
    async def entries(self, **flt):
        """The raw ``audit_log`` documents matching ``flt``, oldest first."""
        return await self.db["audit_log"].find(flt).sort([("at", 1), ("_id", 1)]).to_list(None)


def contains(value, needle):
    """Does ``needle`` occur anywhere in a stored document (keys and values)?"""
    if isinstance(value, dict):
        return any(contains(k, needle) or contains(v, needle) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(contains(v, needle) for v in value)
    return needle in str(value)
