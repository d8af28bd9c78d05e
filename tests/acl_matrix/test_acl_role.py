"""The model ACL matrix for ``accounts.role``: every profile × every endpoint (see ``acl_kit``)."""
import pytest

import acl_kit

MODEL = "accounts.role"
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize("cell", acl_kit.cells(MODEL), ids=lambda cell: cell.id)
async def test_cell(world, cell):
    assert await world.run(cell) == []
