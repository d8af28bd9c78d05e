"""Read-only and excluded fields at nested paths (issue 10 item 3): ``readonly_fields =
["lines.quantity", "address.country"]`` shows the stored value as text with no input and
ignores a posted one; ``exclude = ["address.street", "lines.title"]`` leaves the input
out and the stored value survives a save; the checks accept these paths."""
import datetime
import json
import re

import pytest

from admin_kit import make_settings
from apps.shop.admin import CustomerAdmin, OrderAdmin
from core.admin import ModelAdmin
from trips_demo.admin import TripAdmin
from core.admin.checks import check_model_admin

ORDERS, CUSTOMERS, TRIPS = "/admin/shop/order/", "/admin/shop/customer/", "/admin/trips/trip/"
CLERK = {"shop.order": ["read", "write"], "shop.customer": ["read", "write"]}


@pytest.fixture
def admin_settings(tmp_path):
    return make_settings(tmp_path, INSTALLED_APPS=["core.audit", "apps.accounts", "apps.shop",
                                                   "trips_demo"])


@pytest.fixture(autouse=True)
def nested_options(monkeypatch):
    monkeypatch.setattr(OrderAdmin, "readonly_fields", ["lines.quantity"], raising=False)
    monkeypatch.setattr(OrderAdmin, "exclude", ["lines.title"], raising=False)
    monkeypatch.setattr(CustomerAdmin, "readonly_fields", ["address.country"], raising=False)
    monkeypatch.setattr(CustomerAdmin, "exclude", ["address.street"], raising=False)
    monkeypatch.setattr(TripAdmin, "readonly_fields", ["stop.guide", "stops.guide",
                                                       "stop.arrives", "stops.booked"],
                        raising=False)


@pytest.fixture
async def clerk(site):
    return await site.user_browser("clerk", CLERK)


def value_of(text, name):
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', text)
    assert match, f"no input {name}"
    found = re.search(r'value="([^"]*)"', match.group(0))
    return found.group(1) if found else ""


def readonly_value(text, name):
    match = re.search(rf'id="id_{re.escape(name)}"><span class="label">[^<]*</span>'
                      r'<div class="readonly-value"[^>]*>([^<]*)</div>', text)
    assert match, f"no read-only {name}"
    return match.group(1)


async def order_with_lines(site):
    ada = await site.model("shop.customer").create(
        name="Ada", email="ada@example.com", address={"city": "Lyon", "country": "FR"},
        db=site.db)
    order = await site.model("shop.order").create(
        customer=ada.id, placed="2026-03-01", db=site.db,
        lines=[{"sku": "pen", "title": "Blue pen", "quantity": 4, "unit_price": "1"},
               {"sku": "ink", "title": "Ink pot", "quantity": 7, "unit_price": "2"}])
    return ada, order


def posted_order(ada, text, rows=2):
    form = {"customer": str(ada.id), "placed": "2026-03-01", "status": "new",
            "attributes": "", "_version": value_of(text, "_version")}
    for n in range(rows):
        for part in ("sku", "unit_price", "ORIGIN"):
            form[f"lines-{n}-{part}"] = value_of(text, f"lines-{n}-{part}")
    return form


async def test_a_readonly_list_path_is_text_in_every_row_and_a_posted_value_is_ignored(
        site, clerk):
    ada, order = await order_with_lines(site)
    change = f"{ORDERS}{order.id}/change/"
    page = await clerk.get(change)
    assert page.code == 200
    assert 'name="lines-0-quantity"' not in page.text
    assert 'name="lines-1-quantity"' not in page.text
    assert readonly_value(page.text, "lines-0-quantity") == "4"
    assert readonly_value(page.text, "lines-1-quantity") == "7"
    assert 'data-default="1">7<' in page.text           # what rows.js shows in a new row
    assert 'name="lines-0-title"' not in page.text and "Blue pen" not in page.text
    form = posted_order(ada, page.text)
    form.update({"lines-0-quantity": "99", "lines-1-quantity": "98",
                 "lines-0-title": "Forged", "lines-0-unit_price": "1.50"})
    saved = await clerk.post(change, form)
    assert saved.code == 303, saved.text[:2000]
    await order.reload(db=site.db)
    assert [(li.sku, li.quantity, li.title, str(li.unit_price)) for li in order.lines] == [
        ("pen", 4, "Blue pen", "1.50"), ("ink", 7, "Ink pot", "2.00")]


