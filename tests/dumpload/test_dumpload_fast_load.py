"""loaddata validates each line once: the fast reader of dumped lines gives what
``json_util`` gives, and the spool hands ``load`` the documents validation produced."""
import datetime
import io
import json

import pytest
from bson import ObjectId, json_util

from core.management.serialization import (JSON_OPTIONS, FILES, LoadError, Spool,
                                           _extended_json_value, dump_line, validate_file)

from dumpload_support import article_lines

UTC = datetime.timezone.utc


@pytest.mark.parametrize("value", [
    ObjectId(), datetime.datetime(2020, 1, 1, tzinfo=UTC),
    datetime.datetime(2024, 2, 29, 23, 59, 59, 123000, tzinfo=UTC),
    datetime.datetime(1969, 7, 20, 20, 17, tzinfo=UTC),          # before 1970: $numberLong
    datetime.datetime(9999, 12, 31, tzinfo=UTC), b"\x00bytes", 2 ** 40, 1.5, "$oid",
    {"nested": {"when": datetime.datetime(2001, 1, 1, tzinfo=UTC)}},
])
def test_dumped_values_read_back_as_json_util_reads_them(value):
    text = dump_line("blog.article", {"_id": ObjectId(), "value": value})
    fast = json.loads(text, object_hook=_extended_json_value)
    assert fast == json_util.loads(text, json_options=JSON_OPTIONS)
    assert type(fast["document"]["value"]) is type(
        json_util.loads(text, json_options=JSON_OPTIONS)["document"]["value"])
    if isinstance(value, datetime.datetime):       # the very tzinfo the model's checks want
        assert fast["document"]["value"].tzinfo is UTC


@pytest.mark.parametrize("text", ['{"$oid": "zz"}', '{"$date": "2020-13-01T00:00:00Z"}',
                                  '{"$oid": "5f0c0a0b0c0d0e0f10111213", "more": 1}',
                                  '{"$oid": "5f0c0a0b0c0d0e0f1011121z"}',   # 24, not hex
                                  '{"$oid": "5f0c0a0b0c0d0e0f10111é"}',
                                  '{"$date": "2020-01-01T00:00:00+02:00"}',
                                  '{"$date": "2020-01-01T00:00:00.5Z"}'])
def test_odd_extended_json_goes_to_json_util(text):
    try:
        expected = json_util.loads(text, json_options=JSON_OPTIONS)
    except Exception as exc:                      # the same error, from the same code
        with pytest.raises(type(exc)):
            json.loads(text, object_hook=_extended_json_value)
    else:
        assert json.loads(text, object_hook=_extended_json_value) == expected


def test_the_spool_holds_the_validated_documents_in_order(workspace):
    lines = list(article_lines(3))
    path = workspace.write_lines("three.jsonl", ["\n", *lines])
    with Spool() as spool:
        counts = validate_file(path, workspace.registry, io.StringIO(), False, spool=spool)
        spooled = list(spool.documents(workspace.registry))
    assert counts == {"blog.article": 3}
    assert [(n, m._meta.key) for n, m, _d, _ in spooled] == [
        (2, "blog.article"), (3, "blog.article"), (4, "blog.article")]
    assert [d["_id"] for _n, _m, d, _ in spooled] == [d["_id"] for _k, d in lines]
    assert all(m is not FILES for _n, m, _d, _ in spooled)
    assert spooled[0][2]["created"].tzinfo is not None


def test_a_line_the_spool_cannot_hold_is_an_error_naming_it(workspace):
    """A file line whose metadata BSON cannot hold (a NUL in a key) is refused while
    validating, with its line, before anything is written."""
    record = {"_id": ObjectId(), "filename": "a.txt", "content_type": "text/plain",
              "uploaded": datetime.datetime(2024, 1, 1, tzinfo=UTC), "metadata": {"a\x00b": 1}}
    bad = json_util.dumps({"file": record, "data": b"hi"}, json_options=JSON_OPTIONS) + "\n"
    path = workspace.write_lines("bad.jsonl", [*article_lines(1), bad])
    with Spool() as spool, pytest.raises(LoadError) as info:
        validate_file(path, workspace.registry, io.StringIO(), False, spool=spool)
    assert info.value.line == 2 and "cannot be stored" in info.value.reason
