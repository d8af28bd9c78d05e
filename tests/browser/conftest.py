"""Fixtures for the browser tests: a real Chromium driven by Playwright against a real server.

* ``chromium`` — one headless Debian Chromium (``/usr/bin/chromium``) for the module, with a
  new empty profile; Playwright's own browser downloads are never used. Without the
  ``playwright`` package or ``/usr/bin/chromium`` every test skips with the reason (a failure
  under ``CI=true``, see tests/conftest.py).
* ``site`` — the project's real apps (audit, accounts, blog) served on a free 127.0.0.1 port
  after ``startup``; an in-memory database, real bcrypt (4 rounds).
* ``page`` — a new tab with no cookies; ``site.url(path)`` builds addresses.

The fixtures and tests share one event loop per module (``loop_scope="module"``), so the
browser starts once and the server runs on the loop the test awaits in.
"""
import shutil
import tempfile

import pytest
import pytest_asyncio

import browser_kit
from browser_kit import CHROMIUM, CHROMIUM_ARGS
from support import BLOG_APPS, Site, make_settings, serving


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chromium():
    if browser_kit.MISSING:
        pytest.skip(browser_kit.MISSING)
    profile = tempfile.mkdtemp(prefix="bastion-chromium-")
    async with browser_kit.async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 800}, locale="en-US")
        context.set_default_timeout(20_000)
        try:
            yield context
        finally:
            await context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest_asyncio.fixture(loop_scope="module")
async def site(tmp_path):
    settings = make_settings(tmp_path, BLOG_APPS)
    async with serving(Site) as servers:
        yield await servers.serve(settings)


@pytest_asyncio.fixture(loop_scope="module")
async def page(chromium, site):
    await chromium.clear_cookies()
    tab = await chromium.new_page()
    try:
        yield tab
    finally:
        await tab.close()
