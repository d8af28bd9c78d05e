"""The fast check of dumped documents (``core.models.stored``) accepts only what the
model's round trip accepts unchanged, and a bad line is still refused with its line."""
import datetime

import bson
import pytest
from bson import ObjectId, json_util

from core.management.atomic_load import validate_chunk
from core.management.serialization import (JSON_OPTIONS, LineError, LoadError, Spool,
                                           clean_document, clean_through_model,
                                           validate_file)
from core.models import Model, fields
from core.models.stored import stored_as_cleaned

from dumpload_support import PASSWORD_HASH, article_lines

UTC = datetime.timezone.utc
MOMENT = datetime.datetime(2024, 5, 1, 12, 30, 0, 123000, tzinfo=UTC)


class Bounded(Model):
    """Every plain field class with the options the fast check reads."""

    code = fields.StringField(min_length=2, max_length=5, required=True)
    note = fields.StringField(strip=False, max_length=None)
    text = fields.TextField(max_length=8)
    flag = fields.BooleanField(required=True)
    ref = fields.ReferenceField("blog.category", required=True)
    when = fields.DateTimeField(required=True)
    labels = fields.ListField(fields.StringField(max_length=3), min_items=1, max_items=2)

    class Meta:
        app_label = "storedcheck"


def bounded(**changes):
    doc = {"_id": ObjectId(), "version": 2, "code": "ab", "note": " x ", "text": "t\n",
           "flag": False, "ref": ObjectId(), "when": MOMENT, "labels": ["a"]}
    doc.update(changes)
    return doc


def article(**changes):
    _key, doc = next(article_lines(1))
    doc.update(changes)
    return doc


E = datetime.timezone(datetime.timedelta(hours=2))
# (field, value, whether the fast check takes it as stored): the round trip must store a
# taken value unchanged; the others go through the round trip (accepted or refused there)
ODD_VALUES = [
    ("code", "ab", True), ("code", "abcde", True), ("code", "\u00e9t\u00e9", True),
    ("code", "a", False), ("code", "abcdef", False), ("code", "", False), ("code", None, False),
    ("code", " ab", False), ("code", "ab ", False), ("code", "a\x00b", False),
    ("code", 12, False), ("code", 1.5, False), ("code", True, False), ("code", ["ab"], False),
    ("code", {"$gt": ""}, False),
    ("note", " x ", True), ("note", "", True), ("note", None, True), ("note", "\t", True),
    ("note", "y" * 20_000, True), ("note", "a\x00", False), ("note", 3, False),
    ("text", "", True), ("text", None, True), ("text", "12345678", True),
    ("text", " pad ", True), ("text", "123456789", False), ("text", False, False),
    ("flag", True, True), ("flag", False, True), ("flag", None, False), ("flag", 0, False),
    ("flag", 1, False), ("flag", "true", False), ("flag", "", False), ("flag", [], False),
    ("ref", ObjectId(), True), ("ref", None, False), ("ref", "5f0c0a0b0c0d0e0f10111213", False),
    ("ref", "", False), ("ref", 7, False), ("ref", {"$oid": "x"}, False),
    ("when", MOMENT, True), ("when", datetime.datetime(1969, 7, 20, tzinfo=UTC), True),
    ("when", MOMENT.replace(microsecond=123456), False),
    ("when", MOMENT.replace(tzinfo=None), False), ("when", MOMENT.astimezone(E), False),
    ("when", None, False), ("when", "2024-05-01T12:30:00Z", False), ("when", 0, False),
    ("when", datetime.date(2024, 5, 1), False),
    ("labels", ["a"], True), ("labels", ["a", "abc"], True), ("labels", [], False),
    ("labels", ["a", "b", "c"], False), ("labels", ["abcd"], False), ("labels", [" a"], False),
    ("labels", [""], False), ("labels", [None], False), ("labels", ["a", ""], False),
    ("labels", None, False), ("labels", "a,b", False), ("labels", [1], False),
    ("labels", [["a"]], False),
    ("version", 1, True), ("version", 7, True), ("version", None, False),
    ("version", 2 ** 63, False),
]


def full_path(model, document):
    """What the model's round trip stores (its BSON), or the ``LineError`` text."""
    try:
        return bson.encode(clean_through_model(model, document))
    except LineError as exc:
        return exc.reason


@pytest.mark.parametrize("name, value, fast", ODD_VALUES)
def test_the_fast_check_takes_only_what_the_round_trip_stores_unchanged(name, value, fast):
    document = bounded(**{name: value})
    assert stored_as_cleaned(Bounded)(document) is fast
    if fast:
        assert full_path(Bounded, document) == bson.encode(document)
        assert clean_document(Bounded, document) is document


