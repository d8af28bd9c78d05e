"""The shop demo end to end, as a clerk: an order with three lines and an invoice PDF,
the second line's quantity changed and the third removed in one save, the history naming
``lines.1.quantity: 2 → 3``, the invoice downloaded, the order found by a line's SKU and
by its customer's name."""
import re

import pytest

from admin_kit import make_settings
from support.multipart import multipart

ORDERS = "/admin/shop/order/"
SHOP_APPS = ["core.audit", "apps.accounts", "apps.shop"]
CLERK = {"shop.order": ["read", "write"], "shop.customer": ["read"]}
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"


@pytest.fixture
def admin_settings(tmp_path):
    return make_settings(tmp_path, INSTALLED_APPS=SHOP_APPS)


@pytest.fixture
async def clerk(site):
    return await site.user_browser("clerk", CLERK)


async def post_multipart(browser, path, fields, files=()):
    body, content_type = multipart(dict(fields, _xsrf=await browser.xsrf()), files)
    return await browser.fetch(path, method="POST", body=body,
                               headers={"Content-Type": content_type})


def lines_form(*lines):
    form = {}
    for n, (sku, quantity, price) in enumerate(lines):
        form.update({f"lines-{n}-sku": sku, f"lines-{n}-title": "",
                     f"lines-{n}-quantity": str(quantity), f"lines-{n}-unit_price": price})
    return form


async def test_an_order_with_lines_and_an_invoice_edited_and_found(site, clerk):
    ada = await site.model("shop.customer").create(
        name="Ada Lovelace", email="ada@example.com",
        address={"city": "Paris", "country": "FR"}, db=site.db)
    page = await clerk.get(ORDERS + "add/")
    assert 'enctype="multipart/form-data"' in page.text
    base = {"customer": str(ada.id), "placed": "2026-11-30", "status": "new",
            "attributes": ""}
    added = await post_multipart(
        clerk, ORDERS + "add/",
        {**base, **lines_form(("pen", 1, "24.90"), ("ink", 2, "7.50"), ("pad", 1, "3.20"))},
        [("invoice", "invoice-7.pdf", "application/pdf", PDF)])
    assert added.code == 303, added.text[:3000]
    Order = site.model("shop.order")
    order = await Order.find_one({}, db=site.db)
    assert [li.sku for li in order.lines] == ["pen", "ink", "pad"]
    assert order.invoice.name == "invoice-7.pdf"

    download = await clerk.get(f"{ORDERS}{order.id}/file/invoice/")
    assert download.code == 200 and download.raw.body == PDF

    change = f"{ORDERS}{order.id}/change/"
    edit = {**base, **lines_form(("pen", 1, "24.90"), ("ink", 3, "7.50"), ("pad", 1, "3.20")),
            **{f"lines-{n}-ORIGIN": str(n) for n in range(3)}, "lines-2-REMOVE": "y",
            "_version": "1"}
    saved = await post_multipart(clerk, change, edit,
                                 [("invoice", "", "application/octet-stream", b"")])
    assert saved.code == 303, saved.text[:3000]
    await order.reload(db=site.db)
    assert [(li.sku, li.quantity) for li in order.lines] == [("pen", 1), ("ink", 3)]
    assert order.invoice.name == "invoice-7.pdf"                  # kept

    history = await clerk.get(f"{ORDERS}{order.id}/history/")
    row = re.search(r"lines\.1\.quantity.*?</tr>", history.text, re.S)
    assert row and re.search(r">\s*2\s*<.*>\s*3\s*<", row.group(0), re.S), history.text[-3000:]

    for q in ("ink", "Lovelace"):
        listing = await clerk.get(f"{ORDERS}?q={q}")
        assert listing.code == 200 and f"{ORDERS}{order.id}/" in listing.text, q
    assert f"{ORDERS}{order.id}/" not in (await clerk.get(f"{ORDERS}?q=lamp")).text

    api = await clerk.get(f"/api/shop/order/{order.id}")
    assert f'/api/shop/order/{order.id}/files/invoice' in api.text


async def test_the_demo_data_has_invoices_a_clerk_can_download(site, clerk):
    from apps.shop.demo import load_demo
    from core.db.files import files_of
    assert await load_demo(site.db) == {"customers": 8, "orders": 24}
    Order = site.model("shop.order")
    with_invoice = [o for o in await Order.find({}, db=site.db).to_list(None) if o.invoice]
    assert len(with_invoice) == 6
    assert len(await files_of(site.db).ids()) == 6
    order = with_invoice[0]
    download = await clerk.get(f"{ORDERS}{order.id}/file/invoice/")
    assert download.raw.body.startswith(b"%PDF-1.4") and b"Invoice" in download.raw.body