async def test_a_moved_row_keeps_its_readonly_and_excluded_values(site, clerk):
    ada, order = await order_with_lines(site)
    change = f"{ORDERS}{order.id}/change/"
    page = await clerk.get(change)
    moved = await clerk.post(change, {**posted_order(ada, page.text),
                                      "_move_row": "lines-1:up"})
    assert moved.code == 200
    assert value_of(moved.text, "lines-0-sku") == "ink"
    assert readonly_value(moved.text, "lines-0-quantity") == "7"      # by ORIGIN, not index
    assert readonly_value(moved.text, "lines-1-quantity") == "4"
    saved = await clerk.post(change, posted_order(ada, moved.text))
    assert saved.code == 303, saved.text[:2000]
    await order.reload(db=site.db)
    assert [(li.sku, li.quantity, li.title) for li in order.lines] == [
        ("ink", 7, "Ink pot"), ("pen", 4, "Blue pen")]


async def test_an_added_row_gets_the_default_and_a_removed_one_goes(site, clerk):
    ada, order = await order_with_lines(site)
    change = f"{ORDERS}{order.id}/change/"
    page = await clerk.get(change)
    added = await clerk.post(change, {**posted_order(ada, page.text), "_add_row": "lines"})
    assert added.code == 200
    assert readonly_value(added.text, "lines-2-quantity") == "1"      # Line.quantity's default
    form = posted_order(ada, added.text, rows=3)
    form.update({"lines-2-sku": "pad", "lines-2-unit_price": "3", "lines-2-quantity": "50",
                 "lines-0-REMOVE": "y"})
    saved = await clerk.post(change, form)
    assert saved.code == 303, saved.text[:2000]
    await order.reload(db=site.db)
    assert [(li.sku, li.quantity, li.title) for li in order.lines] == [
        ("ink", 7, "Ink pot"), ("pad", 1, None)]


async def test_the_add_form_shows_the_default_read_only(site, clerk):
    page = await clerk.get(f"{ORDERS}add/")
    assert page.code == 200
    assert 'name="lines-0-quantity"' not in page.text
    assert readonly_value(page.text, "lines-0-quantity") == "1"


async def test_a_readonly_and_an_excluded_subdocument_part_survive_a_save(site, clerk):
    Customer = site.model("shop.customer")
    ada = await Customer.create(name="Ada", email="ada@example.com", db=site.db, address={
        "street": "1 rue Secrète", "city": "Lyon", "country": "FR"})
    change = f"{CUSTOMERS}{ada.id}/change/"
    page = await clerk.get(change)
    assert page.code == 200
    assert 'name="address-country"' not in page.text and 'name="address-street"' not in \
        page.text
    assert readonly_value(page.text, "address-country") == "France"
    assert "Secrète" not in page.text
    saved = await clerk.post(change, {
        "name": "Ada L", "email": "ada@example.com", "address-city": "Paris",
        "address-postcode": "", "address-country": "DE", "address-street": "forged",
        "tags": "", "notes": "", "_version": value_of(page.text, "_version")})
    assert saved.code == 303, saved.text[:2000]
    await ada.reload(db=site.db)
    assert (ada.name, ada.address.city, ada.address.country, ada.address.street) == (
        "Ada L", "Paris", "FR", "1 rue Secrète")
    detail = await clerk.get(f"{CUSTOMERS}{ada.id}/")
    assert detail.code == 200 and "Paris" in detail.text and "Secrète" not in detail.text


