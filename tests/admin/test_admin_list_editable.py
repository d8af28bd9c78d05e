"""``list_editable``: columns edited in the list and saved in one POST — each row with its
version check (a stale row is reported, the others saved), its audit entry and the object
rule."""
import pytest

from desk_kit import POSTS, add_posts

EDITOR = {"desk.post": ["read", "write"]}


@pytest.fixture
def titles_editable(monkeypatch):
    from desk_demo.admin import PostAdmin
    monkeypatch.setattr(PostAdmin, "list_display_links", ["published"])
    monkeypatch.setattr(PostAdmin, "list_editable", ["title", "kind", "live", "score"])


def row_form(ids, versions, **values):
    """The pairs the list posts: every row's id and version, then ``values``."""
    pairs = [("_save_list", "1")]
    for oid in ids:
        pairs += [("_list_id", str(oid)), (f"{oid}-_version", str(versions.get(oid, 1)))]
    for key, value in values.items():
        pairs.append((key.replace("__", "-"), value))
    return pairs


async def test_the_list_shows_inputs_and_saves_only_what_changed(desk, titles_editable):
    ids = await add_posts(desk, [{"title": f"Tpyo {i}", "score": i} for i in range(3)] +
                          [{"title": "fine", "score": 9}])
    editor = await desk.user_browser("ed", EDITOR)
    page = await editor.get(POSTS)
    assert f'name="{ids[0]}-title" value="Tpyo 0"' in page.text
    assert f'name="{ids[0]}-_version" value="1"' in page.text
    assert 'name="_save_list"' in page.text
    pairs = row_form(ids, {}, **{f"{ids[i]}__title": f"Typo {i}" for i in range(3)},
                     **{f"{ids[3]}__title": "fine", f"{ids[3]}__score": "9"})
    pairs += [(f"{oid}-kind", "news") for oid in ids] + \
        [(f"{oid}-score", str(i)) for i, oid in enumerate(ids[:3])]
    response = await editor.post(POSTS, pairs)
    assert response.code == 303
    Post = desk.model("desk.post")
    stored = {p.id: p for p in await Post.find({}, db=desk.db).to_list(None)}
    assert [stored[oid].title for oid in ids] == ["Typo 0", "Typo 1", "Typo 2", "fine"]
    assert [stored[oid].version for oid in ids] == [2, 2, 2, 1]     # "fine" unchanged
    entries = await desk.model("audit.entry").find({"action": "update"},
                                                   db=desk.db).to_list(None)
    assert len(entries) == 3
    assert {e.changes["title"]["after"] for e in entries} == {"Typo 0", "Typo 1", "Typo 2"}
    assert "Saved 3 posts." in (await editor.get(POSTS)).text


async def test_a_stale_row_is_reported_and_the_others_saved(desk, titles_editable):
    ids = await add_posts(desk, [{"title": "a"}, {"title": "b"}])
    editor = await desk.user_browser("ed", EDITOR)
    Post = desk.model("desk.post")
    other = await Post.get(ids[1], db=desk.db)
    other.title = "changed meanwhile"
    await other.save(db=desk.db)                                     # now version 2
    response = await editor.post(POSTS, row_form(ids, {}, **{
        f"{ids[0]}__title": "a2", f"{ids[1]}__title": "b2", f"{ids[0]}__kind": "news",
        f"{ids[1]}__kind": "news"}))
    assert response.code == 303
    assert (await Post.get(ids[0], db=desk.db)).title == "a2"
    assert (await Post.get(ids[1], db=desk.db)).title == "changed meanwhile"
    page = await editor.get(POSTS)
    assert "Saved 1 post." in page.text
    assert "Not saved: 1 changed or deleted by someone else meanwhile" in page.text


async def test_invalid_values_are_reported_and_change_nothing(desk, titles_editable):
    [oid] = await add_posts(desk, [{"title": "a", "score": 1}])
    editor = await desk.user_browser("ed", EDITOR)
    await editor.post(POSTS, row_form([oid], {}, **{f"{oid}__title": "a",
                                                    f"{oid}__score": "5000",
                                                    f"{oid}__kind": "news"}))
    page = await editor.get(POSTS)
    assert "Not saved: a: score:" in page.text
    assert (await desk.model("desk.post").get(oid, db=desk.db)).score == 1


async def test_list_editing_needs_write_and_honours_the_object_rule(
        desk, titles_editable, monkeypatch):
    from desk_demo.admin import PostAdmin
    ids = await add_posts(desk, [{"title": "mine"}, {"title": "locked"}])
    reader = await desk.user_browser("reader", {"desk.post": ["read"]})
    page = await reader.get(POSTS)
    assert 'name="_save_list"' not in page.text and f'name="{ids[0]}-title"' not in page.text
    refused = await reader.post(POSTS, row_form(ids, {}, **{f"{ids[0]}__title": "x"}))
    assert refused.code == 403

    def only_unlocked(self, handler, action, obj):
        return action != "write" or obj.title != "locked"
    monkeypatch.setattr(PostAdmin, "has_object_permission", only_unlocked)
    editor = await desk.user_browser("ed", EDITOR)
    page = await editor.get(POSTS)
    assert f'name="{ids[1]}-title"' not in page.text and f'name="{ids[0]}-title"' in page.text
    await editor.post(POSTS, row_form(ids, {}, **{f"{ids[0]}__title": "mine2",
                                                  f"{ids[1]}__title": "hacked"}))
    Post = desk.model("desk.post")
    assert (await Post.get(ids[0], db=desk.db)).title == "mine2"
    assert (await Post.get(ids[1], db=desk.db)).title == "locked"
    assert "Not saved: 1 you may not change: locked" in (await editor.get(POSTS)).text
