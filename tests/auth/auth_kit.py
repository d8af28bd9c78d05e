"""Helpers for the login tests (fixtures are in conftest.py).

* ``make_settings`` — ``settings.test`` (or another module) with the accounts app and
  the ``auth_demo`` test app (models ``demo.widget`` / ``demo.gadget``, JSON routes
  that need a user; in ``auth_support/``, importable through setup.cfg) in memory.
* ``Site`` — ``support.Site`` with ``User``, ``create_user(username="alice")`` and
  ``sessions()``.
* ``error_for(text, field_id)`` — a field's error list, by its element id.
* ``Browser`` — ``support.Browser`` reading cookies as the login tests need: only an
  empty value *with* an ``expires`` clears a cookie; ``session`` is the session cookie.
"""
import support
from support import pages

SESSION_COOKIE = "bastion_session"


def make_settings(tmp_path, module="settings.test", **overrides):
    return support.make_settings(tmp_path, ["apps.accounts", "auth_demo"], module=module,
                                 **overrides)


class Browser(support.Browser):
    empty_value_clears = False     # only an empty value with an ``expires`` clears
    form_doseq = False

    @property
    def session(self):
        return self.cookies.get(SESSION_COOKIE)


class Site(support.Site):
    browser_class = Browser

    @property
    def User(self):
        return self.app.registry.get_model("accounts.user")

    async def create_user(self, username="alice", password=support.PASSWORD, **extra):
        return await self.User.create_user(username, f"{username}@example.com", password,
                                           db=self.db, **extra)

    async def sessions(self, **flt):
        """The stored sessions (not the auth epoch document that shares their collection)."""
        flt.setdefault("user_id", {"$exists": True})
        return await self.db["sessions"].find(flt).to_list(None)


def error_for(text, field_id):
    """``support.pages.error_for`` by the field's element id (``id_<name>``)."""
    return pages.error_for(text, field_id.removeprefix("id_"))
