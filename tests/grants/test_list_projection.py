"""The list page fetches only the fields it shows (``ModelAdmin.get_list_fields``).

A field hidden from the user (``-read:FIELD``) is never fetched for their list; the
page's objects are projected ones that cannot be saved; a column reading a field the
page did not fetch makes the page fetch whole objects (the same page, never a wrong
cell); a scope's fields are fetched, so a scoped user's editable rows stay editable.
"""
import pytest

from core.context import Context
from core.models import NotFetched, ProjectedObjectError
from support.pages import row, row_ids

HIDDEN = {"blog.article": ["read", "-read:body", "-read:category"], "blog.category": ["read"]}


@pytest.fixture
async def blog(site):
    Category, Article = site.model("blog.category"), site.model("blog.article")
    category = await Category.create(name="Cats", db=site.db)
    article = await Article.create(title="Visible", body="zebrabody", published=True,
                                   category=category.id, db=site.db)
    return site, article


async def changelist_of(site, user, key="blog.article"):
    """The list page's ``ChangeList`` for ``user``, fetched as the page fetches it."""
    admin = site.app.admin_site.get(key)
    ctx = Context(current_user=user, db=site.db, registry=site.app.registry,
                  permissions=await user.get_permissions(site.app.registry, db=site.db))
    fields = admin.get_list_fields(ctx)
    changelist = admin.get_changelist(ctx, {}, secret="x" * 32)
    await changelist.fetch(fields=fields)
    return fields, changelist


async def test_a_hidden_field_is_never_fetched_for_the_list(blog):
    site, article = blog
    user = await site.create_user("sam", HIDDEN)
    fields, changelist = await changelist_of(site, user)
    assert "body" not in fields and "category" not in fields and "title" in fields
    [obj] = changelist.page.objects
    assert obj.id == article.id and obj.title == "Visible"
    assert not {"body", "category"} & set(obj._stored)          # not even in memory
    with pytest.raises(NotFetched):
        obj.body
    page = await (await site.user_browser("sal", HIDDEN)).get("/admin/blog/article/")
    assert page.code == 200 and row_ids(page.text) == [str(article.id)]
    assert "zebrabody" not in page.text and "Cats" not in row(page.text, article.id)


async def test_a_projected_list_object_cannot_be_saved(blog):
    site, article = blog
    user = await site.create_user("sam", {"blog.article": ["read", "write"]})
    _fields, changelist = await changelist_of(site, user)
    [obj] = changelist.page.objects
    obj.title = "Changed through a list row"
    with pytest.raises(ProjectedObjectError):
        await obj.save(db=site.db)
    stored = await site.model("blog.article").get(article.id, db=site.db)
    assert stored.title == "Visible" and stored.body == "zebrabody" and stored.version == 1


async def test_a_column_reading_an_unfetched_field_gets_whole_objects(site, monkeypatch):
    """The roles list's ``model_count`` column reads ``permissions``, which no column
    names: without ``list_fields`` naming it, the page falls back to whole objects and
    counts right."""
    monkeypatch.setattr(site.app.admin_site.get("accounts.role"), "list_fields", ())
    Role = site.model("accounts.role")
    role = await Role.create(name="editors", db=site.db, permissions={
        "blog.article": ["read", "write"], "blog.category": ["read"]})
    user = await site.create_user("ada", {"accounts.role": ["read"]})
    fields, changelist = await changelist_of(site, user, "accounts.role")
    assert "permissions" not in fields
    with pytest.raises(NotFetched):
        changelist.page.objects[0].permissions
    browser = site.browser()
    await browser.login("ada")
    page = await browser.get("/admin/accounts/role/")
    assert page.code == 200
    assert "<td>2</td>" in row(page.text, role.id)


FALLBACK = "the list fetches whole objects"


async def test_the_roles_and_audit_lists_fetch_what_they_read_in_one_query(site, caplog):
    """``list_fields`` names what their columns and redaction read (a role's
    ``permissions``, an entry's ``object_id``): no page falls back to whole objects, and
    the audit list still names an entry of a model with hidden fields by its id."""
    role = await site.model("accounts.role").create(name="editors", db=site.db, permissions={
        "blog.article": ["read", "write"], "blog.category": ["read"]})
    root = await site.token_client("root", is_superuser=True)
    created = await root.post("/api/blog/article/", {"title": "Secret title"})
    assert created.code == 201, created.text
    caplog.set_level("DEBUG", logger="core.admin.views.list")
    reader = await site.user_browser("ada", {"accounts.role": ["read"], "audit.entry": ["read"],
                                             "blog.article": ["read", "-read:title"]})
    page = await reader.get("/admin/accounts/role/")
    assert page.code == 200 and "<td>2</td>" in row(page.text, role.id)
    page = await reader.get("/admin/audit/entry/")
    assert page.code == 200 and f"blog.article {created.json['id']}" in page.text
    assert "Secret title" not in page.text
    assert not [r for r in caplog.records if FALLBACK in r.getMessage()]


async def test_a_scoped_writer_edits_rows_the_scope_reaches(site):
    """``write:own``: the scope's field (``author``) is fetched, so the page can tell
    which rows the user may edit without fetching whole objects."""
    admin = site.app.admin_site.get("blog.article")
    user = await site.create_user("own", {"blog.article": ["read", "write:own"]})
    fields = admin.get_list_fields(Context(
        current_user=user, db=site.db, registry=site.app.registry,
        permissions=await user.get_permissions(site.app.registry, db=site.db)))
    assert "author" in fields


async def test_a_scopes_field_is_fetched_even_when_hidden(site):
    """``write:own`` with ``-read:author``: the scope still judges rows by ``author``
    (never shown), so it is fetched rather than read as absent."""
    admin = site.app.admin_site.get("blog.article")
    user = await site.create_user("own", {"blog.article": ["read", "write:own", "-read:author"]})
    fields = admin.get_list_fields(Context(
        current_user=user, db=site.db, registry=site.app.registry,
        permissions=await user.get_permissions(site.app.registry, db=site.db)))
    assert "author" in fields
