"""The document fields: sub-documents, lists of anything, dicts, dates, decimals, URLs, slugs.

Every error names the dotted path of the value inside the object (``lines.2.quantity``).
"""
import datetime
import decimal

import pytest
from bson import ObjectId
from bson.decimal128 import Decimal128

from core.models import Model, ValidationError, fields
from core.models.errors import ImproperlyConfigured

D = decimal.Decimal
UTC = datetime.timezone.utc


class Address(fields.SubDocument):
    street = fields.StringField()
    city = fields.StringField(required=True)
    country = fields.ChoiceField(choices=[("FR", "France"), ("DE", "Germany")])


class Line(fields.SubDocument):
    sku = fields.SlugField(required=True)
    quantity = fields.IntegerField(min_value=1, default=1)
    unit_price = fields.DecimalField(max_digits=10, decimal_places=2)

    def clean(self):
        super().clean()
        if self.sku == "gift" and self.unit_price:
            raise ValidationError({"unit_price": "A gift is free."})


class Box(fields.SubDocument):
    label = fields.StringField()
    inner = fields.EmbeddedField(Address)


class DocOrder(Model):
    address = fields.EmbeddedField(Address)
    lines = fields.ListField(Line, max_items=5)
    boxes = fields.ListField(fields.EmbeddedField(Box))
    attributes = fields.DictField()
    prices = fields.DictField(fields.DecimalField(max_digits=6, decimal_places=2))
    placed = fields.DateField()
    total = fields.DecimalField(max_digits=12, decimal_places=2)
    site = fields.URLField()
    slug = fields.SlugField()

    class Meta:
        app_label = "docfields"


def errors_of(obj):
    with pytest.raises(ValidationError) as info:
        obj.clean()
    return info.value.errors


def bound(field, name="f"):
    field.contribute_to_class(None, name)
    return field


# --------------------------------------------------------------------------- sub-documents
def test_embedded_field_takes_a_dict_or_an_instance_and_names_nested_errors():
    order = DocOrder(address={"city": " Lyon ", "country": "FR"})
    order.clean()
    assert isinstance(order.address, Address) and order.address.city == "Lyon"
    assert order.to_bson()["address"] == {"street": None, "city": "Lyon", "country": "FR"}
    assert errors_of(DocOrder(address={"country": "XX"})) == {
        "address.city": "This field is required.",
        "address.country": "Select a valid choice; 'XX' is not one of the choices."}
    assert errors_of(DocOrder(address={"city": "x", "zip": 1})) == {
        "address.zip": "Unknown field."}
    assert errors_of(DocOrder(address="Lyon")) == {
        "address": "Expected an object, not a str."}
    assert errors_of(DocOrder(address={"city": {"$gt": ""}})) == {
        "address.city": "Expected a single value, not an object."}


def test_nested_sub_documents_and_lists_name_the_full_path():
    order = DocOrder(boxes=[{"label": "a", "inner": {"city": "Paris"}},
                            {"label": "b", "inner": {"city": ""}}])
    assert errors_of(order) == {"boxes.1.inner.city": "This field is required."}
    order.boxes = [{"inner": {"city": "Paris"}}]
    order.clean()
    assert order.boxes[0].inner.city == "Paris"


def test_list_of_sub_documents_positions_count_from_zero_and_clean_runs():
    lines = [{"sku": "a-1", "quantity": 2}, {"sku": "b", "quantity": "3"},
             {"sku": "c", "quantity": 0}]
    assert errors_of(DocOrder(lines=lines)) == {
        "lines.2.quantity": "Ensure this value is greater than or equal to 1."}
    assert str(ValidationError(errors_of(DocOrder(lines=lines)))) == (
        "lines.2.quantity: Ensure this value is greater than or equal to 1.")
    assert errors_of(DocOrder(lines=[{"sku": "gift", "unit_price": "1"}])) == {
        "lines.0.unit_price": "A gift is free."}
    assert errors_of(DocOrder(lines=[None])) == {"lines.0": "This item may not be empty."}
    assert errors_of(DocOrder(lines=[{"sku": "x"}] * 6))["lines"].startswith(
        "Ensure this list has at most 5 items")
    order = DocOrder(lines=lines[:2])
    order.clean()
    assert [line.quantity for line in order.lines] == [2, 3]
    order.lines[1].quantity = 7                      # edit in place, then validate again
    order.clean()
    assert order.to_bson()["lines"][1] == {"sku": "b", "quantity": 7, "unit_price": None}
    assert DocOrder._meta.fields["lines"].display(order.lines) == "2 lines"
    assert DocOrder._meta.fields["lines"].display(order.lines[:1]) == "1 line"


