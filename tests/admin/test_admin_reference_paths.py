"""Columns and filters through a reference (issue 10, ``core.admin.related``): the shop's
order list shows ``customer.address.city`` and filters by ``customer.address.country``,
reading every customer of the page with one ``$in`` query; the column is not sortable;
a search or filter through a reference that matches too many targets is a 400 saying so,
never a list cut short."""
import html
import re

import pytest

from admin_kit import make_settings
from desk_kit import sidebar, sidebar_link

from core.admin import related

ORDERS = "/admin/shop/order/"
LINE = [{"sku": "pen", "quantity": 1, "unit_price": "2.00"}]


@pytest.fixture
def admin_settings(tmp_path):
    return make_settings(tmp_path, INSTALLED_APPS=["core.audit", "apps.accounts", "apps.shop"])


@pytest.fixture
async def root(site):
    return await site.user_browser("root", is_superuser=True)


async def shop(site, orders_each=1):
    Customer, Order = site.model("shop.customer"), site.model("shop.order")
    ada = await Customer.create(name="Ada", email="ada@example.com",
                                address={"city": "Paris", "country": "FR"}, db=site.db)
    bea = await Customer.create(name="Bea", email="bea@example.com",
                                address={"city": "Bonn", "country": "DE"}, db=site.db)
    for customer in (ada, bea):
        for n in range(orders_each):
            await Order.create(customer=customer.id, placed=f"2026-03-{n + 1:02d}",
                               lines=LINE, attributes={"for": customer.name}, db=site.db)
    return ada, bea


def city_cells(text):
    """``{customer label: {city cell texts}}`` of the order list."""
    columns = re.findall(r'<th scope="col" class="column-([^"]+)"', text)
    found = {}
    for row in re.findall(r'<tr data-id="[0-9a-f]{24}">(.*?)</tr>', text, re.S):
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cls, cell in re.findall(
            r'<td(?: class="([^"]*)")?>(.*?)</td>', row, re.S) if cls != "action-checkbox"]
        found.setdefault(cells[columns.index("customer")], set()).add(
            html.unescape(cells[columns.index("customer.address.city")]))
    return found


async def test_a_column_through_a_reference_reads_the_page_with_one_query(
        site, root, monkeypatch):
    await shop(site, orders_each=6)
    Customer = site.model("shop.customer")
    collection_class = type(Customer.get_collection(site.db))
    finds, real = [], collection_class.find

    def spy(self, filter=None, *args, **kwargs):
        finds.append((self.name, filter))
        return real(self, filter, *args, **kwargs)

    monkeypatch.setattr(collection_class, "find", spy)
    page = await root.get(ORDERS)
    assert page.code == 200
    assert "Customer address city" in page.text
    assert city_cells(page.text) == {"Ada": {"Paris"}, "Bea": {"Bonn"}}
    customer_finds = [flt for name, flt in finds if name == Customer._meta.collection
                      and flt and "$in" in str(flt)]
    # the customer column's labels and the city column: one $in each, for 12 rows
    assert len(customer_finds) == 2, customer_finds


async def test_the_column_is_not_sortable(site, root):
    await shop(site)
    page = await root.get(ORDERS)
    assert 'href="/admin/shop/order/?o=customer.address.city"' not in page.text
    refused = await root.get(ORDERS + "?o=customer.address.city")
    assert refused.code == 400 and "Cannot sort by" in refused.text


async def test_seeing_is_reading_on_the_target(site):
    await shop(site)
    clerk = await site.user_browser("clerk", {"shop.order": ["read"]})
    page = await clerk.get(ORDERS)
    assert page.code == 200
    assert "Paris" not in page.text and "Bonn" not in page.text
    assert city_cells(page.text) == {"(hidden)": {"—"}}
    hiding = await site.user_browser("hiding", {"shop.order": ["read"],
                                                "shop.customer": ["read", "-read:address"]})
    page = await hiding.get(ORDERS)
    assert "Paris" not in page.text and "Bonn" not in page.text
    reader = await site.user_browser("reader", {"shop.order": ["read"],
                                                "shop.customer": ["read"]})
    page = await reader.get(ORDERS)
    assert city_cells(page.text) == {"Ada": {"Paris"}, "Bea": {"Bonn"}}


async def test_a_filter_through_a_reference_narrows_by_the_targets_value(site, root):
    await shop(site)
    page = await root.get(ORDERS)
    offered = sidebar(page.text, "customer address country")
    assert "Germany" in offered and "France" in offered
    germans = await root.get(sidebar_link(page.text, "customer address country", "Germany"))
    assert germans.code == 200
    assert city_cells(germans.text) == {"Bea": {"Bonn"}}
    bad = await root.get(ORDERS + "?customer.address.country=XX")
    assert bad.code == 400
    api = await root.fetch("/api/shop/order/?customer.address.country=FR",
                           headers={"Accept": "application/json"})
    assert api.code == 200, api.text[:500]
    assert {item["attributes"]["for"] for item in api.json()["results"]} == {"Ada"}


async def test_a_filter_through_a_reference_the_user_may_not_read_matches_nothing(site):
    await shop(site)
    clerk = await site.user_browser("clerk", {"shop.order": ["read"]})
    page = await clerk.get(ORDERS + "?customer.address.country=FR")
    assert page.code == 200
    assert city_cells(page.text) == {}
    assert sidebar(page.text, "customer address country") == ["All"]


async def test_too_many_matches_through_a_reference_is_said_not_cut(site, root, monkeypatch):
    await shop(site)
    monkeypatch.setattr(related, "MAX_REFERENCE_MATCHES", 1)
    many = await root.get(ORDERS + "?q=a")               # Ada and Bea both match "a"
    assert many.code == 400
    assert "matches more than 1 customers; narrow it down" in html.unescape(many.text)
    filtered = await root.get(ORDERS + "?customer.address.country=FR")
    assert filtered.code == 200 and city_cells(filtered.text) == {"Ada": {"Paris"}}
    monkeypatch.setattr(related, "MAX_REFERENCE_MATCHES", 0)
    refused = await root.get(ORDERS + "?customer.address.country=FR")
    assert refused.code == 400 and "narrow it down" in refused.text


async def test_the_too_many_matches_count_is_in_the_users_number_format(site):
    """A thousand reads "1.000" in German (Babel's ``format_decimal``), not "1,000"."""
    customers = site.db[site.model("shop.customer")._meta.collection]
    await customers.insert_many([{"name": f"Ann {n}", "email": f"ann{n}@example.com",
                                  "address": {"city": "Lyon", "country": "FR"}}
                                 for n in range(related.MAX_REFERENCE_MATCHES + 1)])
    hans = await site.user_browser("hans", is_superuser=True, language="de")
    many = await hans.get(ORDERS + "?q=Ann")
    assert many.code == 400
    text = html.unescape(many.text)
    assert "1.000" in text and "1,000" not in text, text[-800:]
