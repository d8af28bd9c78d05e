"""``core.context``: the one protocol every ``ModelAdmin`` hook receives, honoured by a
hand-made ``Context`` (commands, tests), a live socket's snapshot and the handlers."""
from core.context import Context, RequestContext
from core.handlers.base import BaseHandler
from core.live import LiveContext
from core.permissions import Permissions


def test_a_hand_made_context_answers_the_admin_like_a_request(tmp_path):
    from apps.blog.admin import ArticleAdmin
    from apps.blog.models import Article
    author = {"id": 7, "is_active": True, "permissions": {"blog.article": ["read", "delete"]}}
    ctx = Context(current_user=type("U", (), {"id": 7})(),
                  permissions=Permissions(author, {}, {"blog.article": Article}))
    admin = ArticleAdmin(Article)
    assert isinstance(ctx, RequestContext)
    assert admin.may(ctx, "read") and not admin.may(ctx, "write")
    assert admin.may(ctx, "delete", Article(title="mine", author=None)) is False
    mine = Article(title="mine")
    mine._data["author"] = 7
    assert admin.may(ctx, "delete", mine) is True          # the author rule read ctx


def test_handlers_and_live_sockets_offer_the_same_five_names():
    names = {"current_user", "permissions", "session", "db", "registry"}
    assert all(hasattr(BaseHandler, name) for name in names)
    assert issubclass(LiveContext, Context)
    assert names <= set(Context.__dataclass_fields__)


def test_the_api_shares_the_admin_rules_not_its_html():
    from core.admin.handlers import AdminHandler, ObjectHandler
    from core.admin.views.request import ModelRequestHandler, ObjectLoading
    from core.api.handlers import ApiListHandler, ApiObjectHandler
    for api in (ApiListHandler, ApiObjectHandler):
        assert issubclass(api, ModelRequestHandler) and not issubclass(api, AdminHandler)
        assert not hasattr(api, "flash") and not hasattr(api, "get_flashes")
    assert issubclass(ApiObjectHandler, ObjectLoading) and issubclass(ObjectHandler, ObjectLoading)
    assert ApiObjectHandler.get_object is ObjectHandler.get_object      # one loading rule
