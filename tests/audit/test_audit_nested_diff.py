"""``snapshot``/``diff`` name the changed part of a document field by its dotted path."""
import datetime
import decimal

from bson import ObjectId

from apps.shop.models import Customer, Order
from core.audit import diff, snapshot


def order():
    obj = Order(customer=ObjectId(), placed=datetime.date(2026, 3, 1), attributes={"a": 1},
                lines=[{"sku": "pen", "quantity": 2, "unit_price": "1.50"},
                       {"sku": "ink", "quantity": 2, "unit_price": "12"},
                       {"sku": "pad", "quantity": 1, "unit_price": "0.99"}])
    obj.clean()
    return obj


def test_a_line_quantity_change_is_named_by_its_path():
    obj = order()
    before = snapshot(obj)
    obj.lines[1].quantity = 3
    obj.attributes = {"a": 1, "colour": "red"}
    obj.clean()
    assert diff(before, snapshot(obj)) == {
        "lines.1.quantity": {"before": 2, "after": 3},
        "attributes.colour": {"before": None, "after": "red"}}


def test_removed_and_added_lines_and_decimals_as_text():
    obj = order()
    before = snapshot(obj)
    obj.lines = obj.lines[:2]
    obj.lines[0].unit_price = decimal.Decimal("1.75")
    obj.placed = datetime.date(2026, 3, 2)
    obj.clean()
    changes = diff(before, snapshot(obj))
    assert changes["lines.0.unit_price"] == {"before": "1.50", "after": "1.75"}
    assert changes["lines.2"]["before"]["sku"] == "pad" and changes["lines.2"]["after"] is None
    assert changes["placed"]["after"] == datetime.datetime(2026, 3, 2,
                                                           tzinfo=datetime.timezone.utc)
    assert set(changes) == {"lines.0.unit_price", "lines.2", "placed"}


def test_sub_document_changes_and_secret_keys_inside_a_dict():
    customer = Customer(name="Ada", email="ada@example.com",
                        address={"city": "Lyon", "country": "FR"},
                        notes={"api_token": "abc", "since": 2019})
    customer.clean()
    before = snapshot(customer)
    customer.address.city = "Paris"
    customer.notes = {"api_token": "xyz", "since": 2019}
    customer.tags = ["vip"]
    customer.clean()
    changes = diff(before, snapshot(customer))
    assert changes == {"address.city": {"before": "Lyon", "after": "Paris"},
                       "notes.api_token": {"before": "••••", "after": "••••"},
                       "tags": {"before": [], "after": ["vip"]}}
    assert "abc" not in repr(changes) and "xyz" not in repr(changes)
