"""Form options: fieldsets (collapsible without JavaScript), save_on_top, save_as,
view_on_site, prepopulated_fields."""
import re

import pytest

from desk_kit import POSTS, add_posts


@pytest.fixture
async def root(desk):
    return await desk.user_browser("root", is_superuser=True)


@pytest.fixture
def form_options(monkeypatch):
    from desk_demo.admin import PostAdmin
    monkeypatch.setattr(PostAdmin, "fieldsets", [
        (None, {"fields": ["title", "sku"]}),
        ("Details", {"fields": ["body", "kind", "created"], "classes": ["collapse"],
                     "description": "Rarely needed."}),
    ])
    monkeypatch.setattr(PostAdmin, "save_on_top", True)
    monkeypatch.setattr(PostAdmin, "save_as", True)
    monkeypatch.setattr(PostAdmin, "prepopulated_fields", {"sku": ("title",)})
    monkeypatch.setattr(PostAdmin, "view_on_site", lambda self, obj: f"/posts/{obj.id}")


async def test_fieldsets_group_the_form_and_collapse_with_details(desk, root, form_options):
    [oid] = await add_posts(desk, [{"title": "t"}])
    page = await root.get(f"{POSTS}{oid}/change/")
    assert page.code == 200
    details = re.search(r'<details class="fieldset collapse"><summary>Details</summary>'
                        r'(.*?)</details>', page.text, re.S)
    assert details is not None
    assert 'name="body"' in details.group(1) and "Rarely needed." in details.group(1)
    assert '<span class="label">Created</span>' in details.group(1)      # read-only, grouped
    assert page.text.index('name="title"') < page.text.index("<details")
    assert 'name="score"' not in page.text              # the fieldsets name the fields
    assert page.text.count('name="_save"') == 2                           # save_on_top
    assert f'<a class="viewsitelink" href="/posts/{oid}"' in page.text


async def test_an_error_in_a_collapsed_fieldset_opens_it(desk, root, form_options):
    [oid] = await add_posts(desk, [{"title": "t"}])
    form = {"title": "t", "kind": "nope", "_version": "1", "_save": "1"}
    page = await root.post(f"{POSTS}{oid}/change/", form)
    assert page.code == 200
    assert '<details class="fieldset collapse" open>' in page.text


async def test_save_as_new_copies_into_a_new_object(desk, root, form_options):
    [oid] = await add_posts(desk, [{"title": "original", "score": 3}])
    response = await root.post(f"{POSTS}{oid}/change/", {
        "title": "copy", "sku": "C-1", "kind": "news", "_version": "1", "_saveasnew": "1"})
    assert response.code == 303
    Post = desk.model("desk.post")
    original = await Post.get(oid, db=desk.db)
    copy = await Post.find_one({"title": "copy"}, db=desk.db)
    assert original.title == "original" and original.version == 1
    assert copy is not None and copy.id != oid and copy.sku == "C-1"


async def test_prepopulated_fields_mark_the_input_and_load_the_script(desk, root, form_options):
    page = await root.get(f"{POSTS}add/")
    assert 'data-prepopulate-from="id_title"' in page.text
    assert "prepopulate.js" in page.text and "Save as new" not in page.text


async def test_without_the_options_the_form_is_one_group(desk, root):
    [oid] = await add_posts(desk, [{"title": "t"}])
    page = await root.get(f"{POSTS}{oid}/change/")
    assert "<details" not in page.text and page.text.count('name="_save"') == 1
    assert "Save as new" not in page.text and "viewsitelink" not in page.text
    form = {"title": "x", "kind": "news", "_version": "1", "_saveasnew": "1"}
    refused = await root.post(f"{POSTS}{oid}/change/", form)
    assert refused.code == 303
    assert await desk.model("desk.post").count({}, db=desk.db) == 1     # a plain save


@pytest.fixture
def tabbed(monkeypatch):
    from desk_demo.admin import PostAdmin
    monkeypatch.setattr(PostAdmin, "fieldsets", [
        ("Text", {"fields": ["title", "body"], "classes": ["tab"]}),
        ("Kind", {"fields": ["kind", "score"], "classes": ["tab"]}),
    ])


async def test_tab_fieldsets_show_every_group_titled_and_load_the_tab_script(
        desk, root, tabbed):
    page = await root.get(f"{POSTS}add/")
    assert page.code == 200
    panels = re.findall(r'<fieldset class="fieldset tab-panel" id="tab-(\d)" '
                        r'data-tab-title="([^"]*)">'
                        r'<legend>([^<]*)</legend>', page.text)
    assert panels == [("0", "Text", "Text"), ("1", "Kind", "Kind")]   # all shown, titled
    assert 'name="title"' in page.text and 'name="score"' in page.text
    assert "tabs.js" in page.text and "hidden" not in page.text.split("tab-0")[1][:200]


async def test_an_error_in_a_tab_marks_that_tab(desk, root, tabbed):
    page = await root.post(f"{POSTS}add/", {"title": "t", "kind": "nope", "_save": "1"})
    assert page.code == 200
    assert re.search(r'<fieldset class="fieldset tab-panel has-errors" id="tab-1"', page.text)
    assert re.search(r'<fieldset class="fieldset tab-panel" id="tab-0"', page.text)


async def test_plain_fieldsets_do_not_load_the_tab_script(desk, root, form_options):
    page = await root.get(f"{POSTS}add/")
    assert "tabs.js" not in page.text
