"""Every field kind through the API, on the admin tests' ``notes`` app: choices, numbers,
datetimes (out-of-range ones are a 422, never a 500), hidden fields, an unregistered model."""
import pytest

NOTES = "/api/notes/note/"


async def test_field_kinds_round_trip(notes, root):
    category = await root.post("/api/notes/category/", {"name": "Work"})
    reply = await root.post(NOTES, {"title": "Plan", "kind": "todo", "rank": 7, "done": True,
                                    "due": "2026-05-01T12:30:00+02:00", "tags": ["a"],
                                    "category": category.json["id"]})
    assert reply.code == 201, reply
    note = reply.json
    assert note["kind"] == "todo" and note["rank"] == 7 and note["done"] is True
    assert note["due"] == "2026-05-01T10:30:00+00:00"                  # stored as UTC
    assert note["owner"] == "root"                                     # save_model
    reply = await root.patch(f"{NOTES}{note['id']}", {"done": None, "tags": None})
    assert reply.code == 200 and reply.json["done"] is False and reply.json["tags"] == []
    doc = (await root.get("/api/openapi.json")).json
    props = doc["components"]["schemas"]["notes_note"]["properties"]
    assert props["kind"]["enum"] == ["memo", "todo"]
    assert props["rank"]["minimum"] == 0 and props["rank"]["maximum"] == 1000


@pytest.mark.parametrize("body, field", [
    ({"kind": "urgent"}, "kind"),
    ({"rank": 1001}, "rank"),
    ({"rank": 1.5}, "rank"),
    ({"rank": True}, "rank"),
    ({"rank": 10 ** 30}, "rank"),
    ({"due": "9999-12-31T23:59:59-05:00"}, "due"),
    ({"due": "0001-01-01T00:00:00+05:00"}, "due"),
    ({"due": "yesterday"}, "due"),
    ({"due": {"$gt": "2020"}}, "due"),
    ({"owner": "mallory"}, "owner"),
    ({"key_hash": "x"}, "key_hash"),
])
async def test_bad_values_are_422_naming_the_field(notes, root, body, field):
    reply = await root.post(NOTES, {"title": "T", **body})
    assert reply.code == 422, reply
    assert field in reply.json["fields"]
    Note = notes.model("notes.note")
    assert await Note.count({}, db=notes.db) == 0


async def test_hidden_fields_of_an_unregistered_model_never_leave(notes, root):
    Plain = notes.model("notes.plain")
    plain = await Plain.create(name="p", score=1.5, api_token="t", key_hash="SECRET-HASH",
                               db=notes.db)
    one = await root.get(f"/api/notes/plain/{plain.id}")
    assert one.code == 200 and one.json["name"] == "p" and one.json["score"] == 1.5
    assert "key_hash" not in one.json and "SECRET-HASH" not in one.text
    listed = await root.get("/api/notes/plain/")
    assert "SECRET-HASH" not in listed.text
    reply = await root.patch(f"/api/notes/plain/{plain.id}", {"key_hash": "new"})
    assert reply.code == 422 and "key_hash" in reply.json["fields"]
    await plain.reload(db=notes.db)
    assert plain.key_hash == "SECRET-HASH"
    doc = (await root.get("/api/openapi.json")).json
    assert "key_hash" not in doc["components"]["schemas"]["notes_plain"]["properties"]


async def test_owner_rule_and_filters_of_the_notes_admin(notes, root):
    other = await notes.token_client("other", {"notes.note": ["read", "write", "delete"]})
    mine = (await other.post(NOTES, {"title": "Mine", "kind": "todo"})).json
    roots = (await root.post(NOTES, {"title": "Root's", "kind": "memo"})).json
    assert (await other.delete(f"{NOTES}{roots['id']}")).code == 403
    assert (await other.delete(f"{NOTES}{mine['id']}")).code == 204
    reply = await root.get(NOTES + "?kind=memo")
    assert [n["title"] for n in reply.json["results"]] == ["Root's"]
    assert (await root.get(NOTES + "?kind=urgent")).code == 400