def test_sub_documents_round_trip_and_keep_undeclared_keys():
    stored = {"_id": ObjectId(), "version": 1,
              "address": {"city": "Lyon", "street": None, "country": "FR", "floor": 3},
              "lines": [{"sku": "a", "quantity": 1, "unit_price": Decimal128("2.50")}]}
    order = DocOrder.from_bson(stored)
    assert order.address.city == "Lyon" and order.lines[0].unit_price == D("2.50")
    assert order.to_bson()["address"]["floor"] == 3
    assert order.to_json()["lines"] == [{"sku": "a", "quantity": 1, "unit_price": "2.50"}]
    assert str(order.address) == "Lyon, France"
    assert order.address == Address.from_bson(stored["address"])


def test_sub_document_inheritance_and_declaration_errors():
    class Place(Address):
        street = None
        lat = fields.FloatField()
    assert list(Place._fields) == ["city", "country", "lat"]
    assert Place._fields["city"] is not Address._fields["city"]
    with pytest.raises(ImproperlyConfigured):
        fields.EmbeddedField(dict)
    with pytest.raises(ImproperlyConfigured):
        type("Bad", (fields.SubDocument,), {"$x": fields.StringField()})
    with pytest.raises(TypeError):
        Address(town="x")


# --------------------------------------------------------------------------- lists
def test_list_of_scalars_of_any_kind():
    numbers = bound(fields.ListField(fields.IntegerField(min_value=0)), "n")
    assert numbers.clean([1, "2", 3.0]) == [1, 2, 3]
    assert numbers.clean("1, 2,,3") == [1, 2, 3]
    with pytest.raises(ValidationError) as info:
        numbers.clean([1, -1, "x"])
    assert info.value.errors == {"n.1": "Ensure this value is greater than or equal to 0.",
                                 "n.2": "Enter a whole number."}
    days = bound(fields.ListField(fields.DateField()), "days")
    assert days.clean(["2024-02-29"]) == [datetime.date(2024, 2, 29)]
    assert days.to_bson([datetime.date(2024, 2, 29)]) == [datetime.datetime(2024, 2, 29,
                                                                            tzinfo=UTC)]
    money = bound(fields.ListField(fields.DecimalField(max_digits=5, decimal_places=2)), "m")
    assert money.to_bson(money.clean(["1.5"])) == [Decimal128("1.50")]
    refs = bound(fields.ListField(fields.ReferenceField("docfields.docorder")), "refs")
    oid = ObjectId()
    assert refs.clean([str(oid)]) == [oid] and refs.to_json([oid]) == [str(oid)]
    with pytest.raises(ValidationError) as info:
        refs.clean([str(oid), "nope"])
    assert list(info.value.errors) == ["refs.1"]
    picks = bound(fields.ListField(fields.ChoiceField(choices=[1, 2])), "picks")
    assert picks.clean(["1", 2]) == [1, 2]
    with pytest.raises(ValidationError):
        picks.clean([3])


