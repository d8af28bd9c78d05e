"""``ModelAdmin``'s scope hooks on their own: the filter a scoped grant adds to queries, the
test of one object, and the refusal of a save outside the user's scope — with the real
engine, the blog's models and an in-memory store (``core.context.Context`` as the request)."""
import pytest

from core.admin import AdminSite
from core.admin.scopes import NOTHING, matches
from core.context import Context
from core.db import connect
from core.models import bind, unbind
from core.permissions import Permissions
from core.registry import Registry
from support import BLOG_APPS


@pytest.fixture
def registry():
    return Registry(installed_apps=BLOG_APPS).load()


def context(registry, user_id, grants):
    user = {"id": user_id, "username": "ed", "permissions": grants}
    return Context(current_user=type("U", (), user)(), registry=registry,
                   permissions=Permissions(user, {}, registry))


async def test_queries_objects_and_saves_follow_the_reach(registry):
    db = connect("memory:")
    bind(db)
    try:
        admin = AdminSite(registry).get("blog.article")
        Article = registry.get_model("blog.article")
        ctx = context(registry, "ed-id", {"blog.article": ["read", "write:own"]})
        assert admin.scoped(ctx, {"published": True}) == {"published": True}
        assert admin.scoped(ctx, {"published": True}, action="write") == \
            {"$and": [{"author": "ed-id"}, {"published": True}]}
        assert admin.scoped(ctx, action="delete") == NOTHING
        mine, theirs = Article(title="a", author="ed-id"), Article(title="b", author="x")
        assert admin.may(ctx, "write", mine) and not admin.may(ctx, "write", theirs)
        assert admin.may(ctx, "read", theirs)
        assert admin.scope_refusal(ctx, mine) is None
        assert admin.scope_refusal(ctx, theirs) == (
            "You may write only articles within your scope (own); this one would be "
            "outside it.")
        unscoped = context(registry, "ed-id", {"blog.article": ["write"]})
        assert admin.scope_refusal(unscoped, theirs) is None
    finally:
        unbind()
        await db.close()


def test_a_scope_filter_the_python_test_cannot_follow_is_refused():
    with pytest.raises(ValueError, match=r"may not use \$regex"):
        matches({"title": {"$regex": "^a"}}, {})
    assert not matches({"tags": {"$in": ["x"]}}, {"tags": ["y"]})
    assert matches({"tags": {"$nin": ["x"]}, "gone": {"$exists": False}}, {"tags": ["y"]})
