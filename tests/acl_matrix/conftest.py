"""Fixtures for the model ACL matrix (the cells and the rules are in ``acl_kit``).

* ``world`` — module-scoped: one served site (audit, accounts, blog; in memory, real
  bcrypt at 4 rounds, the live feed running) for the module's ``MODEL``, with one logged-in
  user, browser and API token per profile, created once; each cell makes its own objects.
"""
import pytest
import pytest_asyncio

import acl_kit
from support import serving


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(request, tmp_path_factory):
    model = request.module.MODEL
    if model not in acl_kit.plan():
        pytest.skip(f"{model} is not installed")
    async with serving(shutdown_first=True) as servers:
        yield await acl_kit.World.start(servers, tmp_path_factory.mktemp("acl"), model)


def pytest_collection_modifyitems(items):
    """Each cell says for the summary line (``support.summaries``) whether it comes from
    the plan (``acl_kit.cells``: then with the plan's size) or is a module's own."""
    generated = len(acl_kit.all_cells())
    for item in items:
        if "acl_matrix" in item.nodeid and "test_cell[" in item.nodeid:
            callspec = getattr(item, "callspec", None)
            if callspec is not None and isinstance(callspec.params.get("cell"), acl_kit.Cell):
                item.user_properties.append(("acl_cells_generated", generated))
            else:
                item.user_properties.append(("acl_cells_generated", None))
