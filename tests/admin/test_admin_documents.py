"""Nested documents on the add and change pages (the shop app): a sub-document as a
fieldset, lines as rows with "Add another" (no JavaScript) and "Remove", errors next to
the nested input that caused them with the user's input kept, and the history naming
``lines.1.quantity``."""
import datetime
import html
import decimal
import re

import pytest

from admin_kit import make_settings
from support.pages import error_for, errors_in

ORDERS, CUSTOMERS = "/admin/shop/order/", "/admin/shop/customer/"
SHOP_APPS = ["core.audit", "apps.accounts", "apps.shop"]
CLERK = {"shop.order": ["read", "write"], "shop.customer": ["read", "write"]}


@pytest.fixture
def admin_settings(tmp_path):
    return make_settings(tmp_path, INSTALLED_APPS=SHOP_APPS)


@pytest.fixture
async def clerk(site):
    return await site.user_browser("clerk", CLERK)


@pytest.fixture
async def ada(site):
    return await site.model("shop.customer").create(
        name="Ada", email="ada@example.com", address={"city": "Lyon", "country": "FR"},
        db=site.db)


def line(n, sku, quantity, price, title=""):
    return {f"lines-{n}-sku": sku, f"lines-{n}-title": title,
            f"lines-{n}-quantity": str(quantity), f"lines-{n}-unit_price": price}


def order_form(customer, *lines, **extra):
    form = {"customer": str(customer.id), "placed": "2026-03-01", "status": "new",
            "attributes": ""}
    for part in lines:
        form.update(part)
    form.update(extra)
    return form


def value_of(text, name):
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', text)
    assert match, f"no input {name}"
    found = re.search(r'value="([^"]*)"', match.group(0))
    return found.group(1) if found else ""


async def test_add_another_line_without_javascript_then_save(site, clerk, ada):
    page = await clerk.get(ORDERS + "add/")
    assert page.code == 200
    assert 'name="lines-0-sku"' in page.text and 'name="lines-1-sku"' not in page.text
    assert 'name="_add_row" value="lines"' in page.text and 'type="date"' in page.text
    typed = order_form(ada, line(0, "pen", 2, "1.5", "Pen"), _add_row="lines")
    page = await clerk.post(ORDERS + "add/", typed)
    assert page.code == 200                                   # the form again, nothing saved
    assert value_of(page.text, "lines-0-sku") == "pen"
    assert value_of(page.text, "lines-1-sku") == ""
    Order = site.model("shop.order")
    assert await Order.count({}, db=site.db) == 0
    saved = await clerk.post(ORDERS + "add/", order_form(
        ada, line(0, "pen", 2, "1.5", "Pen"), line(1, "ink", 1, "12"), line(2, "", "", "")))
    assert saved.code == 303, saved.text                      # the blank third row is ignored
    order = await Order.find_one({}, db=site.db)
    assert [(li.sku, li.quantity, li.unit_price) for li in order.lines] == [
        ("pen", 2, decimal.Decimal("1.50")), ("ink", 1, decimal.Decimal("12.00"))]
    assert order.placed == datetime.date(2026, 3, 1)


async def test_a_bad_nested_value_shows_in_place_and_keeps_the_input(site, clerk, ada):
    Order = site.model("shop.order")
    order = await Order.create(customer=ada.id, placed="2026-03-01", db=site.db,
                               lines=[{"sku": "pen", "quantity": 2, "unit_price": "1.5"},
                                      {"sku": "ink", "quantity": 2, "unit_price": "12"}])
    change = f"{ORDERS}{order.id}/change/"
    page = await clerk.get(change)
    assert value_of(page.text, "lines-1-unit_price") == "12.00"
    origins = {"lines-0-ORIGIN": "0", "lines-1-ORIGIN": "1"}
    page = await clerk.post(change, order_form(ada, line(0, "pen", 2, "1.50"),
                                               line(1, "ink", 0, "12"), origins, _version="1"))
    assert page.code == 200
    assert "at least 1" in error_for(page.text, "lines-1-quantity")
    assert value_of(page.text, "lines-1-quantity") == "0"
    # what only the model knows: exact decimal places, JSON syntax, a required sub-field
    posted = order_form(ada, line(0, "", 2, "1.50"), line(1, "ink", 1, "12.001"), origins,
                        attributes='{"gift": true,\n "wrap": }', _version="1")
    page = await clerk.post(change, posted)
    assert page.code == 200
    assert "required" in error_for(page.text, "lines-0-sku")
    assert "no more than 2 decimal places" in error_for(page.text, "lines-1-unit_price")
    assert "Invalid JSON at line 2, column 10" in errors_in(page.text, "attributes")
    assert value_of(page.text, "lines-1-unit_price") == "12.001"
    await order.reload(db=site.db)
    assert order.version == 1 and order.lines[1].quantity == 2


