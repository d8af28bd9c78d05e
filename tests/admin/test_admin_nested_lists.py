"""The list page on paths into sub-documents (issue 10 items 4 and 8): ``list_display``,
``list_filter`` and ``?o=`` take ``stop.place``-style paths; filters on choices, booleans,
datetimes, dates and references inside a sub-document and inside a list of them; date
presets in the user's time zone (a ``DateField`` never shifted); reference columns are
not sortable by default; bad values a 400 — on the ``trips_demo`` app and the shop."""
import datetime
import html
import re

import pytest

from admin_kit import make_settings
from desk_kit import sidebar, sidebar_link

from core.admin.checks import check_model_admin

TRIPS = "/admin/trips/trip/"
UTC = datetime.timezone.utc
#: UTC+14: the user's today is often not the UTC today
ZONE = "Pacific/Kiritimati"


@pytest.fixture
def admin_settings(tmp_path):
    return make_settings(tmp_path, INSTALLED_APPS=["core.audit", "apps.accounts",
                                                   "trips_demo", "apps.shop"])


@pytest.fixture
async def root(site):
    return await site.user_browser("root", is_superuser=True, time_zone=ZONE)


def titles(text):
    return [html.unescape(t) for t in re.findall(
        r'<a href="/admin/trips/trip/[0-9a-f]{24}/">([^<]*)</a>', text)]


def headers(text):
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(
        r'<th scope="col" class="column-[^"]*"[^>]*>(.*?)</th>', text, re.S)]


def header_links(text):
    return {html.unescape(label): html.unescape(url) for url, label in re.findall(
        r'<th[^>]*>\s*<a href="([^"]*)"[^>]*>([^<]*)</a>', text)}


async def add_trips(site):
    Guide, Trip = site.model("trips.guide"), site.model("trips.trip")
    ann = await Guide.create(name="Ann", db=site.db)
    bob = await Guide.create(name="Bob", db=site.db)
    now = datetime.datetime.now(UTC)
    local_today = now.astimezone(__import__("zoneinfo").ZoneInfo(ZONE)).date()
    rows = [
        ("alpha", {"place": "nice", "booked": True, "arrives": now, "day": local_today,
                   "guide": ann.id}, [{"place": "oslo"}]),
        ("bravo", {"place": "lyon", "booked": False, "guide": bob.id,
                   "arrives": now - datetime.timedelta(days=40),
                   "day": local_today - datetime.timedelta(days=40)}, []),
        ("charlie", {"place": "oslo", "booked": False}, [{"place": "lyon"}, {"place": "nice"}]),
        ("delta", None, []),
    ]
    for title, stop, stops in rows:
        await Trip.create(title=title, stop=stop, stops=stops, db=site.db)
    return ann, bob, local_today


async def test_columns_show_values_inside_sub_documents_and_lists(site, root):
    await add_trips(site)
    page = await root.get(TRIPS)
    assert page.code == 200
    assert headers(page.text) == ["Title", "Stop place", "Stop guide", "Stop arrives",
                                  "Stops place"]
    row = re.search(r'>charlie</a>(.*?)</tr>', page.text, re.S).group(1)
    assert "<td>Oslo</td>" in row and "Lyon, Nice" in row
    alpha = re.search(r'>alpha</a>(.*?)</tr>', page.text, re.S).group(1)
    assert "Ann" in alpha and "Nice" in alpha
    assert "+14" in alpha                          # the nested datetime in the user's zone


async def test_filters_on_choices_booleans_references_and_lists_inside_sub_documents(
        site, root):
    ann, bob, _ = await add_trips(site)
    page = await root.get(TRIPS)
    assert sidebar(page.text, "stop place") == ["All", "Lyon", "Nice", "Oslo"]
    assert sidebar(page.text, "stop booked") == ["All", "Yes", "No"]
    assert set(sidebar(page.text, "stop guide")) == {"All", "Ann", "Bob"}
    assert titles((await root.get(sidebar_link(page.text, "stop place", "Nice"))).text) == \
        ["alpha"]
    assert titles((await root.get(f"{TRIPS}?stop.booked=0")).text) == ["bravo", "charlie"]
    assert titles((await root.get(f"{TRIPS}?stop.guide={bob.id}")).text) == ["bravo"]
    # a path into a list matches when any item matches
    assert titles((await root.get(f"{TRIPS}?stops.place=lyon")).text) == ["charlie"]
    api = await root.fetch("/api/trips/trip/?stop.place=oslo",
                           headers={"Accept": "application/json"})
    assert api.code == 200 and [o["title"] for o in api.json()["results"]] == ["charlie"]


