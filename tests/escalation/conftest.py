"""Fixtures of the escalation matrix: one served site per test module.

``site`` serves ``settings.test`` with the audit, accounts and blog apps on a free
127.0.0.1 port (real in-memory store, real bcrypt at the test settings' low cost) once per
module; cells never share a target, so no state needs resetting between them. The form
helpers come from ``support.accounts``. A summary line at the end says how many matrix
cells ran (``support.summaries``).
"""
import pytest_asyncio

from escalation_kit import Matrix
from support import BLOG_APPS, Site, make_settings, serving


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("escalation"), BLOG_APPS)
    async with serving(Site) as servers:
        yield await servers.serve(settings)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def matrix(site):
    """Editors (cached per profile) and fresh targets on the module's site."""
    made = Matrix(site)
    await made.setup()
    return made
