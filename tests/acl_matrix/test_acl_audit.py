"""The model ACL matrix for ``audit.entry``: every profile × every endpoint (see ``acl_kit``)."""
import pytest

import acl_kit

MODEL = "audit.entry"
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize("cell", acl_kit.cells(MODEL), ids=lambda cell: cell.id)
async def test_cell(world, cell):
    assert await world.run(cell) == []
