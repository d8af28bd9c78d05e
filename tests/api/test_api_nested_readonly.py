"""Dotted ``readonly_fields`` / ``exclude`` through the JSON API, as on the admin forms:
an excluded part (``address.street``, ``lines.title``) is never shown and survives a
write; a read-only part (``lines.quantity``) is accepted only unchanged (a GET can be
PUT back), else a 422 naming its path and nothing saved."""
import pytest

from apps.shop.admin import CustomerAdmin, OrderAdmin

CUSTOMERS, ORDERS = "/api/shop/customer/", "/api/shop/order/"
GRANTS = {"shop.order": ["read", "write"], "shop.customer": ["read", "write"]}


@pytest.fixture(autouse=True)
def nested_options(monkeypatch):
    monkeypatch.setattr(OrderAdmin, "readonly_fields", ["lines.quantity"], raising=False)
    monkeypatch.setattr(OrderAdmin, "exclude", ["lines.title"], raising=False)
    monkeypatch.setattr(CustomerAdmin, "exclude", ["address.street"], raising=False)


@pytest.fixture
async def shop(server):
    return await server(INSTALLED_APPS=["core.audit", "apps.accounts", "apps.shop"])


@pytest.fixture
async def stored(shop):
    ada = await shop.model("shop.customer").create(
        name="Ada", email="ada@example.com", db=shop.db,
        address={"street": "1 rue Secrète", "city": "Lyon", "country": "FR"})
    order = await shop.model("shop.order").create(
        customer=ada.id, placed="2026-03-01", db=shop.db,
        lines=[{"sku": "pen", "title": "Blue pen", "quantity": 4, "unit_price": "1"},
               {"sku": "ink", "title": "Ink pot", "quantity": 7, "unit_price": "2"}])
    return ada, order


async def test_an_excluded_part_is_not_shown_and_survives_a_put(shop, stored):
    ada, order = stored
    clerk = await shop.token_client("clerk", GRANTS)
    got = await clerk.get(f"{CUSTOMERS}{ada.id}")
    assert got.code == 200 and "Secrète" not in got.text
    assert got.json["address"]["street"] is None
    body = {**got.json, "address": {**got.json["address"], "city": "Paris",
                                    "street": "forged"}}
    put = await clerk.put(f"{CUSTOMERS}{ada.id}", body)
    assert put.code == 200, put
    await ada.reload(db=shop.db)
    assert (ada.address.city, ada.address.street) == ("Paris", "1 rue Secrète")


async def test_a_readonly_list_part_is_accepted_only_unchanged(shop, stored):
    _ada, order = stored
    clerk = await shop.token_client("clerk", GRANTS)
    got = await clerk.get(f"{ORDERS}{order.id}")
    assert [line["title"] for line in got.json["lines"]] == [None, None]
    lines = [{**got.json["lines"][0], "unit_price": "1.25"}, got.json["lines"][1]]
    put = await clerk.put(f"{ORDERS}{order.id}", {**got.json, "lines": lines})
    assert put.code == 200, put
    forged = await clerk.patch(f"{ORDERS}{order.id}", {"lines.1.quantity": 70})
    assert forged.code == 422 and "lines.1.quantity" in forged.json["fields"], forged
    await order.reload(db=shop.db)
    assert [(li.quantity, li.title, str(li.unit_price)) for li in order.lines] == [
        (4, "Blue pen", "1.25"), (7, "Ink pot", "2.00")]
