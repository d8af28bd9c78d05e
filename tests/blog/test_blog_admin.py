"""ArticleAdmin: the seed's object rule, the author set on create, the publish action.

Handlers are stand-ins (``as_user``) carrying a real ``Permissions``; ``ModelAdmin.may``
is the one check the admin's handlers make.
"""
from types import SimpleNamespace

from apps.blog.admin import ArticleAdmin, CategoryAdmin
from apps.blog.models import Article, Category
from core.admin import AdminSite

WRITER = {"blog.article": ["read", "write", "delete"]}


def test_the_site_uses_the_blog_admins(registry):
    site = AdminSite(registry)
    assert type(site.get("blog.article")) is ArticleAdmin
    assert type(site.get("blog.category")) is CategoryAdmin
    admin = site.get("blog.article")
    assert admin.list_display == ["title", "category", "author", "published", "created"]
    assert admin.get_readonly_fields(None) == ["author", "created", "updated"]
    assert admin.get_ordering(None) == ["-created"]


async def test_only_the_author_or_a_superuser_may_delete(registry, db, make_user, as_user):
    admin = AdminSite(registry).get("blog.article")
    author = await make_user("author", WRITER)
    other = await make_user("other", WRITER)
    reader = await make_user("reader", {"blog.article": ["read"]})
    boss = await make_user("boss", is_superuser=True)
    article = await Article.create(title="Mine", author=author)

    assert admin.may(as_user(author), "delete", article) is True
    assert admin.may(as_user(other), "delete", article) is False
    assert admin.may(as_user(boss), "delete", article) is True
    assert admin.may(as_user(reader), "delete", article) is False
    # the rule narrows delete only: the other writer may still edit it
    assert admin.may(as_user(other), "write", article) is True
    # model level (no object): any holder of the grant
    assert admin.may(as_user(other), "delete") is True

    orphan = await Article.create(title="Nobody's")
    assert admin.may(as_user(author), "delete", orphan) is False
    assert admin.may(as_user(boss), "delete", orphan) is True


async def test_before_save_sets_the_author_on_create_only(registry, db, make_user, as_user):
    admin = AdminSite(registry).get("blog.article")
    alice = await make_user("alice", WRITER)
    bob = await make_user("bob", WRITER)

    article = Article(title="New", author=bob.id)      # whatever the form said
    await admin.before_save(as_user(alice), article, change=False)
    await admin.save_model(as_user(alice), article, form=None, change=False)
    assert (await Article.get(article.id)).author == alice.id

    article.title = "Edited by bob"
    await admin.before_save(as_user(bob), article, change=True)
    await admin.save_model(as_user(bob), article, form=None, change=True)
    stored = await Article.get(article.id)
    assert (stored.title, stored.author) == ("Edited by bob", alice.id)


async def test_publish_is_offered_only_with_the_publish_permission(registry, db, make_user,
                                                                   as_user):
    admin = AdminSite(registry).get("blog.article")
    editor = await make_user("editor", {"blog.article": ["read", "write", "publish"]})
    writer = await make_user("writer", WRITER)
    assert "publish" in admin.get_actions(as_user(editor))
    assert "publish" not in admin.get_actions(as_user(writer))
    assert admin.get_actions(as_user(editor))["publish"].permission == "publish"


async def test_the_publish_action_publishes_the_selected_articles(registry, db, make_user,
                                                                  as_user):
    admin = AdminSite(registry).get("blog.article")
    editor = await make_user("editor", {"blog.article": ["read", "publish"]})
    handler = as_user(editor)
    drafts = [await Article.create(title=f"Draft {n}") for n in range(3)]
    already = await Article.create(title="Out", published=True)
    untouched = await Article.create(title="Not selected")

    bulk = admin.get_actions(handler)["publish"]
    selected = [a for a in drafts + [already] if admin.may(handler, bulk.permission, a)]
    message = await bulk.run(admin, handler, selected)

    assert message == "Published 3 articles."
    assert await Article.count({"published": True}) == 4
    assert (await Article.get(untouched.id)).published is False
    assert (await Article.get(already.id)).version == 1      # nothing to change, not saved


async def test_category_admin_is_plain(registry, db):
    admin = AdminSite(registry).get("blog.category")
    handler = SimpleNamespace(permissions=None)
    assert admin.get_search_fields(handler) == ["name"]
    await Category.create(name="News")
    assert [str(c) for c in await Category.find().to_list(None)] == ["News"]
