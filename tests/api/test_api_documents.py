"""Nested documents through the API, on the shop app: sub-documents and lists of them in
and out, decimals as strings, dates, a PATCH of one nested part by its dotted key, and
422s naming the dotted path of the bad part (nothing saved)."""
import datetime
import decimal
import re

import pytest

CUSTOMERS, ORDERS = "/api/shop/customer/", "/api/shop/order/"
SHOP_APPS = ["core.audit", "apps.accounts", "apps.shop"]


@pytest.fixture
async def shop(server):
    return await server(INSTALLED_APPS=SHOP_APPS)


@pytest.fixture
async def root(shop):
    return await shop.token_client("root", is_superuser=True)


@pytest.fixture
async def customer(root):
    reply = await root.post(CUSTOMERS, {
        "name": "Ada", "email": "ada@example.com", "tags": ["vip"],
        "address": {"street": "1 rue Neuve", "city": "Lyon", "postcode": "69001",
                    "country": "FR"},
        "notes": {"since": 2019, "channels": ["mail", {"kind": "phone"}]}})
    assert reply.code == 201, reply
    return reply.json


LINES = [{"sku": "pen", "title": "Pen", "quantity": 2, "unit_price": "1.50"},
         {"sku": "ink", "title": "Ink", "quantity": 1, "unit_price": "12"},
         {"sku": "pad", "title": "Pad", "quantity": 3, "unit_price": "0.99"}]


async def test_nested_objects_in_and_out(shop, root, customer):
    assert customer["address"] == {"street": "1 rue Neuve", "city": "Lyon",
                                   "postcode": "69001", "country": "FR"}
    assert customer["notes"] == {"since": 2019, "channels": ["mail", {"kind": "phone"}]}
    reply = await root.post(ORDERS, {"customer": customer["id"], "placed": "2026-02-28",
                                     "lines": LINES, "attributes": {"gift": True}})
    assert reply.code == 201, reply
    order = reply.json
    assert order["placed"] == "2026-02-28"
    assert [line["unit_price"] for line in order["lines"]] == ["1.50", "12.00", "0.99"]
    Order = shop.model("shop.order")
    stored = await Order.get(order["id"], db=shop.db)
    assert stored.placed == datetime.date(2026, 2, 28)
    assert stored.lines[1].unit_price == decimal.Decimal("12.00")
    assert stored.total() == decimal.Decimal("17.97")
    again = await root.get(f"{ORDERS}{order['id']}")
    assert again.json == order


async def test_patch_sets_one_nested_part_by_its_dotted_key(shop, root, customer):
    order = (await root.post(ORDERS, {"customer": customer["id"], "placed": "2026-03-01",
                                      "lines": LINES})).json
    patch = {"lines.1.quantity": 3, "attributes.colour": "red", "version": order["version"]}
    reply = await root.patch(f"{ORDERS}{order['id']}", patch)
    assert reply.code == 200, reply
    assert [line["quantity"] for line in reply.json["lines"]] == [2, 3, 3]
    assert reply.json["lines"][0] == LINES[0]                     # the rest is kept
    assert reply.json["attributes"] == {"colour": "red"}
    reply = await root.patch(f"{CUSTOMERS}{customer['id']}", {"address.city": "Paris"})
    assert reply.code == 200, reply
    assert reply.json["address"] == {**customer["address"], "city": "Paris"}
    entries = await shop.audit_entries(object_id=order["id"], action="update")
    assert entries, entries
    assert entries[-1].changes == {"lines.1.quantity": {"before": 1, "after": 3},
                                   "attributes.colour": {"before": None, "after": "red"}}


@pytest.mark.parametrize("body, path", [
    ({"lines.2.quantity": 0}, "lines.2.quantity"),
    ({"lines.0.unit_price": "1.234"}, "lines.0.unit_price"),
    ({"lines.0.unit_price": {"$gt": ""}}, "lines.0.unit_price"),
    ({"lines.7.quantity": 1}, "lines.7.quantity"),
    ({"lines.x": 1}, "lines.x"),
    ({"lines.0.colour": "red"}, "lines.0.colour"),
    ({"lines": [], "lines.0.sku": "x"}, "lines.0.sku"),
    ({"attributes.$where": 1}, "attributes"),
    ({"placed": "2026-02-30"}, "placed"),
    ({"placed.year": 2026}, "placed.year"),
    ({"lines": []}, "lines"),
])
async def test_bad_nested_values_are_422_with_dotted_paths(shop, root, customer, body, path):
    order = (await root.post(ORDERS, {"customer": customer["id"], "placed": "2026-03-01",
                                      "lines": LINES})).json
    reply = await root.patch(f"{ORDERS}{order['id']}", body)
    assert reply.code == 422, reply
    assert path in reply.json["fields"], reply.json
    assert (await root.get(f"{ORDERS}{order['id']}")).json == order


