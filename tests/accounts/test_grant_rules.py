"""The escalation questions, asked of the permission engine: what an editor lacks."""
from core.permissions import Permissions, describe_grants

MODELS = {"blog.article": ["read", "write", "delete", "publish"], "accounts.user": ["read"]}


def perms(grants, **user):
    return Permissions({"is_active": True, "permissions": grants, **user}, {}, MODELS)


def test_lacks_names_exactly_the_grants_not_held():
    editor = perms({"blog.article": ["read", "write"]})
    target = {"blog.article": ["read", "delete", "publish"], "accounts.user": ["read"]}
    assert editor.lacks(target) == {"blog.article": ["delete", "publish"],
                                    "accounts.user": ["read"]}
    assert editor.lacks({"blog.article": ["write"]}) == {}
    assert editor.holds_all({"blog.article": ["read"]}) and not editor.holds_all(target)


def test_a_superuser_lacks_nothing_and_an_inactive_editor_everything():
    assert perms({}, is_superuser=True).lacks({"blog.article": ["delete"]}) == {}
    inactive = perms({"blog.article": ["read"]}, is_active=False)
    assert inactive.lacks({"blog.article": ["read"]}) == {"blog.article": ["read"]}


def test_describe_grants_is_one_sorted_line():
    assert describe_grants({"notes.note": ["read"], "blog.article": ["delete", "publish"]}) \
        == "blog.article: delete, publish; notes.note: read"
