"""``codec.dumps`` writes documents with JSON's C encoder, and its text is exactly what the
recursive ``encode`` gives (tags for the non-JSON types, user strings that start with the
tag escaped)."""
import datetime
import json

import pytest
from bson import Binary, ObjectId
from bson.decimal128 import Decimal128

from core.db.embedded import codec

TAG = codec.TAG
WHEN = datetime.datetime(2024, 5, 1, 12, 30, 0, 123000, tzinfo=datetime.timezone.utc)

DOCUMENTS = [
    {"_id": ObjectId(), "title": "plain", "n": 1, "x": 1.5, "ok": True, "none": None},
    {"_id": ObjectId(), "when": WHEN, "price": Decimal128("12.50"), "raw": b"\x00\xff",
     "bin": Binary(b"abc", 4), "tags": ["a", ObjectId(), WHEN], "pair": ("x", 2)},
    {"nested": {"deep": [{"when": WHEN}, [ObjectId(), "é"]]}, "text": "ünïcode ✓"},
    {"user": TAG + "starts with the tag", "id": ObjectId()},
    {"user": "holds the tag " + TAG + " inside", "id": ObjectId()},
    {"key " + TAG: 1, "when": WHEN},
    {"list": [TAG + "o" + "0" * 24, ObjectId()]},
]


def reference(document):
    return json.dumps(codec.encode(document), ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("document", DOCUMENTS)
def test_dumps_writes_what_the_recursive_encoder_writes(document):
    text = codec.dumps(document)
    assert text == reference(document)
    assert codec.loads(text) == {k: list(v) if isinstance(v, tuple) else v
                                 for k, v in document.items()}


def test_a_value_outside_the_stored_types_is_still_refused():
    with pytest.raises(TypeError):
        codec.dumps({"x": object()})


def test_each_thread_encodes_with_its_own_count_of_tagged_values():
    """The C encoder is made once per thread; a document that failed half-way, or one
    encoded at the same time on another thread, never leaves its count to the next."""
    from concurrent.futures import ThreadPoolExecutor
    with pytest.raises(TypeError):
        codec.dumps({"id": ObjectId(), "bad": object()})
    assert codec.dumps(DOCUMENTS[3]) == reference(DOCUMENTS[3])
    with ThreadPoolExecutor(4) as pool:
        texts = list(pool.map(codec.dumps, DOCUMENTS * 50))
    assert texts == [reference(d) for d in DOCUMENTS * 50]
    assert codec.dumps({"x": float("nan")}) == '{"x":NaN}'
