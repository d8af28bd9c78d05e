"""Reference pickers: ``/admin/<app>/<model>/autocomplete/`` (JSON, under the target's
``read`` grant, row scope and object rule) and the id input of ``autocomplete_fields`` /
``raw_id_fields`` that works without JavaScript."""
import html
import re

import pytest

from admin_demo.admin import NoteAdmin
from desk_kit import POSTS, WRITERS, add_posts, add_writer
from support.pages import errors_in

AUTOCOMPLETE = WRITERS + "autocomplete/"
JSON = {"Accept": "application/json"}


@pytest.fixture
async def root(desk):
    return await desk.user_browser("root", is_superuser=True)


async def test_autocomplete_searches_the_target_admins_search_fields_and_pages(desk, root):
    for i in range(25):
        await add_writer(desk, f"Ann {i:02d}", f"ann{i:02d}")
    await add_writer(desk, "Bob", "bob")
    first = (await root.get(AUTOCOMPLETE + "?q=ann")).json()
    assert len(first["results"]) == 20 and first["next"]
    assert all(item["label"].startswith("Ann ") for item in first["results"])
    rest = (await root.get(AUTOCOMPLETE + "?q=ann&cursor=" + first["next"])).json()
    assert len(rest["results"]) == 5 and rest["next"] is None
    ids = [item["id"] for item in first["results"] + rest["results"]]
    assert len(set(ids)) == 25
    assert [item["label"] for item in (await root.get(AUTOCOMPLETE + "?q=bo")).json()[
        "results"]] == ["Bob"]                                         # ^handle prefix
    assert (await root.get(AUTOCOMPLETE + "?q=zzz")).json() == {"results": [], "next": None}


@pytest.mark.parametrize("query, message", [
    ("?q=a&page=2", "Unknown query argument 'page'"),
    ("?cursor=nope", "The cursor is not valid"),
])
async def test_autocomplete_bad_arguments_are_a_json_400(desk, root, query, message):
    response = await root.get(AUTOCOMPLETE + query)
    assert response.code == 400 and message in response.json()["error"]


async def test_autocomplete_needs_login_and_read_on_the_target_and_honours_its_scope(desk):
    await add_writer(desk, "Ruby Red", "ruby", team="red")
    await add_writer(desk, "Rob Blue", "rob", team="blue")
    anonymous = desk.browser()
    response = await anonymous.fetch(AUTOCOMPLETE + "?q=r", headers=JSON)
    assert response.code == 401 and "Ruby" not in response.text
    writer_blind = await desk.user_browser("posts-only", {"desk.post": ["read", "write"]})
    response = await writer_blind.get(AUTOCOMPLETE + "?q=r")
    assert response.code == 403 and response.json()["error"]
    assert "Ruby" not in response.text and "Rob" not in response.text
    red = await desk.user_browser("red-reader", {"desk.writer": ["read"]})
    labels = [item["label"] for item in (await red.get(AUTOCOMPLETE + "?q=r")).json()["results"]]
    assert labels == ["Ruby Red"]


async def test_the_picker_is_an_id_input_with_a_label_and_a_look_up_link(desk, root):
    ruby = await add_writer(desk, "Ruby Red", "ruby")
    [post_id] = await add_posts(desk, [{"title": "p", "writer": ruby.id}])
    page = await root.get(f"{POSTS}{post_id}/change/")
    assert 'name="writer" ' in page.text and f'value="{ruby.id}"' in page.text
    assert f'data-autocomplete-url="{AUTOCOMPLETE}"' in page.text
    assert f'<a class="lookup" href="{WRITERS}"' in page.text
    assert re.search(r'<span class="reference-label" id="id_writer_label">Ruby Red</span>',
                     page.text)
    assert "<select" not in page.text.split('name="writer"')[0].rsplit("<div", 1)[-1]
    assert "autocomplete.js" in page.text
    # without JavaScript: post an id
    rob = await add_writer(desk, "Rob", "rob")
    response = await root.post(f"{POSTS}{post_id}/change/", {
        "title": "p", "writer": str(rob.id), "kind": "news", "_version": "1", "_save": "1"})
    assert response.code == 303, errors_in(response.text, "writer")
    assert (await desk.model("desk.post").get(post_id, db=desk.db)).writer == rob.id


async def test_the_picker_never_names_or_accepts_an_object_the_user_may_not_read(desk):
    blue = await add_writer(desk, "Bob Blue", "bob", team="blue")
    red = await add_writer(desk, "Ruby Red", "ruby", team="red")
    [post_id] = await add_posts(desk, [{"title": "p", "writer": blue.id}])
    user = await desk.user_browser("red-editor", {"desk.post": ["read", "write"],
                                                  "desk.writer": ["read"]})
    page = await user.get(f"{POSTS}{post_id}/change/")
    assert page.code == 200 and "Bob Blue" not in page.text
    assert '<span class="reference-label" id="id_writer_label">(hidden)</span>' in page.text
    response = await user.post(f"{POSTS}add/", {"title": "q", "writer": str(blue.id),
                                                "kind": "news", "_save": "1"})
    assert response.code == 200
    assert "that object does not exist" in errors_in(response.text, "writer")
    assert "Bob Blue" not in response.text
    ok = await user.post(f"{POSTS}add/", {"title": "q", "writer": str(red.id),
                                          "kind": "news", "_save": "1"})
    assert ok.code == 303
    blind = await desk.user_browser("blind", {"desk.post": ["read", "write"]})
    page = await blind.get(f"{POSTS}{post_id}/change/")
    assert "data-autocomplete-url" not in page.text and 'class="lookup"' not in page.text
    assert "Bob Blue" not in page.text


async def test_raw_id_fields_without_autocomplete(site, monkeypatch):
    monkeypatch.setattr(NoteAdmin, "raw_id_fields", ["category"])
    root = await site.user_browser("root", is_superuser=True)
    category = await site.model("notes.category").create(name="Work", db=site.db)
    page = await root.get("/admin/notes/note/add/")
    assert 'class="reference-id"' in html.unescape(page.text) or "reference-id" in page.text
    assert "data-autocomplete-url" not in page.text
    assert '<a class="lookup" href="/admin/notes/category/"' in page.text
    response = await root.post("/admin/notes/note/add/", {
        "title": "n", "category": str(category.id), "kind": "memo", "_save": "1"})
    assert response.code == 303
    note = await site.model("notes.note").find_one({"title": "n"}, db=site.db)
    assert note.category == category.id
    bad = await root.post("/admin/notes/note/add/", {
        "title": "m", "category": "not-an-id", "kind": "memo", "_save": "1"})
    assert bad.code == 200 and errors_in(bad.text, "category")