async def test_edit_a_line_remove_another_and_read_the_history(site, clerk, ada):
    Order = site.model("shop.order")
    order = await Order.create(customer=ada.id, placed="2026-03-01", db=site.db,
                               lines=[{"sku": "pen", "quantity": 2, "unit_price": "1.5"},
                                      {"sku": "ink", "quantity": 2, "unit_price": "12"},
                                      {"sku": "pad", "quantity": 1, "unit_price": "3"}])
    change = f"{ORDERS}{order.id}/change/"
    origins = {f"lines-{n}-ORIGIN": str(n) for n in range(3)}
    saved = await clerk.post(change, order_form(
        ada, line(0, "pen", 2, "1.50"), line(1, "ink", 3, "12.00"), line(2, "pad", 1, "3.00"),
        origins, {"lines-2-REMOVE": "y"}, _version="1"))
    assert saved.code == 303, saved.text
    await order.reload(db=site.db)
    assert [(li.sku, li.quantity) for li in order.lines] == [("pen", 2), ("ink", 3)]
    history = await clerk.get(f"{ORDERS}{order.id}/history/")
    assert history.code == 200
    assert "lines.1.quantity" in history.text and "lines.2" in history.text


async def test_the_address_fieldset_keeps_undeclared_keys_and_names_errors(site, clerk, ada):
    Customer = site.model("shop.customer")
    await Customer.get_collection(site.db).update_one(
        {"_id": ada.id}, {"$set": {"address.floor": 3}})      # a key the model does not know
    change = f"{CUSTOMERS}{ada.id}/change/"
    page = await clerk.get(change)
    assert value_of(page.text, "address-city") == "Lyon"
    form = {"name": "Ada", "email": "ada@example.com", "address-street": "",
            "address-city": "", "address-postcode": "", "address-country": "FR",
            "tags": "", "notes": "", "_version": "1"}
    page = await clerk.post(change, form)
    assert page.code == 200
    assert "required" in error_for(page.text, "address-city")
    saved = await clerk.post(change, {**form, "address-city": "Paris"})
    assert saved.code == 303, saved.text
    doc = await Customer.get_collection(site.db).find_one({"_id": ada.id})
    assert doc["address"]["city"] == "Paris" and doc["address"]["floor"] == 3


async def test_adding_a_row_to_an_unknown_list_is_a_400(site, clerk, ada):
    page = await clerk.post(ORDERS + "add/", order_form(ada, _add_row="nope"))
    assert page.code == 400


async def test_list_and_detail_pages_show_nested_values(site, clerk, ada):
    Order = site.model("shop.order")
    order = await Order.create(customer=ada.id, placed="2026-03-01", db=site.db,
                               lines=[{"sku": "pen", "quantity": 2, "unit_price": "1.5"},
                                      {"sku": "ink", "quantity": 1, "unit_price": "12"}])
    listing = await clerk.get(ORDERS)
    assert listing.code == 200
    assert "2 lines" in listing.text and "15.00" in listing.text and "Ada" in listing.text
    detail = await clerk.get(f"{ORDERS}{order.id}/")
    assert detail.code == 200 and "2026-03-01" in detail.text
    customers = await clerk.get(CUSTOMERS)
    assert "Lyon, France" in customers.text


async def test_a_hidden_field_hides_its_nested_changes_in_the_history(site, ada):
    from core.audit import record
    await record(action="update", actor="root", model_key="shop.customer",
                 object_id=str(ada.id), object_label="Ada", db=site.db,
                 changes={"address.city": {"before": "Lyon", "after": "Nowhere-Secret"},
                          "name": {"before": "Ada", "after": "Ada L."}})
    nosy = await site.user_browser("nosy", {"shop.customer": ["read", "-read:address"]})
    page = await nosy.get(f"{CUSTOMERS}{ada.id}/history/")
    assert page.code == 200 and "Ada L." in page.text
    assert "Nowhere-Secret" not in page.text and "address.city" not in page.text
    log = await nosy.get(f"{CUSTOMERS}{ada.id}/history/", headers={"Accept": "application/json"})
    assert "Nowhere-Secret" not in log.text


async def test_a_full_list_of_rows_says_so_in_the_users_language(site, ada, monkeypatch):
    from core import i18n
    Order = site.model("shop.order")
    monkeypatch.setattr(Order._meta.fields["lines"], "max_items", 1)
    french = await site.user_browser("commis", CLERK, language="fr")
    page = await french.post(ORDERS + "add/", order_form(ada, line(0, "pen", 2, "1.5"),
                                                         _add_row="lines"))
    assert page.code == 200 and 'name="lines-1-sku"' not in page.text
    said = i18n.locale_for("fr").translate("At most %(count)s row.", "At most %(count)s rows.",
                                           1) % {"count": 1}
    assert said != "At most 1 row." and said in html.unescape(page.text)
    assert "At most" not in page.text
