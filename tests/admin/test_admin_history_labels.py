"""History shows labels for references: a changed ``writer`` reads "old label → new
label" on the object's history page and on the audit entry's own page — ``(hidden)`` where
the reader may not read the writer (a user named ``red-…`` reads red writers only), never
the unreadable label, and never the raw id."""
import re

import pytest

from desk_kit import POSTS, add_posts, add_writer


@pytest.fixture
async def changed_writer(desk):
    """A post whose writer root changed from Ruby Red (team red) to Bob Blue (team blue)."""
    ruby = await add_writer(desk, "Ruby Red", "ruby", team="red")
    bob = await add_writer(desk, "Bob Blue", "bob", team="blue")
    [post_id] = await add_posts(desk, [{"title": "Moved", "writer": ruby.id}])
    root = await desk.user_browser("root", is_superuser=True)
    response = await root.post(f"{POSTS}{post_id}/change/", {
        "title": "Moved", "writer": str(bob.id), "kind": "news", "_version": "1", "_save": "1"})
    assert response.code == 303
    return post_id, ruby, bob, root


def change_cells(text, field):
    row = re.search(rf'<tr data-field="{field}">.*?<td class="before">([^<]*)</td>\s*'
                    rf'<td class="after">([^<]*)</td>', text, re.S)
    return row.groups() if row else None


async def test_the_history_page_shows_the_writers_labels(desk, changed_writer):
    post_id, ruby, bob, root = changed_writer
    page = await root.get(f"{POSTS}{post_id}/history/")
    assert change_cells(page.text, "writer") == ("Ruby Red", "Bob Blue")
    assert str(bob.id) not in page.text
    data = (await root.get(f"{POSTS}{post_id}/history/", headers={
        "Accept": "application/json"})).json()
    change = next(e for e in data["entries"] if e["action"] == "update")["changes"]["writer"]
    assert (change["before_label"], change["after_label"]) == ("Ruby Red", "Bob Blue")
    assert change["after"] == str(bob.id)                          # the id stays for clients


async def test_a_writer_the_reader_may_not_read_is_hidden(desk, changed_writer):
    post_id, _ruby, bob, _root = changed_writer
    red = await desk.user_browser("red-reader", {"desk.post": ["read"], "desk.writer": ["read"]})
    page = await red.get(f"{POSTS}{post_id}/history/")
    assert change_cells(page.text, "writer") == ("Ruby Red", "(hidden)")
    assert "Bob Blue" not in page.text
    blind = await desk.user_browser("blind", {"desk.post": ["read"]})
    page = await blind.get(f"{POSTS}{post_id}/history/")
    assert change_cells(page.text, "writer") == ("(hidden)", "(hidden)")
    assert "Ruby Red" not in page.text and "Bob Blue" not in page.text
    data = (await blind.get(f"{POSTS}{post_id}/history/", headers={
        "Accept": "application/json"})).json()
    assert "Ruby Red" not in str(data) and "Bob Blue" not in str(data)


async def test_the_audit_entrys_page_shows_the_labels_the_reader_may_see(desk, changed_writer):
    post_id, _ruby, _bob, _root = changed_writer
    entry = await desk.model("audit.entry").find_one(
        {"action": "update", "object_id": str(post_id)}, db=desk.db)
    auditor = await desk.user_browser("red-auditor", {
        "audit.entry": ["read"], "desk.post": ["read"], "desk.writer": ["read"]})
    page = await auditor.get(f"/admin/audit/entry/{entry.id}/")
    assert page.code == 200
    assert "writer: Ruby Red → (hidden)" in page.text
    assert "Bob Blue" not in page.text
