"""Bounds through the JSON API, over real HTTP: over-long text and out-of-range numbers
are a 422 naming the field (or a 400/409 for query arguments and versions), never a
500 and nothing stored; a search over huge legacy text keeps the event loop free."""

import pytest

from core.models import fields
from support.bounds import STALL_LIMIT, least_loop_stall

NOTES = "/api/notes/note/"
PLAIN = "/api/notes/plain/"


async def test_text_over_the_default_max_length_is_422_naming_the_field(notes, root):
    reply = await root.post(NOTES, {"title": "T", "body": "x" * (fields.TEXT_MAX_LENGTH + 1)})
    assert reply.code == 422, reply
    assert "100000" in reply.json["fields"]["body"]
    assert await notes.model("notes.note").count(db=notes.db) == 0
    reply = await root.post(NOTES, {"title": "T", "body": "ü" * fields.TEXT_MAX_LENGTH})
    assert reply.code == 201, reply
    note_id = reply.json["id"]
    reply = await root.patch(f"{NOTES}{note_id}", {"body": "y" * (fields.TEXT_MAX_LENGTH + 1)})
    assert reply.code == 422 and "body" in reply.json["fields"], reply
    assert (await root.get(f"{NOTES}{note_id}")).json["body"] == "ü" * 100_000


@pytest.mark.parametrize("raw, field", [
    ('{"title": "T", "rank": 99999999999999999999}', "rank"),
    ('{"title": "T", "rank": -99999999999999999999}', "rank"),
    ('{"title": "T", "rank": "%s"}' % ("9" * 5000), "rank"),
    ('{"name": "p", "score": 1e999}', "score"),
    ('{"name": "p", "score": 1%s}' % ("0" * 400), "score"),
])
async def test_out_of_range_numbers_in_bodies_are_422_naming_the_field(notes, root, raw, field):
    path = NOTES if field == "rank" else PLAIN
    reply = await root.post(path, raw=raw)
    assert reply.code == 422, reply
    assert field in reply.json["fields"], reply.json
    assert "too large" in reply.json["fields"][field] or "number" in reply.json["fields"][field]
    assert await notes.model(
        "notes.note" if field == "rank" else "notes.plain").count(db=notes.db) == 0


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
async def test_non_json_number_tokens_are_400(notes, root, token):
    reply = await root.post(PLAIN, raw='{"name": "p", "score": %s}' % token)
    assert reply.code == 400 and "not valid JSON" in reply.json["error"], reply
    assert await notes.model("notes.plain").count(db=notes.db) == 0


async def test_a_body_with_an_integer_too_long_to_parse_is_refused(notes, root):
    reply = await root.post(NOTES, raw='{"title": "T", "rank": %s}' % ("9" * 5000))
    assert reply.code in (400, 422), reply
    assert await notes.model("notes.note").count(db=notes.db) == 0


@pytest.mark.parametrize("query", [
    "rank=99999999999999999999", "rank=" + "9" * 5000, "rank=-99999999999999999999",
    "per_page=99999999999999999999", "per_page=" + "9" * 5000,
])
async def test_out_of_range_numbers_in_list_queries_are_400(notes, root, rank_filter, query):
    await notes.model("notes.note").create(title="n", rank=5, db=notes.db)
    reply = await root.get(f"{NOTES}?{query}")
    assert reply.code == 400, (query, reply)
    reply = await root.get(f"{NOTES}?rank=5")
    assert reply.code == 200 and [r["title"] for r in reply.json["results"]] == ["n"]


async def test_out_of_range_versions_are_400_or_409_and_change_nothing(notes, root):
    note = (await root.post(NOTES, {"title": "before"})).json
    reply = await root.patch(f"{NOTES}{note['id']}", {"title": "after"},
                             headers={"If-Match": '"99999999999999999999"'})
    assert reply.code in (400, 409), reply
    reply = await root.patch(f"{NOTES}{note['id']}",
                             {"title": "after", "version": 99999999999999999999})
    assert reply.code in (400, 409, 422), reply
    assert (await root.get(f"{NOTES}{note['id']}")).json["title"] == "before"


async def test_a_search_over_huge_legacy_text_keeps_the_loop_free(notes, root,
                                                                  python_regex_calls):
    coll = notes.db[notes.model("notes.note")._meta.collection]
    # straight into the store, as data from before the TextField limit would be
    await coll.insert_many([{"title": "legacy", "body": "a" * 3_000_000}] +
                           [{"title": f"note {i}", "body": "short"} for i in range(200)])
    reply, stall = await least_loop_stall(lambda: root.get(NOTES + "?q=aaaaaaaa%C3%A9"))
    assert reply.code == 200 and reply.json["results"] == [], reply
    assert python_regex_calls == []           # matched in SQLite: no GIL held per row
    assert stall < STALL_LIMIT, f"the event loop stalled for {stall * 1000:.0f} ms"


async def test_a_search_past_the_store_time_budget_is_400(notes, root):
    coll = notes.db[notes.model("notes.note")._meta.collection]
    await coll.insert_many([{"title": f"note {i}"} for i in range(20_000)])
    notes.db.store.regex_time_budget = 0.0       # spent at SQLite's first progress check
    # two letters: too short for the search index, so the store scans (a longer absent
    # word is answered from the index at once, before any budget could run out)
    reply = await root.get(NOTES + "?q=ze")
    assert reply.code == 400, reply
    assert "stopped" in reply.json["error"]            # says why, not a bare 400
