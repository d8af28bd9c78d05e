"""Bounded values: text has a default ``max_length``, numbers stay inside what is stored.

Every refusal is a ``ValidationError`` naming the field (a form error, a 422), never
an ``OverflowError``/``ValueError`` escaping to a 500, and nothing is written.
"""
import math

import pytest

from core.models import Model, ValidationError, fields


class Note(Model):
    title = fields.StringField()
    body = fields.TextField()
    summary = fields.TextField(max_length=50)
    unbounded = fields.TextField(max_length=None)
    amount = fields.IntegerField()
    ratio = fields.FloatField()

    class Meta:
        app_label = "testapp"
        collection = "bounded_notes"


def refused(field_name, value, fragment, code=None):
    field = Note._meta.fields[field_name]
    with pytest.raises(ValidationError) as caught:
        field.clean(value)
    assert list(caught.value.errors) == [field_name]
    assert fragment in caught.value.errors[field_name]
    if code is not None:
        assert caught.value.code == code
    return caught.value


def test_text_fields_have_a_default_max_length():
    assert fields.TEXT_MAX_LENGTH == 100_000
    assert Note._meta.fields["body"].max_length == fields.TEXT_MAX_LENGTH
    assert Note._meta.fields["title"].max_length == fields.STRING_MAX_LENGTH
    assert Note._meta.fields["summary"].max_length == 50
    assert Note._meta.fields["unbounded"].max_length is None
    # an EmailField keeps its own default
    assert fields.EmailField().max_length == 254


def test_text_past_the_default_limit_is_refused_naming_the_field():
    assert Note._meta.fields["body"].clean("é" * fields.TEXT_MAX_LENGTH) == "é" * 100_000
    refused("body", "x" * (fields.TEXT_MAX_LENGTH + 1), "at most 100000 characters",
            code="max_length")
    refused("title", "x" * (fields.STRING_MAX_LENGTH + 1), "at most 10000 characters")
    assert Note._meta.fields["unbounded"].clean("x" * 300_000) == "x" * 300_000


def test_list_items_are_bounded_too():
    tags = fields.ListField()
    tags.contribute_to_class(None, "tags")
    with pytest.raises(ValidationError) as caught:
        tags.clean(["ok", "y" * (fields.STRING_MAX_LENGTH + 1)])
    assert "at most 10000 characters" in caught.value.errors["tags.1"]


async def test_saving_over_long_text_raises_and_stores_nothing(db):
    note = Note(title="t", body="x" * (fields.TEXT_MAX_LENGTH + 1))
    with pytest.raises(ValidationError) as caught:
        await note.save()
    assert "body" in caught.value.errors
    assert await Note.count() == 0
    note.body = "fine"
    await note.save()
    assert (await Note.get(note.id)).body == "fine"


@pytest.mark.parametrize("value", [
    2 ** 63, -(2 ** 63) - 1, 10 ** 30, "9223372036854775808", "99999999999999999999",
    "-99999999999999999999", "9" * 5000, float(2 ** 64),
])
def test_integers_outside_int64_are_a_validation_error(value):
    refused("amount", value, "too large", code="out_of_range")


def test_int64_bounds_themselves_are_accepted():
    field = Note._meta.fields["amount"]
    assert field.clean(str(2 ** 63 - 1)) == 2 ** 63 - 1
    assert field.clean(-(2 ** 63)) == -(2 ** 63)
    assert field.clean("000000000000000000000000042") == 42


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "nan", "inf", "1e999",
                                   "-1e999", 10 ** 400, "9" * 400])
def test_floats_must_be_finite(value):
    refused("ratio", value, "number")


async def test_saving_an_out_of_range_number_raises_and_stores_nothing(db):
    note = Note(title="t", amount=2 ** 64)
    with pytest.raises(ValidationError) as caught:
        await note.save()
    assert list(caught.value.errors) == ["amount"]
    note = Note(title="t", ratio=math.nan)
    with pytest.raises(ValidationError) as caught:
        await note.save()
    assert list(caught.value.errors) == ["ratio"]
    assert await Note.count() == 0


async def test_filters_with_numbers_outside_int64_are_refused_before_any_work(db):
    from core.db import UnsupportedOperation, ValueOutOfRange
    await Note(title="t", amount=1).save()
    with pytest.raises(ValueOutOfRange) as caught:
        await Note.find({"amount": 2 ** 64}).to_list()
    assert isinstance(caught.value, UnsupportedOperation)
    assert isinstance(caught.value, OverflowError)           # as PyMongo's own error
    assert "amount" in str(caught.value)
