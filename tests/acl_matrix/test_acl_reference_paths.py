"""Paths through a reference: the order list's ``customer.address.city`` column and
``customer.address.country`` filter show a customer's value only to a user who may read it.

Cells: profiles × places (the list column, the filter sidebar, the filter applied on the
list page, the filter applied through the JSON API, ``?o=`` on the column). A customer's
city is unreadable without ``shop.customer: read``, with ``-read:address``, outside the
customer admin's row scope (``get_base_filter``) or failing its object rule for ``read``;
then the city (a marker) appears nowhere, the cell is "—", the filter finds no order
through it (the sidebar offers the countries, which are the field's declared choices,
not data). A superuser, or a user who may read it, sees it and filters by it. Sorting
by the column is refused for everyone (a 400).
"""
import re
from dataclasses import dataclass

import pytest
import pytest_asyncio

import acl_kit
from support import make_settings, serving
from support.pages import text_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

CITY = "Aclcity-9b2e"
ORDERS = "/admin/shop/order/"
COLUMN = "customer.address.city"
FILTER = "?customer.address.country=FR"
EMPTY = "—"


@dataclass(frozen=True)
class PathProfile:
    name: str
    customer: tuple = ()           # entries on shop.customer
    scoped_out: bool = False       # the customer admin's base filter leaves the customer out
    rule_denies: bool = False      # the customer admin's object rule refuses reading it
    superuser: bool = False


PROFILES = [
    PathProfile("orders-only"),
    PathProfile("with-customer-read", ("read",)),
    PathProfile("address-hidden", ("read", "-read:address")),
    PathProfile("customer-out-of-scope", ("read",), scoped_out=True),
    PathProfile("customer-rule-denies", ("read",), rule_denies=True),
    PathProfile("superuser", superuser=True),
]
PLACES = ("list-column", "list-filter", "filtered-page", "filtered-api", "sort")


def city_visible(profile):
    """May the profile read the customer's city? (the rule, pure)"""
    if profile.superuser:
        return True
    return "read" in profile.customer and "-read:address" not in profile.customer \
        and not profile.scoped_out and not profile.rule_denies


def username(profile):
    return f"acl-path-{profile.name}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def path_world(tmp_path_factory):
    from apps.shop.admin import CustomerAdmin
    scoped = {username(p) for p in PROFILES if p.scoped_out}
    ruled = {username(p) for p in PROFILES if p.rule_denies}
    with acl_kit.hidden_by_name(CustomerAdmin, "Ada", scoped, ruled):
        async with serving(shutdown_first=True) as servers:
            settings = make_settings(tmp_path_factory.mktemp("acl-path"),
                                     ["core.audit", "apps.accounts", "apps.shop"])
            site = await servers.serve(settings)
            Customer, Order = site.model("shop.customer"), site.model("shop.order")
            ada = await Customer.create(name="Ada", email="ada@example.com",
                                        address={"city": CITY, "country": "FR"}, db=site.db)
            order = await Order.create(customer=ada.id, placed="2026-03-01", db=site.db,
                                       lines=[{"sku": "pen", "unit_price": "1.00"}])
            browsers = {}
            for profile in PROFILES:
                perms = {"shop.order": ["read"]}
                if profile.customer:
                    perms["shop.customer"] = list(profile.customer)
                browsers[profile.name] = await site.user_browser(
                    username(profile), perms, is_superuser=profile.superuser)
            yield {"site": site, "order": order, "browsers": browsers}


def list_cell(page, order_id, column):
    columns = re.findall(r'<th scope="col" class="column-([^"]+)"', page)
    row = re.search(rf'<tr data-id="{order_id}">(.*?)</tr>', page, re.S)
    assert row is not None and column in columns, (columns, row)
    cells = [html for cls, html in re.findall(r'<td(?: class="([^"]*)")?>(.*?)</td>',
                                              row.group(1), re.S)
             if cls != "action-checkbox"]
    return cells[columns.index(column)]


CELLS = [(profile, place) for profile in PROFILES for place in PLACES]


@pytest.mark.parametrize("profile,place", CELLS,
                         ids=[f"{p.name}|{place}" for p, place in CELLS])
async def test_reference_path(path_world, profile, place):
    browser = path_world["browsers"][profile.name]
    order = path_world["order"]
    path = {"list-column": ORDERS, "list-filter": ORDERS, "filtered-page": ORDERS + FILTER,
            "filtered-api": "/api/shop/order/" + FILTER,
            "sort": ORDERS + "?o=" + COLUMN}[place]
    page = await browser.fetch(path, headers={"Accept": "application/json"}) \
        if place == "filtered-api" else await browser.get(path)
    visible = city_visible(profile)
    if not visible:
        found = acl_kit.find_marker(page.text, [CITY])
        assert found is None, f"the unreadable city shows: …{found[1]}…"
    if place == "sort":
        assert page.code == 400, acl_kit.shown(page)
        return
    assert page.code == 200, (place, acl_kit.shown(page))
    if place == "list-column":
        assert text_of(list_cell(page.text, order.id, COLUMN)) == (CITY if visible else EMPTY)
    elif place == "list-filter":
        section = re.search(r"<h3>By customer address country</h3>(.*?)</section>",
                            page.text, re.S)
        assert section is not None, acl_kit.shown(page)
        offered = [text_of(a) for a in re.findall(r"<a [^>]*>(.*?)</a>", section.group(1))]
        may_read_customers = profile.superuser or "read" in profile.customer
        readable_field = may_read_customers and "-read:address" not in profile.customer
        assert ("France" in offered) == readable_field, offered
    elif place == "filtered-page":
        assert (f'<tr data-id="{order.id}">' in page.text) == visible, acl_kit.shown(page)
    else:
        ids = [item["id"] for item in page.json()["results"]]
        assert (str(order.id) in ids) == visible, ids
