"""A read-only part of a row (``readonly_fields = ["lines.quantity"]``) in a real browser:
a row "Add another" copies at once (static/rows.js) shows the field's default, not the
copied row's value, and the save stores the default."""
import pytest
import pytest_asyncio

from apps.shop.admin import OrderAdmin
from browser_kit import log_in
from support import Site, make_settings, serving

pytestmark = pytest.mark.asyncio(loop_scope="module")

ORDERS = "/admin/shop/order/"
CLERK = {"shop.order": ["read", "write"], "shop.customer": ["read"]}


@pytest_asyncio.fixture(loop_scope="module")
async def site(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setattr(OrderAdmin, "readonly_fields", ["lines.quantity"], raising=False)
    settings = make_settings(tmp_path_factory.mktemp("nested"),
                             ["core.audit", "apps.accounts", "apps.shop"])
    try:
        async with serving(Site) as servers:
            yield await servers.serve(settings)
    finally:
        patch.undo()


async def test_a_row_added_by_the_script_shows_the_read_only_default(page, site):
    ada = await site.model("shop.customer").create(
        name="Ada", email="ada@example.com", address={"city": "Lyon", "country": "FR"},
        db=site.db)
    order = await site.model("shop.order").create(
        customer=ada.id, placed="2026-03-01", db=site.db,
        lines=[{"sku": "pen", "quantity": 4, "unit_price": "1"}])
    await site.create_user("clerk", CLERK)
    await log_in(page, site, "clerk")
    await page.goto(site.url(f"{ORDERS}{order.id}/change/"))
    assert await page.locator("[name=lines-0-quantity]").count() == 0
    assert await page.inner_text("[data-row=lines-0] .readonly-value") == "4"
    await page.click("button[name=_add_row][value=lines]")    # at once (static/rows.js)
    assert await page.inner_text("[data-row=lines-1] .readonly-value") == "1"
    assert await page.inner_text("[data-row=lines-0] .readonly-value") == "4"
    await page.fill("[name=lines-1-sku]", "ink")
    await page.fill("[name=lines-1-unit_price]", "2")
    async with page.expect_navigation():
        await page.locator("button[type=submit][name=_save]").first.click()
    await order.reload(db=site.db)
    assert [(li.sku, li.quantity) for li in order.lines] == [("pen", 4), ("ink", 1)]
