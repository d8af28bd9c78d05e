"""Exports leave out what the admin leaves out at nested paths (issue 10): a dotted
``exclude`` (``lines.unit_price``) is blank in every CSV and JSON-lines row, through the
list export and "Export selected" alike, and a field hidden by the user's grant
(``-read:lines``: a field restriction names a top-level field, docs/permissions.md) is
no column at all."""
import csv
import io
import json

import pytest

from admin_kit import make_settings
from apps.shop.admin import OrderAdmin

ORDERS = "/admin/shop/order/"
PRICE = "987.65"
EXPORTER = {"shop.order": ["read", "export"], "shop.customer": ["read"]}


@pytest.fixture
def admin_settings(tmp_path):
    return make_settings(tmp_path, INSTALLED_APPS=["core.audit", "apps.accounts", "apps.shop"])


async def add_order(site):
    ada = await site.model("shop.customer").create(
        name="Ada", email="ada@example.com", address={"city": "Lyon", "country": "FR"},
        db=site.db)
    return await site.model("shop.order").create(
        customer=ada.id, placed="2026-03-01", db=site.db,
        lines=[{"sku": "pen", "title": "Pen", "quantity": 2, "unit_price": PRICE},
               {"sku": "ink", "title": "Ink", "quantity": 1, "unit_price": PRICE}])


async def exports(browser, order):
    """``{kind: text}`` of the list export and of "Export selected", in both formats."""
    found = {}
    for kind in ("csv", "jsonl"):
        listed = await browser.get(f"{ORDERS}export/?format={kind}")
        assert listed.code == 200, listed.text[:500]
        found[f"list-{kind}"] = listed.text
        chosen = await browser.post(f"{ORDERS}export/", [
            ("format", kind), ("_selected_action", str(order.id))])
        assert chosen.code == 200, chosen.text[:500]
        found[f"selected-{kind}"] = chosen.text
    return found


async def test_a_nested_exclude_is_blank_in_every_export(site, monkeypatch):
    order = await add_order(site)
    exporter = await site.user_browser("exporter", EXPORTER)
    before = await exports(exporter, order)
    assert all(PRICE in text for text in before.values())         # the control: it shows
    monkeypatch.setattr(OrderAdmin, "exclude", ["lines.unit_price"], raising=False)
    after = await exports(exporter, order)
    for name, text in after.items():
        assert PRICE not in text, (name, text)
        assert "Pen" in text and "ink" in text, (name, text)     # the rest of each line
    [row] = [json.loads(line) for line in after["list-jsonl"].splitlines()]
    assert [line["unit_price"] for line in row["lines"]] == [None, None]
    assert [line["quantity"] for line in row["lines"]] == [2, 1]
    stored = await site.model("shop.order").get(order.id, db=site.db)
    assert str(stored.lines[0].unit_price) == PRICE               # only the export blanks it


async def test_a_field_hidden_by_the_grant_is_no_column(site):
    order = await add_order(site)
    hiding = await site.user_browser("hiding", {"shop.order": ["read", "export", "-read:lines"],
                                                "shop.customer": ["read"]})
    for name, text in (await exports(hiding, order)).items():
        assert PRICE not in text and "Pen" not in text, (name, text)
    header = next(csv.reader(io.StringIO((await hiding.get(f"{ORDERS}export/?format=csv")).text)))
    assert "lines" not in header and "status" in header
