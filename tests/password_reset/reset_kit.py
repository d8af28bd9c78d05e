"""Helpers for the password reset tests (fixtures are in conftest.py).

* ``make_settings(tmp_path, smtp, **overrides)`` — the project's apps in memory, mail to
  the ``support.smtp.SmtpServer`` ``smtp``.
* ``ResetSite`` — ``support.Site`` with ``create_user``, ``ask(browser, address)`` (post the
  form), ``settle()`` (wait for the mail being sent), ``user(username)`` (fresh from the
  database), ``entries(action)`` (audit entries).
* ``follow(browser, link)`` — open a mailed link: the redirect to the set-password page.
"""
from urllib.parse import urlsplit

import support
from support import BLOG_APPS, NEW_PASSWORD, PASSWORD

RESET = "/admin/password_reset/"
DONE = RESET + "done/"
INVALID = "This password reset link is invalid"
SET_FLASH = "Your password has been set. You may log in now."


def make_settings(tmp_path, smtp, **overrides):
    values = dict(EMAIL_URL=smtp.url, EMAIL_TIMEOUT=5.0)
    values.update(overrides)
    return support.make_settings(tmp_path, BLOG_APPS, **values)


def path_of(link):
    parts = urlsplit(link)
    return parts.path


async def follow(browser, link):
    """GET the mailed ``link`` (its path, on the test server); returns the response."""
    return await browser.get(path_of(link))


class ResetSite(support.Site):

    @property
    def User(self):
        return self.model("accounts.user")

    async def create_user(self, username="alice", password=PASSWORD, email=None, **extra):
        return await self.User.create_user(username, email or f"{username}@example.com",
                                           password, db=self.db, **extra)

    async def user(self, username="alice"):
        return await self.User.get_by_username(username, db=self.db)

    async def ask(self, browser, address, **kwargs):
        """Post the reset form for ``address``; the response (a 303 to ``done/``)."""
        return await browser.post(RESET, {"email": address}, **kwargs)

    async def settle(self):
        """Wait until the mail the site is sending has gone (or failed)."""
        assert await self.app.mailer.drain(10)

    async def entries(self, action):
        return await self.db["audit_log"].find({"action": action}).to_list(None)

    async def set_password(self, browser, link, password=NEW_PASSWORD, again=None):
        """Open ``link`` and post the new password; the POST's response."""
        opened = await follow(browser, link)
        assert opened.code == 302, (opened.code, opened.text[:300])
        return await browser.post(opened.location, {"new_password1": password,
                                                    "new_password2": again or password})