async def test_a_bad_line_on_create_names_its_position(shop, root, customer):
    lines = [LINES[0], {"sku": "bad sku", "quantity": -1, "unit_price": "x"}]
    reply = await root.post(ORDERS, {"customer": customer["id"], "placed": "2026-03-01",
                                     "lines": lines})
    assert reply.code == 422, reply
    assert set(reply.json["fields"]) == {"lines.1.sku", "lines.1.quantity",
                                         "lines.1.unit_price"}
    reply = await root.post(CUSTOMERS, {"name": "B", "email": "b@example.com",
                                        "address": {"country": "FR"}})
    assert reply.code == 422 and reply.json["fields"] == {
        "address.city": "This field is required."}
    assert await shop.model("shop.order").count({}, db=shop.db) == 0


async def test_openapi_describes_nested_fields(root):
    doc = (await root.get("/api/openapi.json")).json
    order = doc["components"]["schemas"]["shop_order"]["properties"]
    assert order["placed"]["format"] == "date"
    line = order["lines"]["items"]
    assert line["type"] == "object" and line["additionalProperties"] is False
    assert line["required"] == ["sku", "quantity", "unit_price"]
    assert line["properties"]["unit_price"]["type"] == "string"
    assert line["properties"]["unit_price"]["format"] == "decimal"
    assert line["properties"]["quantity"]["minimum"] == 1
    assert order["lines"]["minItems"] == 1 and order["lines"]["maxItems"] == 100
    assert order["attributes"]["type"] == "object"
    customer = doc["components"]["schemas"]["shop_customer"]["properties"]
    assert customer["address"]["properties"]["country"]["enum"][0] == "FR"
    assert customer["tags"]["uniqueItems"] is True


PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
CLERK = {"shop.order": ["read", "write"], "shop.customer": ["read"]}


async def test_the_issue_scenario_through_the_api(shop, root, customer):
    """Issue 10's "Done when" through the API: an order with three lines and an invoice
    PDF, the second line's quantity edited and the third removed, the history naming
    ``lines.1.quantity: 2 → 3``."""
    clerk = await shop.session_client("clerk", CLERK)
    lines = [dict(line, quantity=n) for n, line in zip((1, 2, 1), LINES)]
    order = (await clerk.post(ORDERS, {"customer": customer["id"], "placed": "2026-11-30",
                                       "lines": lines}))
    assert order.code == 201, order
    order = order.json
    url = f"{ORDERS}{order['id']}/files/invoice"
    uploaded = await clerk.request("PUT", f"{url}?filename=invoice-7.pdf", raw=PDF,
                                   content_type="application/pdf",
                                   headers={"If-Match": f'"{order["version"]}"'})
    assert uploaded.code == 200, uploaded
    assert uploaded.json["invoice"]["name"] == "invoice-7.pdf"
    edited = [lines[0], dict(lines[1], quantity=3)]
    reply = await clerk.patch(f"{ORDERS}{order['id']}", {
        "lines": edited, "version": uploaded.json["version"]})
    assert reply.code == 200, reply
    assert [(li["sku"], li["quantity"]) for li in reply.json["lines"]] == [("pen", 1),
                                                                           ("ink", 3)]
    assert reply.json["invoice"]["url"] == url                      # the file is kept
    assert (await clerk.get(url)).raw.body == PDF
    [entry] = [e for e in await shop.audit_entries(object_id=order["id"], action="update")
               if "lines.1.quantity" in e.changes]
    assert entry.changes["lines.1.quantity"] == {"before": 2, "after": 3}
    assert "lines.2" in entry.changes or "lines.2.sku" in entry.changes
    history = await clerk.get(f"/admin/shop/order/{order['id']}/history/")
    assert history.code == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", history.raw.body.decode()))
    assert re.search(r"Lines\.1\.quantity 2 3", text, re.I), text[-2000:]
