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


async def test_rows_keep_their_hidden_parts_when_a_put_reorders_removes_and_adds(shop, stored):
    _ada, order = stored
    clerk = await shop.token_client("clerk", GRANTS)
    got = await clerk.get(f"{ORDERS}{order.id}")
    assert [line["_row"] for line in got.json["lines"]] == [0, 1]
    pen, ink = got.json["lines"]
    swapped = await clerk.put(f"{ORDERS}{order.id}", {**got.json, "lines": [ink, pen]})
    assert swapped.code == 200, swapped
    assert [(line["sku"], line["_row"]) for line in swapped.json["lines"]] == [
        ("ink", 0), ("pen", 1)]
    await order.reload(db=shop.db)
    # each line kept its own excluded title and read-only quantity, not its position's
    assert [(li.sku, li.title, li.quantity) for li in order.lines] == [
        ("ink", "Ink pot", 7), ("pen", "Blue pen", 4)]
    got = await clerk.get(f"{ORDERS}{order.id}")
    new = {"sku": "pad", "quantity": 1, "unit_price": "3", "title": "forged"}
    put = await clerk.put(f"{ORDERS}{order.id}", {**got.json,
                                                  "lines": [got.json["lines"][1], new]})
    assert put.code == 200, put
    await order.reload(db=shop.db)
    assert [(li.sku, li.title, li.quantity) for li in order.lines] == [
        ("pen", "Blue pen", 4), ("pad", None, 1)]


async def test_a_row_origin_that_is_no_stored_row_is_a_422(shop, stored):
    _ada, order = stored
    clerk = await shop.token_client("clerk", GRANTS)
    got = await clerk.get(f"{ORDERS}{order.id}")
    pen, ink = got.json["lines"]
    for lines, where in (([{**pen, "_row": 5}, ink], "lines.0._row"),
                         ([pen, {**ink, "_row": 0}], "lines.1._row"),
                         ([{**pen, "_row": "0"}, ink], "lines.0._row")):
        put = await clerk.put(f"{ORDERS}{order.id}", {**got.json, "lines": lines})
        assert put.code == 422 and where in put.json["fields"], put
    moved = await clerk.put(f"{ORDERS}{order.id}", {**got.json, "lines": [
        {**ink, "quantity": 4}, {**pen, "quantity": 7}]})      # read-only parts follow rows
    assert moved.code == 422 and "lines.0.quantity" in moved.json["fields"], moved
    await order.reload(db=shop.db)
    assert [(li.sku, li.title, li.quantity) for li in order.lines] == [
        ("pen", "Blue pen", 4), ("ink", "Ink pot", 7)]


async def test_the_row_origin_error_is_in_the_clients_language(shop, stored):
    _ada, order = stored
    clerk = await shop.token_client("clerk", GRANTS, language="fr")
    got = await clerk.get(f"{ORDERS}{order.id}")
    pen, ink = got.json["lines"]
    lines = [{**pen, "_row": 9}, ink]
    put = await clerk.put(f"{ORDERS}{order.id}", {**got.json, "lines": lines})
    message = put.json["fields"]["lines.0._row"]
    assert put.code == 422 and message.startswith("Pas une ligne de la liste"), put
