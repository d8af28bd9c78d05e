"""Nested documents and files in a real browser: a clerk builds an order line by line with
"Add another" (at once, by our static/rows.js; the HTTP tests cover the same without a
script), attaches an invoice PDF, removes a line later, and downloads the invoice; rows
added, moved and removed in the page are saved in the order shown."""
import decimal

import pytest
import pytest_asyncio

from browser_kit import log_in
from support import Site, make_settings, serving

pytestmark = pytest.mark.asyncio(loop_scope="module")

ORDERS = "/admin/shop/order/"
SHOP_APPS = ["core.audit", "apps.accounts", "apps.shop"]
CLERK = {"shop.order": ["read", "write"], "shop.customer": ["read"]}
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"


@pytest_asyncio.fixture(loop_scope="module")
async def site(tmp_path):
    settings = make_settings(tmp_path, SHOP_APPS)
    async with serving(Site) as servers:
        yield await servers.serve(settings)


async def test_build_an_order_line_by_line_attach_an_invoice_then_remove_a_line(
        page, site, tmp_path):
    ada = await site.model("shop.customer").create(
        name="Ada Lovelace", email="ada@example.com",
        address={"city": "Paris", "country": "FR"}, db=site.db)
    await site.create_user("clerk", CLERK)
    await log_in(page, site, "clerk")
    await page.goto(site.url(ORDERS + "add/"))
    await page.select_option("[name=customer]", str(ada.id))
    await page.fill("[name=placed]", "2026-11-30")
    await page.fill("[name=lines-0-sku]", "pen")
    await page.fill("[name=lines-0-quantity]", "2")
    await page.fill("[name=lines-0-unit_price]", "24.90")
    await page.click("button[name=_add_row][value=lines]")    # at once (static/rows.js)
    assert await page.input_value("[name=lines-0-sku]") == "pen"   # typed values kept
    await page.fill("[name=lines-1-sku]", "ink")
    await page.fill("[name=lines-1-quantity]", "1")
    await page.fill("[name=lines-1-unit_price]", "7.50")
    invoice = tmp_path / "invoice-1.pdf"
    invoice.write_bytes(PDF)
    await page.set_input_files("input[type=file][name=invoice]", str(invoice))
    async with page.expect_navigation():
        await page.locator("button[type=submit][name=_save]").first.click()
    Order = site.model("shop.order")
    order = await Order.find_one({}, db=site.db)
    assert order is not None, await page.content()
    assert [(li.sku, li.quantity, li.unit_price) for li in order.lines] == [
        ("pen", 2, decimal.Decimal("24.90")), ("ink", 1, decimal.Decimal("7.50"))]
    assert order.invoice.name == "invoice-1.pdf"

    await page.goto(site.url(f"{ORDERS}{order.id}/change/"))
    link = page.locator(f"a[href='{ORDERS}{order.id}/file/invoice/']")
    assert await link.inner_text() == "invoice-1.pdf"
    await page.check("[name=lines-0-REMOVE]")
    async with page.expect_navigation():
        await page.locator("button[type=submit][name=_save]").first.click()
    await order.reload(db=site.db)
    assert [li.sku for li in order.lines] == ["ink"]
    assert order.invoice.name == "invoice-1.pdf"                 # untouched input: kept

    response = await page.request.get(site.url(f"{ORDERS}{order.id}/file/invoice/"))
    assert response.status == 200 and await response.body() == PDF


async def test_rows_are_added_moved_and_removed_at_once_by_our_script(page, site):
    ada = await site.model("shop.customer").create(
        name="Bea Rows", email="bea@example.com", address={"city": "Nice", "country": "FR"},
        db=site.db)
    await site.create_user("rower", CLERK)
    await log_in(page, site, "rower")
    await page.goto(site.url(ORDERS + "add/"))
    await page.evaluate("window.samePage = true")          # gone if the page is reloaded
    await page.select_option("[name=customer]", str(ada.id))
    await page.fill("[name=placed]", "2026-12-01")
    for n, (sku, price) in enumerate([("cap", "5"), ("hat", "9"), ("mug", "4")]):
        if n:
            await page.click("button[name=_add_row][value=lines]")
        await page.fill(f"[name=lines-{n}-sku]", sku)
        await page.fill(f"[name=lines-{n}-quantity]", "1")
        await page.fill(f"[name=lines-{n}-unit_price]", price)
    assert await page.evaluate("window.samePage") is True    # added without a round trip
    await page.click("button.move-row[value='lines-2:up']")  # mug above hat
    assert await page.input_value("[name=lines-1-sku]") == "mug"
    assert await page.input_value("[name=lines-2-sku]") == "hat"
    assert await page.is_disabled("button.move-row[value='lines-0:up']")
    await page.check("[name=lines-0-REMOVE]")                 # cap: hidden, dropped on save
    assert not await page.is_visible("[name=lines-0-sku]")
    assert await page.evaluate("window.samePage") is True
    async with page.expect_navigation():
        await page.locator("button[type=submit][name=_save]").first.click()
    order = await site.model("shop.order").find_one({"customer": ada.id}, db=site.db)
    assert order is not None, await page.content()
    assert [li.sku for li in order.lines] == ["mug", "hat"]