@pytest.mark.parametrize("document", [
    bounded(version=None),                        # to_bson drops a null version
    {k: v for k, v in bounded().items() if k != "note"},    # a missing field gets its default
    dict(bounded(), extra=1),                     # keys the model does not declare
    dict(reversed(list(bounded().items()))),      # another key order
])
def test_documents_of_another_shape_go_through_the_model(document):
    assert stored_as_cleaned(Bounded)(document) is False


def test_a_dumped_article_takes_the_fast_path_and_a_user_does_not(registry):
    assert stored_as_cleaned(registry.get_model("blog.article"))(article()) is True
    # accounts.user has its own clean(): always the round trip
    assert stored_as_cleaned(registry.get_model("accounts.user")) is None


def test_a_field_subclass_or_choices_turn_the_fast_check_off():
    class Shouting(fields.StringField):
        def coerce(self, value):
            return super().coerce(value).upper()

    class WithSubclass(Model):
        name = Shouting()

        class Meta:
            app_label = "storedcheck"

    class WithChoices(Model):
        size = fields.StringField(choices=["s", "m"])

        class Meta:
            app_label = "storedcheck"

    assert stored_as_cleaned(WithSubclass) is None
    assert stored_as_cleaned(WithChoices) is None


def error_for(workspace, lines):
    path = workspace.write_lines("bad.jsonl", lines)
    with pytest.raises(LoadError) as info:
        validate_file(path, workspace.registry, None, progress=False)
    return info.value.line, info.value.reason


@pytest.mark.parametrize("change, expected", [
    ({"published": "yes"}, "published: \"yes\" is not a value this model stores (it would "
                           "store true)"),
    ({"title": 42}, 'title: 42 is not a value this model stores (it would store "42")'),
    ({"title": ""}, "title: This field is required."),
    ({"category": "nope"}, "category: 'nope' is not a valid id."),
    ({"tags": ["x" * 51]}, "tags.0: Ensure this value has at most 50 characters (it has 51)."),
])
def test_bad_values_among_fast_lines_are_refused_with_their_line(workspace, change, expected):
    bad = article(**change)
    line, reason = error_for(workspace, [*article_lines(3), ("blog.article", bad),
                                         *article_lines(2)])
    assert (line, reason) == (4, f"blog.article {bad['_id']}: {expected}")


def test_a_missing_required_field_among_fast_lines_is_refused(workspace):
    bad = {k: v for k, v in article().items() if k != "title"}
    line, reason = error_for(workspace, [*article_lines(2), ("blog.article", bad)])
    assert (line, reason) == (3, f"blog.article {bad['_id']}: title: This field is required.")


def test_users_are_still_checked_by_their_own_clean(workspace):
    doc = {"_id": ObjectId(), "version": 1, "username": "no spaces allowed",
           "email": "a@example.com", "password": PASSWORD_HASH, "is_active": True,
           "is_superuser": False, "permissions": {}, "roles": [],
           "date_joined": MOMENT, "last_login": None}
    line, reason = error_for(workspace, [*article_lines(2), ("accounts.user", doc)])
    assert line == 3 and "username: Enter a valid username" in reason


@pytest.mark.parametrize("one_transaction", [False, True])
def test_text_no_store_can_hold_is_refused_with_its_line_by_either_load(
        workspace, one_transaction):
    """A lone surrogate (``"\\ud800"`` in the JSON) passes the fast check as text, and is
    refused where it is encoded (the spool's BSON, or the embedded store's row), before
    anything is written."""
    bad = article(title="half \ud800 a pair")
    assert stored_as_cleaned(workspace.registry.get_model("blog.article"))(bad) is True
    line = json_util.dumps({"model": "blog.article", "document": bad},
                           json_options=JSON_OPTIONS) + "\n"      # ASCII: \\ud800 escaped
    path = workspace.write_lines("surrogate.jsonl", [*article_lines(2), line])
    if one_transaction:
        with open(path, "rb") as handle:
            _counts, runs, _bytes, error = validate_chunk(path, 1, handle.readlines(),
                                                          workspace.registry)
        assert runs == [] and error[0] == 3 and "cannot be stored" in error[1]
        return
    with Spool() as spool, pytest.raises(LoadError) as info:
        validate_file(path, workspace.registry, None, progress=False, spool=spool)
    assert info.value.line == 3 and "cannot be stored" in info.value.reason
