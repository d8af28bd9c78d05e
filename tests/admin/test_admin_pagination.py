"""Keyset helpers: cursors are signed and typed, filters handle ties and nulls."""
import datetime

import pytest
from bson import ObjectId

from core.admin import pagination
from core.db import connect

SORT = [("rank", 1), ("_id", 1)]


def test_cursor_round_trip_keeps_types():
    when = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)
    oid = ObjectId()
    sort = [("created", -1), ("title", 1), ("n", 1), ("flag", 1), ("gone", 1), ("_id", -1)]
    token = pagination.encode_cursor("s", sort, [when, "é ü", 1.5, True, None, oid], "prev")
    assert "=" not in token and "/" not in token and "+" not in token      # url-safe
    position = pagination.decode_cursor("s", token, sort)
    assert position.values == [when, "é ü", 1.5, True, None, oid]
    assert position.direction == "prev"


@pytest.mark.parametrize("token", ["", "x", "a.b", "a.b.c", "é.é", "x" * 5000, None, 5])
def test_malformed_tokens_are_cursor_errors(token):
    with pytest.raises(pagination.CursorError):
        pagination.decode_cursor("s", token, SORT)


def test_a_token_is_bound_to_its_secret_and_sort_order():
    token = pagination.encode_cursor("s", SORT, [3, ObjectId()], "next")
    with pytest.raises(pagination.CursorError):
        pagination.decode_cursor("other", token, SORT)
    with pytest.raises(pagination.CursorError):
        pagination.decode_cursor("s", token, [("rank", -1), ("_id", -1)])


@pytest.mark.parametrize("secret", ["s3cret", b"\x00bytes", bytearray(b"array")])
def test_a_token_s_signature_is_the_hmac_of_its_payload(secret):
    """A cursor's signature is HMAC-SHA256 (cut to 16 bytes) of ``bastion.cursor:`` and
    its payload under the secret, however it is computed: tokens signed before stay
    valid, for each secret a process signs with."""
    import base64
    import hmac
    sort = [("created", -1), ("_id", -1)]
    for secret_now in (secret, "other", secret):
        token = pagination.encode_cursor(secret_now, sort, [None, ObjectId()], "next")
        payload, signature = token.encode().split(b".")
        key = secret_now.encode() if isinstance(secret_now, str) else bytes(secret_now)
        expected = hmac.digest(key, b"bastion.cursor:" + payload, "sha256")[:16]
        assert base64.urlsafe_b64decode(signature + b"==") == expected


@pytest.mark.parametrize("length", [0, 1, 32, 63, 64, 65, 200])
def test_the_prefixed_digest_is_hmac_sha256_for_keys_of_any_length(length):
    """Keys longer than SHA-256's block are hashed first, shorter ones padded (RFC 2104)."""
    import hashlib
    import hmac
    from core.signing import prefixed_digest
    for secret in ("é" * (length // 2) + "k" * (length % 2), bytes(range(length % 256)) * 1,
                   b"\xff" * length):
        key = secret.encode() if isinstance(secret, str) else secret
        for message in (b"", b"payload", bytes(range(256)) * 3):
            assert prefixed_digest(secret, b"bastion.cursor:", message) == hmac.new(
                key, b"bastion.cursor:" + message, hashlib.sha256).digest()
            assert prefixed_digest(secret, b"", message) == hmac.new(
                key, message, hashlib.sha256).digest()


def test_count_text():
    assert pagination.format_count(1001, capped=True) == "1,000+"
    assert pagination.format_count(1000, capped=True) == "1,000"
    assert pagination.format_count(1234567, capped=False) == "1,234,567"


@pytest.mark.parametrize("code", ["en", "fr", "de", "pt_BR", "hi", "de-CH", "xx"])
def test_count_text_is_babels_without_asking_babel_every_page(code, monkeypatch):
    """A language's count formatter is made once: the digits are Babel's (Indian grouping
    and unknown codes too), and later counts do not parse Babel's pattern again."""
    from babel import numbers as babel_numbers

    import tornado.locale

    from core import i18n
    i18n.activate(tornado.locale.CSVLocale(code, {}))
    try:
        babel_locale = i18n._babel_locale(code)        # Babel itself, not the fast path

        def babels(number):
            return babel_numbers.format_decimal(number, locale=babel_locale)
        expected = {n: babels(n) for n in (0, 7, 999, 1000, 12345, 1234567)}
        expected["cap"] = babels(pagination.COUNT_CAP) + "+"
        grouped_by_threes = babels(9081234567) == \
            f"{9081234567:,}".replace(",", babel_numbers.get_group_symbol(babel_locale))
        pagination.format_count(1, capped=False)           # the language's formatter, made
        calls = []
        real = babel_numbers.format_decimal
        monkeypatch.setattr(babel_numbers, "format_decimal",
                            lambda *a, **k: calls.append(a) or real(*a, **k))
        for number, text in expected.items():
            if number == "cap":
                assert pagination.format_count(5000, capped=True) == text
            else:
                assert pagination.format_count(number, capped=False) == text
        assert (calls == []) == grouped_by_threes, (code, calls)
    finally:
        i18n.activate(None)


async def next_page(collection, sort, after, limit, segmented):
    if after is None:
        return await collection.find({}, sort=sort, limit=limit).to_list(limit)
    if not segmented:
        flt = pagination.keyset_filter(sort, after)
        return await collection.find(flt, sort=sort, limit=limit).to_list(limit)
    rows = []
    for part in pagination.keyset_segments(sort, after):
        wanted = limit - len(rows)
        if wanted <= 0:
            break
        rows += await collection.find(part, sort=sort, limit=wanted).to_list(wanted)
    return rows


@pytest.mark.parametrize("segmented", [False, True])
@pytest.mark.parametrize("direction", [1, -1])
async def test_keyset_walks_every_row_once_with_ties_and_nulls(direction, segmented):
    db = connect("memory:")
    try:
        collection = db["rows"]
        docs = [{"_id": ObjectId(), "rank": None if i % 5 == 0 else i % 3} for i in range(23)]
        docs += [{"_id": ObjectId()}]                       # the field missing altogether
        await collection.insert_many(docs)
        sort = [("rank", direction), ("_id", direction)]
        expected = [d["_id"] for d in await collection.find({}, sort=sort).to_list(None)]
        seen, after = [], None
        while True:
            page = await next_page(collection, sort, after, 4, segmented)
            if not page:
                break
            seen += [d["_id"] for d in page]
            after = pagination.sort_values(page[-1], sort)
        assert seen == expected and len(seen) == 24
    finally:
        await db.close()


async def test_keyset_filter_backwards_returns_the_rows_before():
    db = connect("memory:")
    try:
        collection = db["rows"]
        await collection.insert_many([{"_id": ObjectId(), "rank": i % 4} for i in range(12)])
        everything = await collection.find({}, sort=SORT).to_list(None)
        pivot = everything[7]
        flt = pagination.keyset_filter(SORT, pagination.sort_values(pivot, SORT),
                                       backwards=True)
        before = await collection.find(flt, sort=pagination.reverse_sort(SORT)).to_list(None)
        assert [d["_id"] for d in reversed(before)] == [d["_id"] for d in everything[:7]]
    finally:
        await db.close()
