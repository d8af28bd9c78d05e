"""Issue 10, "Done when": an existing MongoDB collection with nested documents, written by
another program (raw inserts: no ``version``, keys no model declares, decimals as
Decimal128, dates as midnight UTC), is described by the shop's models and administered
without flattening it — listed (a column inside the customer, "3 lines"), filtered
(by status, by a line's SKU, by the customer's country through the reference), edited
(the second line's quantity, the third line removed) and its history read
(``lines.1.quantity: 2 → 3``); the keys no model declares survive the save."""
import datetime
import html
import re

import pytest
from bson import Decimal128, ObjectId

from admin_kit import make_settings
from support.pages import text_of

ORDERS = "/admin/shop/order/"
CLERK = {"shop.order": ["read", "write"], "shop.customer": ["read"]}
UTC = datetime.timezone.utc


@pytest.fixture
def admin_settings(tmp_path):
    return make_settings(tmp_path, INSTALLED_APPS=["core.audit", "apps.accounts", "apps.shop"])


async def raw_shop(site):
    """Documents as another program wrote them, straight into the collections."""
    Customer, Order = site.model("shop.customer"), site.model("shop.order")
    ada, bea, order, other = ObjectId(), ObjectId(), ObjectId(), ObjectId()
    await Customer.get_collection(site.db).insert_many([
        {"_id": ada, "name": "Ada", "email": "ada@example.com", "crm_id": 17,
         "address": {"street": "1 rue X", "city": "Lyon", "country": "FR",
                     "geo": {"lat": 45.76, "lon": 4.83}}},
        {"_id": bea, "name": "Bea", "email": "bea@example.com",
         "address": {"city": "Bonn", "country": "DE"}}])
    await Order.get_collection(site.db).insert_many([
        {"_id": order, "customer": ada, "status": "paid",
         "placed": datetime.datetime(2026, 3, 1, tzinfo=UTC), "source": "legacy-shop",
         "lines": [{"sku": "pen", "title": "Pen", "quantity": 1,
                    "unit_price": Decimal128("24.90"), "warehouse": "A"},
                   {"sku": "ink", "title": "Ink", "quantity": 2,
                    "unit_price": Decimal128("7.50"), "warehouse": "B"},
                   {"sku": "pad", "title": "Pad", "quantity": 1,
                    "unit_price": Decimal128("3.20")}],
         "attributes": {"gift": True}},
        {"_id": other, "customer": bea, "status": "new",
         "placed": datetime.datetime(2026, 3, 2, tzinfo=UTC),
         "lines": [{"sku": "cap", "quantity": 1, "unit_price": Decimal128("1.00")}]}])
    return ada, order, other


def row_of(text, oid):
    found = re.search(rf'<tr data-id="{oid}">(.*?)</tr>', text, re.S)
    return text_of(html.unescape(found.group(1))) if found else None


async def test_an_existing_nested_collection_is_listed_filtered_edited_and_audited(site):
    ada, order, other = await raw_shop(site)
    clerk = await site.user_browser("clerk", CLERK)

    listing = await clerk.get(ORDERS)
    assert listing.code == 200, listing.text[:2000]
    row = row_of(listing.text, order)
    assert row is not None and "Lyon" in row and "3 lines" in row and "43.10" in row, row
    for query, shown in (("?status=paid", [order]), ("?q=cap", [other]),
                         ("?customer.address.country=DE", [other]),
                         ("?placed__gte=2026-03-02", [other])):
        page = await clerk.get(ORDERS + query)
        assert page.code == 200, (query, page.text[:1000])
        assert [oid for oid in (order, other) if row_of(page.text, oid)] == shown, query

    change = f"{ORDERS}{order}/change/"
    form_page = await clerk.get(change)
    assert form_page.code == 200
    assert 'value="7.50"' in form_page.text and 'value="ink"' in form_page.text
    # a document no Bastion save has versioned yet carries version 0 on the form
    assert 'name="_version" value="0"' in form_page.text
    form = {"customer": str(ada), "placed": "2026-03-01", "status": "paid",
            "attributes": '{"gift": true}', "_version": "0"}
    for n, (sku, title, quantity, price) in enumerate((
            ("pen", "Pen", 1, "24.90"), ("ink", "Ink", 3, "7.50"), ("pad", "Pad", 1, "3.20"))):
        form.update({f"lines-{n}-sku": sku, f"lines-{n}-title": title,
                     f"lines-{n}-quantity": str(quantity), f"lines-{n}-unit_price": price,
                     f"lines-{n}-ORIGIN": str(n)})
    form["lines-2-REMOVE"] = "y"
    saved = await clerk.post(change, form)
    assert saved.code == 303, text_of(saved.text)[-1500:]

    stored = await site.model("shop.order").get_collection(site.db).find_one({"_id": order})
    assert [(li["sku"], li["quantity"]) for li in stored["lines"]] == [("pen", 1), ("ink", 3)]
    assert stored["lines"][1]["unit_price"] == Decimal128("7.50")          # still exact
    assert [li.get("warehouse") for li in stored["lines"]] == ["A", "B"]    # undeclared keys
    assert stored["source"] == "legacy-shop" and stored["attributes"] == {"gift": True}
    assert stored["version"] == 1

    history = await clerk.get(f"{ORDERS}{order}/history/")
    text = re.sub(r"\s+", " ", text_of(history.text))
    assert re.search(r"lines\.1\.quantity 2 3", text, re.I), text[-2000:]
