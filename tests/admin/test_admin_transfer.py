"""Export (the current filtered list as CSV / JSON lines, streamed, audited, only what the
user may read) and import (preview with per-row errors, then all rows or none)."""
import csv
import html
import io
import json
import re

import pytest

from desk_kit import POSTS, WRITERS, add_posts, add_writer, titles, upload
from support.pages import text_of

EXPORTER = {"desk.post": ["read", "export"], "desk.writer": ["read"]}
EDITOR = {"desk.post": ["read", "write"], "desk.writer": ["read"]}


@pytest.fixture
async def root(desk):
    return await desk.user_browser("root", is_superuser=True)


def csv_rows(text):
    return list(csv.DictReader(io.StringIO(text)))


async def audit_entries(site, action):
    Entry = site.model("audit.entry")
    return await Entry.find({"action": action}, db=site.db).to_list(None)


async def test_export_streams_the_whole_filtered_list_in_the_lists_order(desk):
    await add_posts(desk, [{"title": f"jazz {i:04d}", "tags": ["jazz"], "score": i % 50}
                           for i in range(1100)] + [{"title": "rock", "tags": ["rock"]}])
    user = await desk.user_browser("exporter", EXPORTER)
    listing = await user.get(f"{POSTS}?tags=jazz&o=title")
    link = html.unescape(re.search(r'<a class="btn btn-secondary exportlink" href="([^"]*)"',
                                   listing.text).group(1))
    assert "tags=jazz" in link and "format=csv" in link and "o=title" in link
    response = await user.get(link)
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = csv_rows(response.text)
    assert len(rows) == 1100                                   # every page, not one
    assert [row["title"] for row in rows[:2]] == ["jazz 0000", "jazz 0001"]
    assert rows[-1]["title"] == "jazz 1099" and "rock" not in response.text
    assert list(rows[0])[:2] == ["id", "title"] and rows[0]["tags"] == "jazz"
    lines = (await user.get(f"{POSTS}export/?format=jsonl&score=7")).text.splitlines()
    assert len(lines) == 22 and all(json.loads(line)["score"] == 7 for line in lines)
    entries = await audit_entries(desk, "export")
    assert [entry.model_key for entry in entries] == ["desk.post", "desk.post"]
    assert sorted(entry.detail for entry in entries) == ["csv: o=title, tags=jazz",
                                                         "jsonl: score=7"]
    assert {entry.actor for entry in entries} == {"exporter"}


async def test_export_neutralises_formulas_and_import_reads_them_back(desk, root):
    await add_posts(desk, [{"title": "=HYPERLINK(\"http://x\")", "body": "+1", "sku": "@a"},
                           {"title": "-2 degrees", "score": 5}])
    text = (await root.get(f"{POSTS}export/?format=csv&o=title")).text
    rows = csv_rows(text)
    assert [row["title"] for row in rows] == ["'-2 degrees", "'=HYPERLINK(\"http://x\")"]
    assert rows[1]["body"] == "'+1" and rows[1]["sku"] == "'@a" and rows[0]["score"] == "5"
    preview = await upload(root, f"{POSTS}import/", "posts.csv", text)
    assert preview.code == 200 and "2 rows, all valid" in preview.text
    done = await root.post(f"{POSTS}import/", {"format": "csv", "payload": text,
                                               "_apply": "1"})
    assert done.code == 303
    Post = desk.model("desk.post")
    copies = await Post.find({"title": "=HYPERLINK(\"http://x\")"}, db=desk.db).to_list(None)
    assert len(copies) == 2 and {c.body for c in copies} == {"+1"}