async def test_date_presets_count_from_the_users_today_and_dates_are_never_shifted(
        site, root):
    _, _, local_today = await add_trips(site)
    page = await root.get(TRIPS)
    assert sidebar(page.text, "stop arrives") == ["All", "Today", "Past 7 days", "This month",
                                                  "This year"]
    assert sidebar(page.text, "stop day") == sidebar(page.text, "stop arrives")
    today_url = sidebar_link(page.text, "stop day", "Today")
    assert f"stop.day__gte={local_today.isoformat()}" in today_url
    assert titles((await root.get(today_url)).text) == ["alpha"]
    arrives_today = sidebar_link(page.text, "stop arrives", "Today")
    assert f"stop.arrives__gte={local_today.isoformat()}" in arrives_today
    assert titles((await root.get(arrives_today)).text) == ["alpha"]
    # a from–to range: the "to" day is included, a DateField compared as a calendar date
    start = (local_today - datetime.timedelta(days=41)).isoformat()
    end = (local_today - datetime.timedelta(days=40)).isoformat()
    assert titles((await root.get(f"{TRIPS}?stop.day__gte={start}&stop.day__lte={end}"))
                  .text) == ["bravo"]
    assert titles((await root.get(f"{TRIPS}?stop.day__lte={end}")).text) == ["bravo"]


async def test_a_datetime_filter_reads_days_in_the_users_zone(site, root):
    Trip = site.model("trips.trip")
    # 11:00 UTC on 1 March is 01:00 on 2 March in UTC+14
    await Trip.create(title="early", stop={"place": "oslo", "arrives": datetime.datetime(
        2026, 3, 1, 11, 0, tzinfo=UTC)}, db=site.db)
    assert titles((await root.get(f"{TRIPS}?stop.arrives__gte=2026-03-02&"
                                  "stop.arrives__lte=2026-03-02")).text) == ["early"]
    assert titles((await root.get(f"{TRIPS}?stop.arrives__lte=2026-03-01")).text) == []
    # the API reads the same days in UTC
    api = await root.fetch("/api/trips/trip/?stop.arrives__lte=2026-03-01",
                           headers={"Accept": "application/json"})
    assert [o["title"] for o in api.json()["results"]] == ["early"]


async def test_sort_by_a_path_into_a_sub_document_and_pages_with_it(site, root):
    await add_trips(site)
    page = await root.get(TRIPS)
    links = header_links(page.text)
    assert "Stop place" in links and "Stop arrives" in links
    assert "Stop guide" not in links                  # a reference: ids order nothing seen
    assert "Stops place" not in links                 # crosses a list
    ordered = titles((await root.get(f"{TRIPS}?o=stop.place")).text)
    assert ordered[-3:] == ["bravo", "alpha", "charlie"]          # lyon, nice, oslo
    assert titles((await root.get(f"{TRIPS}?o=-stop.place")).text)[:3] == \
        ["charlie", "alpha", "bravo"]


@pytest.mark.parametrize("query, message", [
    ("stop.place=rome", "Invalid filter stop.place='rome'"),
    ("stop.booked=maybe", "Invalid filter stop.booked="),
    ("stop.day__gte=2026-02-30", "Invalid filter stop.day__gte="),
    ("stop.day__gte=2026-02-01T10:00", "Invalid filter stop.day__gte="),
    ("stop.arrives__gte=soon", "Invalid filter stop.arrives__gte="),
    ("stop.guide=nope", "Invalid filter stop.guide='nope'"),
    ("stops.place=rome", "Invalid filter stops.place='rome'"),
    ("o=stops.place", "Cannot sort by 'stops.place'"),
    ("o=stop.guide", "Cannot sort by 'stop.guide'"),
    ("o=stop.nowhere", "Cannot sort by 'stop.nowhere'"),
])
async def test_bad_nested_list_arguments_are_a_400_on_the_page_and_in_the_api(
        site, root, query, message):
    page = await root.get(f"{TRIPS}?{query}")
    assert page.code == 400 and message in html.unescape(page.text)
    api = await root.fetch(f"/api/trips/trip/?{query}", headers={"Accept": "application/json"})
    assert api.code == 400 and message in api.json()["error"]


