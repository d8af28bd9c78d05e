"""Field conversion and validation (no database needed)."""
import datetime

import pytest
from bson import ObjectId

from core.models import Model, ValidationError, fields
from core.models.errors import ImproperlyConfigured

UTC = datetime.timezone.utc


def bound(field, name="f"):
    """Give a free-standing field a name, as the model metaclass would."""
    field.contribute_to_class(None, name)
    return field


def assert_error(field, value, fragment=None):
    with pytest.raises(ValidationError) as info:
        field.clean(value)
    assert field.name in info.value.errors, info.value.errors
    assert str(info.value).startswith(f"{field.name}: ")
    if fragment:
        assert fragment in info.value.errors[field.name]
    return info.value


# --------------------------------------------------------------------------- injection
INJECTIONS = [{"$gt": ""}, {"$ne": None}, ["a"], ("a",), {"a": 1}]
SCALAR_FIELDS = [
    fields.StringField, fields.TextField, fields.EmailField, fields.IntegerField,
    fields.FloatField, fields.BooleanField, fields.DateTimeField,
    lambda **kw: fields.ChoiceField(choices=[("a", "A")], **kw),
    lambda **kw: fields.ReferenceField("testapp.thing", **kw),
]


@pytest.mark.parametrize("make", SCALAR_FIELDS)
@pytest.mark.parametrize("value", INJECTIONS)
def test_scalar_fields_refuse_containers_naming_the_field(make, value):
    field = bound(make(), "secret")
    error = assert_error(field, value, "single value")
    assert error.field == "secret"


def test_list_field_refuses_operator_documents_inside_and_as_a_whole():
    tags = bound(fields.ListField(), "tags")
    assert_error(tags, {"$gt": ""}, "Expected a list")
    with pytest.raises(ValidationError) as info:
        tags.clean(["ok", {"$ne": 1}])
    assert info.value.errors == {"tags.1": "Expected a single value, not an object."}


# --------------------------------------------------------------------------- strings
def test_string_field_strips_and_checks_lengths():
    title = bound(fields.StringField(max_length=5, min_length=2), "title")
    assert title.clean("  abc ") == "abc"
    assert title.clean(12) == "12"
    assert_error(title, "abcdef", "at most 5 characters (it has 6)")
    assert_error(title, "a", "at least 2")
    assert_error(title, True, "Expected text")
    assert_error(title, b"bytes", "Expected text")
    assert_error(title, "a\x00b", "NUL")


def test_string_field_without_strip_keeps_whitespace():
    raw = bound(fields.StringField(strip=False))
    assert raw.clean("  x ") == "  x "


def test_text_field_keeps_whitespace_by_default():
    body = bound(fields.TextField(), "body")
    assert body.clean("    code\n") == "    code\n"


def test_required_refuses_empty_values():
    title = bound(fields.StringField(required=True), "title")
    error = assert_error(title, "   ", "required")
    assert error.code == "required"
    assert_error(title, None, "required")
    assert bound(fields.StringField()).clean("") == ""


def test_email_field_lowercases_only_the_domain():
    email = bound(fields.EmailField(), "email")
    assert email.clean(" Alice.Smith@Example.COM ") == "Alice.Smith@example.com"
    assert email.clean("x+tag@sub.example.org") == "x+tag@sub.example.org"


@pytest.mark.parametrize("bad", [
    "plain", "@example.com", "a@", "a@localhost", "a b@example.com", "a@@example.com",
    "a@exa mple.com", ".a@example.com", "a..b@example.com", "a@-example.com",
    "a@example.123",
])
def test_email_field_rejects_malformed_addresses(bad):
    assert_error(bound(fields.EmailField(), "email"), bad, "valid email")


def test_email_field_max_length_defaults_to_254():
    email = bound(fields.EmailField(), "email")
    assert email.max_length == 254
    assert_error(email, "a@" + "b" * 250 + ".com", "at most 254")


# --------------------------------------------------------------------------- numbers
def test_integer_field_coercion():
    n = bound(fields.IntegerField(min_value=0, max_value=100), "n")
    assert n.clean(" 42 ") == 42
    assert n.clean("+7") == 7
    assert n.clean(3.0) == 3
    assert n.clean("") is None
    assert_error(n, "4.5", "whole number")
    assert_error(n, 4.5, "whole number")
    assert_error(n, "1_000", "whole number")
    assert_error(n, True, "whole number")
    assert_error(n, -1, "greater than or equal to 0")
    assert_error(n, 101, "less than or equal to 100")
    assert_error(bound(fields.IntegerField(), "big"), 2 ** 63, "too large")


def test_float_field_coercion():
    x = bound(fields.FloatField(min_value=-1.5), "x")
    assert x.clean("2.5") == 2.5
    assert x.clean(3) == 3.0 and isinstance(x.clean(3), float)
    assert x.clean("1e3") == 1000.0
    assert_error(x, "nan", "number")
    assert_error(x, float("inf"), "finite")
    assert_error(x, False, "number")
    assert_error(x, "-2", "greater than or equal to -1.5")


# --------------------------------------------------------------------------- booleans
@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), (1, True), (0, False), ("on", True), ("TRUE", True),
    ("yes", True), ("off", False), ("0", False), ("false", False),
])
def test_boolean_field_coercion(value, expected):
    assert bound(fields.BooleanField()).clean(value) is expected


