"""Helpers for the two-factor tests: a ``Site`` that enrols users, codes from ``pyotp``.

* ``Site.enrolled_browser(username, permissions)`` — a user with TOTP on (enrolled through
  the account page like a person would) and a browser logged in with both factors;
  returns ``(browser, secret, recovery_codes)``.
* ``code_for(secret, offset=0)`` — the TOTP code of ``secret`` ``offset`` steps from now.
* ``secret_in(page)`` / ``recovery_codes_in(page)`` — what the enrolment pages show.
* ``next_step_code(secret)`` — waits for nothing: the code of the next step (drift allowed),
  so a second login in the same 30 s has a code that was not used yet.
"""
import re
import time

import pyotp

import support

VERIFY = "/admin/login/verify/"
ENROL = "/admin/login/enrol/"
ACCOUNT = "/admin/account/"


def code_for(secret, offset=0):
    """The TOTP code of ``secret`` for the step ``offset`` steps from now."""
    return pyotp.TOTP(secret).at(int(time.time()) + 30 * offset)


def secret_in(text):
    match = re.search(r'id="totp_secret">([A-Z2-7 ]+)</code>', text)
    assert match, text[:2000]
    return match.group(1).replace(" ", "")


def recovery_codes_in(text):
    return re.findall(r"<li><code>([a-z0-9-]{19})</code></li>", text)


class Site(support.Site):
    browser_class = support.CheckedBrowser

    @property
    def User(self):
        return self.model("accounts.user")

    async def enrol(self, browser):
        """Turn TOTP on for ``browser``'s user at the account page; ``(secret, codes)``."""
        page = await browser.get(ACCOUNT + "totp/")
        assert page.code == 200, page.text[:500]
        secret = secret_in(page.text)
        done = await browser.post(ACCOUNT + "totp/", {"code": code_for(secret)})
        assert done.code == 200, done.text[:2000]
        codes = recovery_codes_in(done.text)
        assert len(codes) == 10
        return secret, codes

    async def enrolled_browser(self, username, permissions=None, **extra):
        browser = await self.user_browser(username, permissions, **extra)
        secret, codes = await self.enrol(browser)
        return browser, secret, codes

    async def audit(self, **flt):
        return await self.db["audit_log"].find(flt, sort=[("at", 1), ("_id", 1)]).to_list(None)