async def test_export_needs_export_and_read_and_shows_only_readable_rows_and_fields(desk):
    red = await add_writer(desk, "Ruby Red", "ruby", team="red")
    await add_writer(desk, "Bob Blue", "bob", team="blue")
    await add_posts(desk, [{"title": "p", "writer": red.id}])
    reader = await desk.user_browser("reader", {"desk.post": ["read"]})
    assert "exportlink" not in (await reader.get(POSTS)).text
    assert (await reader.get(f"{POSTS}export/")).code == 403
    blind = await desk.user_browser("blind", {"desk.post": ["export"]})
    refused = await blind.get(f"{POSTS}export/")
    assert refused.code == 403 and "Ruby" not in refused.text
    scoped = await desk.user_browser("red-exporter", {"desk.writer": ["read", "export"]})
    text = (await scoped.get(f"{WRITERS}export/?format=csv")).text
    assert [row["name"] for row in csv_rows(text)] == ["Ruby Red"]      # the row scope
    assert (await scoped.get(f"{WRITERS}export/?format=xml")).code == 400
    assert (await scoped.get(f"{WRITERS}export/?colour=red")).code == 400


async def test_export_leaves_out_hidden_and_get_fields_hidden_fields(site, monkeypatch):
    from admin_demo.admin import NoteAdmin
    root = await site.user_browser("root", is_superuser=True)
    await site.model("notes.plain").create(name="x", key_hash="SECRET-HASH", db=site.db)
    text = (await root.get("/admin/notes/plain/export/?format=csv")).text
    assert "key_hash" not in text and "SECRET-HASH" not in text and "api_token" in text
    original = NoteAdmin.get_fields
    monkeypatch.setattr(NoteAdmin, "get_fields", lambda self, handler, obj=None: [
        name for name in original(self, handler, obj) if name != "body"])
    await site.model("notes.note").create(title="t", body="SECRET-BODY", db=site.db)
    text = (await root.get("/admin/notes/note/export/?format=jsonl")).text
    assert "SECRET-BODY" not in text and json.loads(text)["title"] == "t"
    note = await site.model("notes.note").find_one({}, db=site.db)
    detail = await root.get(f"/admin/notes/note/{note.id}/")
    assert "SECRET-BODY" not in detail.text                  # the detail page too


async def test_import_previews_per_row_errors_and_applies_nothing_until_all_are_valid(desk):
    blue = await add_writer(desk, "Bob Blue", "bob", team="blue")
    red = await add_writer(desk, "Ruby Red", "ruby", team="red")
    editor = await desk.user_browser("red-editor", EDITOR)
    bad = ("title,score,writer,tags,created\r\n"
           f"ok one,5,{red.id},\"a, b\",2020-01-01\r\n"
           "too high,5000,,,\r\n"
           ",1,,,\r\n"
           f"not readable,1,{blue.id},,\r\n")
    page = await upload(editor, f"{POSTS}import/", "posts.csv", bad)
    assert page.code == 200
    text = html.unescape(text_of(page.text))
    assert "4 rows, 3 with errors" in text and "Ignored columns: created" in text
    # each problem names the field by its label (in the user's language)
    assert "Score: Ensure this value is less than or equal to 1000" in text or \
        re.search(r"Score: .*1000", text)
    assert "Title: This field is required." in text
    assert "Writer: Select a valid choice; that object does not exist." in text
    assert "Bob Blue" not in text
    assert 'name="_apply"' not in page.text                  # nothing to apply
    forced = await editor.post(f"{POSTS}import/", {"format": "csv", "payload": bad,
                                                   "_apply": "1"})
    assert forced.code == 400
    assert await desk.model("desk.post").count({}, db=desk.db) == 0


async def test_import_applies_every_row_with_its_audit_entry(desk):
    red = await add_writer(desk, "Ruby Red", "ruby", team="red")
    editor = await desk.user_browser("red-editor", EDITOR)
    lines = "\n".join(json.dumps({"title": f"new {i}", "writer": str(red.id), "score": i,
                                  "tags": ["x"], "id": "ignored"}) for i in range(10))
    page = await upload(editor, f"{POSTS}import/", "posts.jsonl", lines)
    assert "10 rows, all valid. Ignored columns: id" in text_of(page.text)
    payload = html.unescape(re.search(r'name="payload" value="([^"]*)"', page.text).group(1))
    done = await editor.post(f"{POSTS}import/", {"format": "jsonl", "payload": payload,
                                                 "_apply": "1"})
    assert done.code == 303 and done.location == POSTS
    listing = await editor.get(POSTS)
    assert "Imported 10 posts." in listing.text
    assert sorted(titles(listing.text)) == sorted(f"new {i}" for i in range(10))
    entries = await audit_entries(desk, "create")
    assert len(entries) == 10 and {e.actor for e in entries} == {"red-editor"}