def test_list_bounds_and_unique_items():
    tags = bound(fields.ListField(min_items=2, max_items=3, unique_items=True), "tags")
    assert tags.clean(["a", "b"]) == ["a", "b"]
    for value, fragment in [(["a"], "at least 2"), ([], "at least 2"),
                            (["a", "b", "c", "d"], "at most 3")]:
        with pytest.raises(ValidationError) as info:
            tags.clean(value)
        assert fragment in info.value.errors["tags"]
    with pytest.raises(ValidationError) as info:
        tags.clean(["a", "b", "a"])
    assert info.value.errors == {"tags.2": "This item repeats item 0."}
    lines = bound(fields.ListField(Line, unique_items=True), "lines")
    with pytest.raises(ValidationError) as info:
        lines.clean([{"sku": "a"}, {"sku": "a", "quantity": "1"}])
    assert list(info.value.errors) == ["lines.1"]
    with pytest.raises(ImproperlyConfigured):
        fields.ListField(min_items=-1)
    with pytest.raises(ImproperlyConfigured):
        fields.ListField(str)


# --------------------------------------------------------------------------- dicts
def test_free_form_dict_checks_keys_values_and_size():
    attrs = bound(fields.DictField(max_size=60), "attrs")
    assert attrs.clean({"colour": "red", "size": [1, 2.5, None, {"deep": True}]}) == {
        "colour": "red", "size": [1, 2.5, None, {"deep": True}]}
    assert attrs.clean('{"a": 1}') == {"a": 1}
    assert attrs.clean({}) == {} and attrs.get_default() == {}
    cases = [({"$gt": 1}, "attrs", "may not start with '$'"),
             ({"a.b": 1}, "attrs", "may not contain '.'"),
             ({"a": {"$where": "x"}}, "attrs.a", "may not start with '$'"),
             ({"a": [1, {"b": float("nan")}]}, "attrs.a.1.b", "finite"),
             ({"a": 2 ** 70}, "attrs.a", "too large"),
             ({"a": ObjectId()}, "attrs.a", "not a JSON value"),
             ({"a": "x" * 100}, "attrs", "at most 60 characters"),
             ("[1]", "attrs", "Expected an object, not a list"),
             ('{"a": 1,\n "b": }', "attrs", "Invalid JSON at line 2, column 7")]
    for value, path, fragment in cases:
        with pytest.raises(ValidationError) as info:
            attrs.clean(value)
        assert fragment in info.value.errors.get(path, ""), (value, info.value.errors)
    deep = {}
    node = deep
    for _ in range(fields.DICT_MAX_DEPTH + 1):
        node["k"] = {}
        node = node["k"]
    with pytest.raises(ValidationError):
        attrs.clean(deep)


def test_typed_dict_runs_each_value_through_its_field():
    order = DocOrder(prices={"eur": "9.5", "usd": "1.234", "gbp": "x"})
    assert errors_of(order) == {
        "prices.usd": "Ensure that there are no more than 2 decimal places.",
        "prices.gbp": "Enter a number."}
    order = DocOrder(prices={"eur": "9.5"})
    order.clean()
    assert order.prices == {"eur": D("9.50")}
    assert order.to_bson()["prices"] == {"eur": Decimal128("9.50")}
    assert order.to_json()["prices"] == {"eur": "9.50"}
    assert DocOrder.from_bson(order.to_bson()).prices == {"eur": D("9.50")}


# --------------------------------------------------------------------------- dates
def test_date_field_is_a_calendar_day_stored_as_midnight_utc():
    day = bound(fields.DateField(), "day")
    assert day.clean("2024-02-29") == datetime.date(2024, 2, 29)
    assert day.clean(datetime.datetime(2024, 1, 1)) == datetime.date(2024, 1, 1)
    assert day.clean(datetime.date(1, 1, 1)) == datetime.date(1, 1, 1)
    assert day.clean("") is None
    for bad in ["2023-02-29", "29/02/2024", "2024-02-29T10:00", 20240229,
                datetime.datetime(2024, 1, 1, 12, tzinfo=UTC)]:
        with pytest.raises(ValidationError):
            day.clean(bad)
    stored = day.to_bson(datetime.date(2024, 12, 31))
    assert stored == datetime.datetime(2024, 12, 31, tzinfo=UTC)
    assert day.from_bson(stored) == datetime.date(2024, 12, 31)
    assert day.from_bson(datetime.datetime(2024, 12, 31)) == datetime.date(2024, 12, 31)
    assert day.to_json(datetime.date(2024, 12, 31)) == "2024-12-31"