def test_checks_take_paths_into_sub_documents_and_refuse_paths_through_a_reference(site):
    from trips_demo.admin import TripAdmin
    from apps.shop.admin import OrderAdmin

    Trip = site.model("trips.trip")
    Order = site.model("shop.order")

    class Fine(TripAdmin):
        ordering = ["-stop.arrives"]
        sortable_fields = ["stop.place", "stop.day"]

    assert check_model_admin(Fine(Trip)) == []

    class Wrong(TripAdmin):
        list_display = ["title", "stop.nowhere", "stop.place.code"]
        list_filter = ["stop.nowhere", "title.x"]
        ordering = ["stops.place"]
        sortable_fields = ["stops.place"]

    found = {(m.id, m.option, m.value) for m in check_model_admin(Wrong(Trip))}
    assert found == {("admin.E010", "list_display", "stop.nowhere"),
                     ("admin.E033", "list_display", "stop.place.code"),
                     ("admin.E030", "list_filter", "stop.nowhere"),
                     ("admin.E033", "list_filter", "title.x"),
                     ("admin.E051", "ordering", "stops.place"),
                     ("admin.E061", "sortable_fields", "stops.place")}

    class ThroughReference(OrderAdmin):
        list_display = ["customer", "customer.address.city", "customer.tags"]
        list_filter = ["customer.address.country", "customer.tags"]

    assert check_model_admin(ThroughReference(Order)) == []

    class NotThroughReference(OrderAdmin):
        list_display = ["customer.nowhere", "customer.notes.x", "customer.email"]
        list_filter = ["customer.name"]
        ordering = ["customer.address.city"]
        sortable_fields = ["customer.address.city"]
        readonly_fields = ["customer.name"]

    found = {(m.id, m.option, m.value): str(m) for m in check_model_admin(
        NotThroughReference(Order))}
    assert set(found) == {("admin.E010", "list_display", "customer.nowhere"),
                          ("admin.E033", "list_display", "customer.notes.x"),
                          ("admin.E031", "list_filter", "customer.name"),
                          ("admin.E033", "ordering", "customer.address.city"),
                          ("admin.E033", "sortable_fields", "customer.address.city"),
                          ("admin.E033", "readonly_fields", "customer.name")}
    missing = found[("admin.E010", "list_display", "customer.nowhere")]
    assert "Customer has no field 'nowhere'" in missing
    assert "ordering cannot follow a reference" in found[("admin.E033", "ordering",
                                                          "customer.address.city")]


async def test_shop_lists_filter_by_status_placed_date_and_the_customers_country(site, root):
    Customer, Order = site.model("shop.customer"), site.model("shop.order")
    ada = await Customer.create(name="Ada", email="ada@example.com",
                                address={"city": "Paris", "country": "FR"}, db=site.db)
    await Customer.create(name="Bea", email="bea@example.com",
                          address={"city": "Bonn", "country": "DE"}, db=site.db)
    await Order.create(customer=ada.id, placed="2026-03-01", status="paid", db=site.db,
                       lines=[{"sku": "pen", "quantity": 1, "unit_price": "2"}])
    customers = await root.get("/admin/shop/customer/")
    assert "Germany" in sidebar(customers.text, "address country")
    germans = await root.get(sidebar_link(customers.text, "address country", "Germany"))
    assert "Bea" in germans.text and "Ada" not in germans.text
    orders = await root.get("/admin/shop/order/")
    assert sidebar(orders.text, "status")[:3] == ["All", "New", "Paid"]
    assert "This year" in sidebar(orders.text, "placed")
    march = await root.get("/admin/shop/order/?placed__gte=2026-03-01&placed__lte=2026-03-01")
    assert march.code == 200 and "Ada" in march.text
    before = await root.get("/admin/shop/order/?placed__lte=2026-02-28")
    assert "Ada" not in before.text


async def test_pages_follow_a_sort_on_a_nested_path_with_gaps(site, root):
    Trip = site.model("trips.trip")
    places = ["lyon", "nice", "oslo"]
    for n in range(55):
        await Trip.create(title=f"t{n:02}", db=site.db,
                          stop=None if n % 11 == 0 else {"place": places[n % 3]})
    seen, url = [], f"{TRIPS}?o=-stop.place&per_page=25"
    while url:
        page = await root.get(url)
        assert page.code == 200
        seen += titles(page.text)
        found = re.search(r'<a href="([^"]*)" rel="next">', page.text)
        url = html.unescape(found.group(1)) if found else None
    assert sorted(seen) == sorted(f"t{n:02}" for n in range(55))
    assert len(seen) == 55


async def test_a_reference_column_is_not_sortable_by_default(site, root):
    ada = await site.model("shop.customer").create(
        name="Ada", email="ada@example.com", address={"city": "Paris", "country": "FR"},
        db=site.db)
    await site.model("shop.order").create(customer=ada.id, placed="2026-03-01", db=site.db,
                                          lines=[{"sku": "pen", "unit_price": "2"}])
    orders = await root.get("/admin/shop/order/")
    links = header_links(orders.text)
    assert "Placed" in links and "Customer" not in links, links
    assert (await root.get("/admin/shop/order/?o=customer")).code == 400