def test_boolean_field_rejects_other_values_and_defaults_to_false():
    flag = bound(fields.BooleanField(), "flag")
    assert_error(flag, "maybe", "true or false")
    assert_error(flag, 2, "true or false")
    assert flag.get_default() is False
    assert bound(fields.BooleanField(required=True)).clean(False) is False


# --------------------------------------------------------------------------- datetimes
def test_datetime_field_is_tz_aware_utc_with_milliseconds():
    when = bound(fields.DateTimeField(), "when")
    naive = when.clean(datetime.datetime(2024, 5, 1, 12, 30, 0, 123456))
    assert naive == datetime.datetime(2024, 5, 1, 12, 30, 0, 123000, tzinfo=UTC)
    assert naive.tzinfo is UTC
    shifted = when.clean("2024-05-01T14:30:00+02:00")
    assert shifted == datetime.datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    assert shifted.utcoffset() == datetime.timedelta(0)
    assert when.clean("2024-05-01T12:30Z").hour == 12
    assert when.clean(datetime.date(2024, 5, 1)) == datetime.datetime(2024, 5, 1, tzinfo=UTC)
    assert when.clean("") is None
    assert_error(when, "yesterday", "ISO 8601")
    assert_error(when, 1714566600, "date/time")


def test_datetime_from_bson_makes_naive_values_utc():
    when = bound(fields.DateTimeField(), "when")
    assert when.from_bson(datetime.datetime(2024, 1, 1)).tzinfo is UTC


def test_auto_now_fields_are_not_editable():
    assert fields.DateTimeField(auto_now=True).editable is False
    assert fields.DateTimeField(auto_now_add=True).editable is False
    assert fields.DateTimeField().editable is True


# --------------------------------------------------------------------------- choices
def test_choice_field_matches_values_and_their_text():
    status = bound(fields.ChoiceField(choices=[("draft", "Draft"), ("live", "Live")]), "status")
    assert status.clean("live") == "live"
    assert_error(status, "deleted", "not one of the choices")
    level = bound(fields.ChoiceField(choices=[(1, "Low"), (2, "High")]), "level")
    assert level.clean("2") == 2
    assert level.clean(1) == 1
    assert level.display(2) == "High"
    assert_error(level, 3, "not one of the choices")


def test_choices_option_applies_to_any_field():
    size = bound(fields.IntegerField(choices=[1, 2, 3]), "size")
    assert size.clean("2") == 2
    assert_error(size, "4", "not one of the choices")
    assert size.choices == [(1, "1"), (2, "2"), (3, "3")]


def test_choice_field_needs_choices():
    with pytest.raises(ImproperlyConfigured):
        fields.ChoiceField(choices=[])


# --------------------------------------------------------------------------- references
def test_reference_field_accepts_ids_and_saved_objects():
    class Author(Model):
        name = fields.StringField()

        class Meta:
            app_label = "testapp"

    author_ref = bound(fields.ReferenceField(Author), "author")
    oid = ObjectId()
    assert author_ref.clean(oid) == oid
    assert author_ref.clean(str(oid)) == oid
    assert author_ref.clean(Author(id=oid)) == oid
    assert author_ref.target is Author
    assert_error(author_ref, "not-an-id", "not a valid id")
    assert_error(author_ref, Author(), "not been saved")
    assert_error(author_ref, 12, "Expected an id")
    by_key = bound(fields.ReferenceField("TestApp.Author"), "author")
    assert by_key.target is Author
    assert by_key.to_json(oid) == str(oid)


# --------------------------------------------------------------------------- lists
def test_list_field_of_strings():
    tags = bound(fields.ListField(max_items=3), "tags")
    assert tags.clean(" python, web ,, tornado") == ["python", "web", "tornado"]
    assert tags.clean(["a ", " b"]) == ["a", "b"]
    assert tags.get_default() == [] and tags.get_default() is not tags.get_default()
    assert_error(tags, ["a", "b", "c", "d"], "at most 3 items")
    with pytest.raises(ValidationError) as info:
        tags.clean([1.5, True])
    assert list(info.value.errors) == ["tags.1"]
    assert_error(bound(fields.ListField(required=True), "tags"), [], "required")
    short = bound(fields.ListField(fields.StringField(max_length=3)), "tags")
    with pytest.raises(ValidationError) as info:
        short.clean(["ok", "toolong"])
    assert str(info.value) == "tags.1: Ensure this value has at most 3 characters (it has 7)."


# --------------------------------------------------------------------------- defaults
def test_defaults_values_and_callables():
    counter = iter(range(100))
    n = fields.IntegerField(default=lambda: next(counter))
    assert (n.get_default(), n.get_default()) == (0, 1)
    mutable = fields.ListField(default=["x"])
    first = mutable.get_default()
    first.append("y")
    assert mutable.get_default() == ["x"]
    assert fields.StringField().get_default() is None


def test_common_options_are_kept():
    field = fields.StringField(verbose_name="Headline", help_text="Shown on top",
                               editable=False, unique=True, index=True)
    assert (field.verbose_name, field.help_text, field.editable, field.unique, field.index) == (
        "Headline", "Shown on top", False, True, True)
    assert bound(fields.StringField(), "first_name").verbose_name == "first name"