# --------------------------------------------------------------------------- decimals
def test_decimal_field_is_exact_and_bounded():
    price = bound(fields.DecimalField(max_digits=5, decimal_places=2, min_value=0), "price")
    assert price.clean("12.5") == D("12.50") and str(price.clean("12.5")) == "12.50"
    assert price.clean(3) == D("3.00") and price.clean(0.1) == D("0.10")
    assert price.clean(Decimal128("999.99")) == D("999.99")
    assert price.clean("-0") == D("0.00") and str(price.clean("-0.00")) == "0.00"
    assert price.clean("1e2") == D("100.00")
    for bad, fragment in [("1000", "no more than 3 digits before"),
                          ("0.001", "no more than 2 decimal places"),
                          ("-1", "greater than or equal to 0"), ("NaN", "Enter a number"),
                          ("Infinity", "Enter a number"), (float("inf"), "finite"),
                          (True, "Enter a number"), ("1,5", "Enter a number"),
                          ({"$gt": 1}, "single value")]:
        with pytest.raises(ValidationError) as info:
            price.clean(bad)
        assert fragment in info.value.errors["price"], (bad, info.value.errors)
    assert price.to_bson(D("12.50")) == Decimal128("12.50")
    assert str(price.from_bson(Decimal128("12.5"))) == "12.50"
    assert str(price.from_bson(Decimal128("1.234"))) == "1.234"     # read as stored, never
    with pytest.raises(ValidationError):                             # rounded: clean refuses
        price.clean(price.from_bson(Decimal128("1.234")))
    assert price.to_json(D("12.50")) == "12.50"
    widest = bound(fields.DecimalField(max_digits=34, decimal_places=4), "w")
    big = "9" * 30 + ".9999"
    assert widest.to_bson(widest.clean(big)) == Decimal128(big)
    with pytest.raises(ImproperlyConfigured):
        fields.DecimalField(max_digits=35, decimal_places=2)
    with pytest.raises(ImproperlyConfigured):
        fields.DecimalField(max_digits=2, decimal_places=3)


# --------------------------------------------------------------------------- URLs and slugs
def test_url_field():
    url = bound(fields.URLField(), "site")
    for good in ["https://example.com", "http://localhost:8000/a?b=c#d",
                 "https://[::1]/x", "http://10.0.0.1/", "https://bücher.example/"]:
        assert url.clean(good) == good
    for bad in ["example.com", "ftp://example.com", "javascript:alert(1)", "https://",
                "https://exa mple.com", "https://example.com:99999/", "http://-x.com",
                "https://example"]:
        with pytest.raises(ValidationError):
            url.clean(bad)
    assert bound(fields.URLField(schemes=["ftp"]), "u").clean("ftp://example.com/f")
    with pytest.raises(ValidationError):
        url.clean("https://example.com/" + "a" * 2048)


def test_slug_field():
    slug = bound(fields.SlugField(), "slug")
    assert slug.clean(" my-post_2 ") == "my-post_2"
    for bad in ["my post", "café", "a/b", "x" * 51]:
        with pytest.raises(ValidationError):
            slug.clean(bad)
    assert bound(fields.SlugField(allow_unicode=True), "s").clean("café") == "café"


# --------------------------------------------------------------------------- queries
def test_model_filters_take_dates_and_decimals_as_stored():
    from core.models.base import _translate_filter
    assert _translate_filter({"placed": {"$gte": datetime.date(2024, 1, 2)},
                              "$or": [{"total": D("1.50")}]}) == {
        "placed": {"$gte": datetime.datetime(2024, 1, 2, tzinfo=UTC)},
        "$or": [{"total": Decimal128("1.50")}]}
