"""Rows of sub-documents moved without JavaScript ("Move up" / "Move down" submit the form
and it comes back with the two rows swapped, nothing saved; the save keeps that order and
the history diffs by position), and datetimes inside sub-documents shown and typed in
the user's time zone while a ``DateField`` is never shifted (issue 10 items 3 and 5)."""
import datetime
import re

import pytest

from admin_kit import make_settings

ORDERS, TRIPS = "/admin/shop/order/", "/admin/trips/trip/"
UTC = datetime.timezone.utc
CLERK = {"shop.order": ["read", "write"], "shop.customer": ["read"],
         "trips.trip": ["read", "write"], "trips.guide": ["read"]}


@pytest.fixture
def admin_settings(tmp_path):
    return make_settings(tmp_path, INSTALLED_APPS=["core.audit", "apps.accounts",
                                                   "apps.shop", "trips_demo"])


@pytest.fixture
async def clerk(site):
    return await site.user_browser("clerk", CLERK, time_zone="Pacific/Kiritimati")


def value_of(text, name):
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', text)
    assert match, f"no input {name}"
    found = re.search(r'value="([^"]*)"', match.group(0))
    return found.group(1) if found else ""


def skus(text):
    return [value_of(text, f"lines-{n}-sku") for n in range(len(re.findall(
        r'name="lines-\d+-sku"', text)))]


async def three_line_order(site):
    ada = await site.model("shop.customer").create(
        name="Ada", email="ada@example.com", address={"city": "Lyon", "country": "FR"},
        db=site.db)
    order = await site.model("shop.order").create(
        customer=ada.id, placed="2026-03-01", db=site.db,
        lines=[{"sku": "pen", "quantity": 1, "unit_price": "1"},
               {"sku": "ink", "quantity": 2, "unit_price": "2"},
               {"sku": "pad", "quantity": 3, "unit_price": "3"}])
    return ada, order


def posted_order(ada, text):
    """The change form as the page shows it (every row's inputs, ORIGIN included)."""
    form = {"customer": str(ada.id), "placed": "2026-03-01", "status": "new",
            "attributes": "", "_version": value_of(text, "_version")}
    for n in range(len(skus(text))):
        for part in ("sku", "title", "quantity", "unit_price", "ORIGIN"):
            form[f"lines-{n}-{part}"] = value_of(text, f"lines-{n}-{part}")
    return form


async def test_move_a_row_up_without_javascript_then_save_the_new_order(site, clerk):
    ada, order = await three_line_order(site)
    change = f"{ORDERS}{order.id}/change/"
    page = await clerk.get(change)
    assert 'name="_move_row" value="lines-2:up"' in page.text
    assert 'data-rows="lines"' in page.text and 'data-row="lines-1"' in page.text
    assert re.search(r'value="lines-0:up"[^>]*disabled', page.text)     # first row: no "up"
    assert not re.search(r'value="lines-1:up"[^>]*disabled', page.text)
    moved = await clerk.post(change, {**posted_order(ada, page.text),
                                      "_move_row": "lines-2:up"})
    assert moved.code == 200
    assert skus(moved.text) == ["pen", "pad", "ink"]
    assert [value_of(moved.text, f"lines-{n}-ORIGIN") for n in range(3)] == ["0", "2", "1"]
    await order.reload(db=site.db)
    assert [li.sku for li in order.lines] == ["pen", "ink", "pad"]      # nothing saved yet
    down = await clerk.post(change, {**posted_order(ada, moved.text),
                                     "_move_row": "lines-0:down"})
    assert skus(down.text) == ["pad", "pen", "ink"]
    form = posted_order(ada, down.text)
    form["lines-1-quantity"] = "5"                                      # pen: 1 → 5
    saved = await clerk.post(change, form)
    assert saved.code == 303, saved.text[:2000]
    await order.reload(db=site.db)
    assert [(li.sku, li.quantity) for li in order.lines] == [
        ("pad", 3), ("pen", 5), ("ink", 2)]
    history = await clerk.get(f"{ORDERS}{order.id}/history/")
    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", history.text))
    assert "Lines.0.sku pen pad" in shown                  # the history diffs by position


@pytest.mark.parametrize("move", ["lines-7:up", "lines-1:sideways", "nothing-0:up",
                                  "lines-x:down", ""])
async def test_a_move_of_no_such_row_is_a_400_and_changes_nothing(site, clerk, move):
    ada, order = await three_line_order(site)
    change = f"{ORDERS}{order.id}/change/"
    page = await clerk.get(change)
    answer = await clerk.post(change, {**posted_order(ada, page.text), "_move_row": move})
    assert answer.code == 400 and "no such row" in answer.text
    await order.reload(db=site.db)
    assert [li.sku for li in order.lines] == ["pen", "ink", "pad"] and order.version == 1


async def test_a_move_past_either_end_leaves_the_rows_as_they_are(site, clerk):
    ada, order = await three_line_order(site)
    change = f"{ORDERS}{order.id}/change/"
    page = await clerk.get(change)
    same = await clerk.post(change, {**posted_order(ada, page.text), "_move_row": "lines-2:down"})
    assert same.code == 200 and skus(same.text) == ["pen", "ink", "pad"]


async def test_nested_datetimes_are_shown_and_typed_in_the_users_zone(site, clerk):
    Trip = site.model("trips.trip")
    trip = await Trip.create(title="north", db=site.db, stop={
        "place": "oslo", "arrives": datetime.datetime(2026, 3, 1, 11, 0, tzinfo=UTC),
        "day": "2026-03-01"}, stops=[{"place": "nice", "arrives": datetime.datetime(
            2026, 6, 1, 22, 30, tzinfo=UTC)}])
    change = f"{TRIPS}{trip.id}/change/"
    page = await clerk.get(change)
    assert page.code == 200
    assert value_of(page.text, "stop-arrives")[:16] == "2026-03-02T01:00"   # UTC+14
    assert value_of(page.text, "stops-0-arrives")[:16] == "2026-06-02T12:30"
    assert value_of(page.text, "stop-day") == "2026-03-01"                 # never shifted
    assert "Time zone: Pacific/Kiritimati." in page.text
    form = {"title": "north", "_version": "1", "stop-place": "oslo",
            "stop-arrives": "2026-03-05T10:00", "stop-day": "2026-03-05", "stop-guide": "",
            "stops-0-place": "nice", "stops-0-arrives": "2026-06-02T12:30",
            "stops-0-day": "", "stops-0-guide": "", "stops-0-ORIGIN": "0"}
    saved = await clerk.post(change, form)
    assert saved.code == 303, saved.text[:2000]
    await trip.reload(db=site.db)
    assert trip.stop.arrives == datetime.datetime(2026, 3, 4, 20, 0, tzinfo=UTC)
    assert trip.stop.day == datetime.date(2026, 3, 5)
    assert trip.stops[0].arrives == datetime.datetime(2026, 6, 1, 22, 30, tzinfo=UTC)
