"""Helpers for the browser tests (fixtures are in conftest.py).

* ``CHROMIUM``, ``CHROMIUM_ARGS`` — Debian's Chromium and how it is started.
* ``MISSING`` — why the browser tests cannot run on this machine (``None`` when they can).
* ``log_in(page, site, username)`` — logs in through the login form.
"""
import os
from pathlib import Path

from support import PASSWORD

CHROMIUM = Path(os.environ.get("BASTION_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
WRITER = {"blog.article": ["read", "write", "delete"], "blog.category": ["read"],
          "accounts.user": ["read"]}
READER = {"blog.article": ["read"]}

try:
    from playwright.async_api import async_playwright
except ImportError as exc:                     # depends on the machine
    async_playwright = None
    MISSING = f"the playwright package is not installed ({exc}); pip install -e '.[test]'"
else:
    MISSING = None
if MISSING is None and not CHROMIUM.exists():
    MISSING = (f"{CHROMIUM} is missing (apt-get install chromium); "
               "the tests never download a browser")


async def log_in(page, site, username, password=PASSWORD):
    """Log in through the login form; returns once the next page has loaded."""
    await page.goto(site.url("/admin/login/"))
    await page.fill("#id_username", username)
    await page.fill("#id_password", password)
    async with page.expect_navigation():
        await page.click("button[type=submit]:has-text('Log in')")
    assert not page.url.startswith(site.url("/admin/login/")), f"{username} could not log in"