def test_the_checks_accept_nested_paths_and_name_a_bad_one(site):
    order, customer = site.model("shop.order"), site.model("shop.customer")
    assert check_model_admin(OrderAdmin(order)) == []
    assert check_model_admin(CustomerAdmin(customer)) == []
    bad = type("BadOrderAdmin", (ModelAdmin,), {
        "readonly_fields": ["lines.qty", "customer.name", "attributes.colour"],
        "exclude": ["lines.nope"]})
    found = {(m.id, m.option, m.value) for m in check_model_admin(bad(order))}
    assert found == {("admin.E080", "readonly_fields", "lines.qty"),
                     ("admin.E033", "readonly_fields", "customer.name"),
                     ("admin.E033", "readonly_fields", "attributes.colour"),
                     ("admin.E090", "exclude", "lines.nope")}


@pytest.mark.parametrize("may_read_guides", [True, False])
async def test_a_readonly_nested_reference_shows_its_label_only_to_who_may_read_it(
        site, may_read_guides):
    grants = {"trips.trip": ["read", "write"], **(
        {"trips.guide": ["read"]} if may_read_guides else {})}
    user = await site.user_browser("planner", grants)
    mia = await site.model("trips.guide").create(name="Mia Secret", db=site.db)
    trip = await site.model("trips.trip").create(
        title="north", db=site.db, stop={"place": "oslo", "guide": mia.id},
        stops=[{"place": "nice", "guide": mia.id}])
    page = await user.get(f"{TRIPS}{trip.id}/change/")
    assert page.code == 200
    assert 'name="stop-guide"' not in page.text and 'name="stops-0-guide"' not in page.text
    shown = readonly_value(page.text, "stops-0-guide")
    assert shown == readonly_value(page.text, "stop-guide")
    assert str(mia.id) not in page.text
    if may_read_guides:
        assert shown == "Mia Secret"
    else:
        assert "Mia Secret" not in page.text and shown


async def test_trips_demo_declares_a_nested_readonly_path_and_moments_show_in_the_users_zone(
        site, monkeypatch):
    monkeypatch.undo()                          # the demo's own options
    assert TripAdmin.readonly_fields == ["stops.booked"]
    user = await site.user_browser("planner", {"trips.trip": ["read", "write"]},
                                   time_zone="Pacific/Kiritimati")
    trip = await site.model("trips.trip").create(
        title="north", db=site.db, stop={"place": "oslo", "arrives": datetime.datetime(
            2026, 3, 1, 11, 0, tzinfo=datetime.timezone.utc)},
        stops=[{"place": "nice", "booked": True}])
    change = f"{TRIPS}{trip.id}/change/"
    page = await user.get(change)
    assert 'name="stops-0-booked"' not in page.text
    assert readonly_value(page.text, "stops-0-booked") == "Yes"
    monkeypatch.setattr(TripAdmin, "readonly_fields", ["stop.arrives"])
    page = await user.get(change)
    assert 'name="stop-arrives"' not in page.text
    shown = readonly_value(page.text, "stop-arrives")
    assert "2026" in shown and "01:00" in shown and "11:00" not in shown        # UTC+14


async def test_an_import_gives_nested_readonly_and_excluded_parts_their_defaults(
        site, monkeypatch):
    monkeypatch.setattr(CustomerAdmin, "readonly_fields", ["address.postcode"])
    importer = await site.user_browser("importer", {"shop.customer": ["read", "write"]})
    row = json.dumps({"name": "Bea", "email": "bea@example.com", "address": {
        "street": "forged street", "city": "Nice", "postcode": "666", "country": "DE"}})
    done = await importer.post(f"{CUSTOMERS}import/",
                               {"format": "jsonl", "payload": row, "_apply": "1"})
    assert done.code == 303, done.text[:2000]
    bea = await site.model("shop.customer").find_one({"name": "Bea"}, db=site.db)
    assert (bea.address.city, bea.address.country) == ("Nice", "DE")
    assert (bea.address.street, bea.address.postcode) == (None, None)