async def test_import_refuses_bad_files_and_users_without_write(desk, root):
    reader = await desk.user_browser("reader", {"desk.post": ["read", "export"]})
    assert (await reader.get(f"{POSTS}import/")).code == 403
    assert "importlink" not in (await reader.get(POSTS)).text
    assert "importlink" in (await root.get(POSTS)).text
    for name, content, message in [
        ("a.csv", "title,colour\r\nx,red\r\n", "Unknown column 'colour'"),
        ("a.jsonl", "{not json", "Line 1 is not valid JSON"),
        ("a.jsonl", "[1, 2]", "Line 1 is not a JSON object."),
        ("a.csv", "", "Choose a file to import."),
        ("a.csv", "title\r\n", "The file holds no rows."),
    ]:
        page = await upload(root, f"{POSTS}import/", name, content)
        assert page.code == 400, name
        assert message in html.unescape(page.text), (name, content)
    assert await desk.model("desk.post").count({}, db=desk.db) == 0


def selection(ids, kind="csv"):
    return [("format", kind)] + [("_selected_action", str(oid)) for oid in ids]


async def test_export_selected_exports_exactly_the_ticked_rows(desk):
    ids = await add_posts(desk, [{"title": f"post {i}", "score": i} for i in range(4)])
    user = await desk.user_browser("exporter", EXPORTER)
    listing = await user.get(POSTS)
    assert f'value="{ids[0]}" class="action-select"' in listing.text   # rows to tick
    assert re.search(r'<button type="submit" formaction="/admin/desk/post/export/" '
                     r'formnovalidate name="format" value="csv"', listing.text)
    response = await user.post(f"{POSTS}export/", selection([ids[1], ids[3]]))
    assert response.code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert sorted(row["title"] for row in csv_rows(response.text)) == ["post 1", "post 3"]
    lines = (await user.post(f"{POSTS}export/", selection([ids[2]], "jsonl"))).text
    assert [json.loads(line)["title"] for line in lines.splitlines()] == ["post 2"]
    entries = await audit_entries(desk, "export")
    assert sorted(entry.detail for entry in entries) == ["csv: 2 selected", "jsonl: 1 selected"]


async def test_export_selected_needs_export_and_never_exports_unreadable_rows(desk):
    ids = await add_posts(desk, [{"title": "p"}])
    reader = await desk.user_browser("reader", {"desk.post": ["read"]})
    assert "formaction" not in (await reader.get(POSTS)).text
    assert (await reader.post(f"{POSTS}export/", selection(ids))).code == 403
    red = await add_writer(desk, "Ruby Red", "ruby", team="red")
    blue = await add_writer(desk, "Bob Blue", "bob", team="blue")
    scoped = await desk.user_browser("red-exporter", {"desk.writer": ["read", "export"]})
    text = (await scoped.post(f"{WRITERS}export/", selection([red.id, blue.id]))).text
    assert "Ruby Red" in text and "Bob Blue" not in text


@pytest.mark.parametrize("pairs, message", [
    ([("format", "csv")], "Select some items to export first."),
    ([("format", "csv"), ("_selected_action", "nope")], "not valid"),
    ([("format", "xml"), ("_selected_action", "0" * 24)], "Choose the format"),
    # over a thousand ticked rows: Tornado's cap on a form's fields answers first
    ([("format", "csv")] + [("_selected_action", "0" * 24)] * 1001, "Max number of fields"),
])
async def test_export_selected_bad_input_is_a_400(desk, root, pairs, message):
    response = await root.post(f"{POSTS}export/", pairs)
    assert response.code == 400 and message in html.unescape(response.text)
    assert await audit_entries(desk, "export") == []
