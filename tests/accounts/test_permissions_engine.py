"""core.permissions on plain data: the truth table, sources, grants, object rules."""
import pytest

from core.permissions import (GrantError, PermissionDenied, Permissions, merge_permissions,
                              model_actions, normalize_permissions, validate_grant)

MODELS = {
    "blog.article": ("read", "write", "delete", "publish"),
    "blog.comment": ("read", "write", "delete"),
    "accounts.user": ("read", "write", "delete"),
}
ROLES = {
    "editors": {"blog.article": ["write", "publish"]},
    "moderators": {"blog.comment": ["read", "delete"], "blog.article": ["read"]},
}


def user(**fields):
    base = {"username": "alice", "is_active": True, "is_superuser": False,
            "permissions": {}, "roles": []}
    base.update(fields)
    return base


async def perms_for(u, roles=ROLES):
    return await Permissions.for_user(u, lambda names: {n: roles[n] for n in names
                                                        if n in roles}, MODELS)


# (user, model, action, expected)
TRUTH_TABLE = [
    # direct grants
    (user(permissions={"blog.article": ["read"]}), "blog.article", "read", True),
    (user(permissions={"blog.article": ["read"]}), "blog.article", "write", False),
    (user(permissions={"blog.article": ["read"]}), "blog.comment", "read", False),
    (user(), "blog.article", "read", False),
    # via a role
    (user(roles=["editors"]), "blog.article", "write", True),
    (user(roles=["editors"]), "blog.article", "read", False),
    # union of direct and roles, and of several roles
    (user(permissions={"blog.article": ["read"]}, roles=["editors"]), "blog.article", "read",
     True),
    (user(permissions={"blog.article": ["read"]}, roles=["editors"]), "blog.article", "write",
     True),
    (user(roles=["editors", "moderators"]), "blog.comment", "delete", True),
    (user(roles=["editors", "moderators"]), "blog.article", "delete", False),
    # a role the user does not hold, or that does not exist, grants nothing
    (user(roles=["ghosts"]), "blog.article", "read", False),
    # extra actions are gated the same way
    (user(roles=["editors"]), "blog.article", "publish", True),
    (user(permissions={"blog.article": ["read", "write"]}), "blog.article", "publish", False),
    # superuser: everything
    (user(is_superuser=True), "blog.article", "publish", True),
    (user(is_superuser=True), "accounts.user", "delete", True),
    # inactive: nothing, superuser or not
    (user(is_active=False, permissions={"blog.article": ["read"]}), "blog.article", "read",
     False),
    (user(is_active=False, roles=["editors"]), "blog.article", "write", False),
    (user(is_active=False, is_superuser=True), "blog.article", "read", False),
    # model keys are case-insensitive, actions are not guessed
    (user(permissions={"blog.article": ["read"]}), "Blog.Article", "read", True),
    (user(permissions={"blog.article": ["read"]}), "blog.article", "READ", False),
]


@pytest.mark.parametrize("u, model, action, expected", TRUTH_TABLE)
async def test_truth_table(u, model, action, expected):
    perms = await perms_for(u)
    assert perms.has(model, action) is expected


async def test_no_user_may_do_nothing():
    perms = await Permissions.for_user(None, None, MODELS)
    assert perms.has("blog.article", "read") is False
    assert perms.effective() == {}


async def test_effective_and_sources_show_the_union_and_where_each_comes_from():
    perms = await perms_for(user(permissions={"blog.article": ["read"], "blog.comment":
                                              ["read"]},
                                 roles=["editors", "moderators"]))
    assert perms.effective() == {
        "blog.article": ["publish", "read", "write"],
        "blog.comment": ["delete", "read"],
    }
    assert perms.sources() == {
        "blog.article": {"publish": ["role:editors"],
                         "read": ["user", "role:moderators"],
                         "write": ["role:editors"]},
        "blog.comment": {"delete": ["role:moderators"], "read": ["user", "role:moderators"]},
    }
    assert perms.actions("blog.article") == ["publish", "read", "write"]
    assert perms.readable_models() == ["blog.article", "blog.comment"]


async def test_superuser_effective_lists_every_model_with_all_its_actions():
    perms = await perms_for(user(is_superuser=True, permissions={"blog.article": ["read"]}))
    assert perms.effective() == {key: sorted(actions) for key, actions in MODELS.items()}
    assert perms.sources()["blog.article"]["publish"] == ["superuser"]
    assert perms.readable_models() == sorted(MODELS)


async def test_inactive_effective_is_empty():
    perms = await perms_for(user(is_active=False, permissions={"blog.article": ["read"]},
                                 roles=["editors"]))
    assert perms.effective() == {} and perms.sources() == {}
    assert perms.as_json() == {"is_superuser": False, "is_active": False, "effective": {},
                               "sources": {}, "fields": {}, "expired": {}}


async def test_roles_loader_may_be_async_or_return_role_objects_and_is_skipped_when_useless():
    calls = []

    class RoleObject:
        def __init__(self, name, permissions):
            self.name, self.permissions = name, permissions

    async def loader(names):
        calls.append(list(names))
        return [RoleObject("editors", ROLES["editors"])]

    perms = await Permissions.for_user(user(roles=["editors"]), loader, MODELS)
    assert perms.has("blog.article", "publish") and calls == [["editors"]]
    await Permissions.for_user(user(roles=["editors"], is_superuser=True), loader, MODELS)
    await Permissions.for_user(user(roles=["editors"], is_active=False), loader, MODELS)
    await Permissions.for_user(user(), loader, MODELS)
    assert calls == [["editors"]]            # superuser, inactive, no roles: not loaded


class Article:
    def __init__(self, author):
        self.author = author


def author_only(u, action, obj):
    return action != "delete" or obj.author == u["username"]


async def test_object_rule_given_to_has():
    perms = await perms_for(user(permissions={"blog.article": ["read", "delete"]}))
    mine, theirs = Article("alice"), Article("bob")
    assert perms.has("blog.article", "delete", obj=mine, object_rule=author_only) is True
    assert perms.has("blog.article", "delete", obj=theirs, object_rule=author_only) is False
    assert perms.has("blog.article", "read", obj=theirs, object_rule=author_only) is True
    # the rule narrows, never widens: no model-level grant, no object access
    assert perms.has("blog.article", "write", obj=mine, object_rule=lambda *a: True) is False
    # without an object the rule is not consulted (model-level question)
    assert perms.has("blog.article", "delete", object_rule=author_only) is True


async def test_object_rules_registered_per_model_apply_to_every_object_check():
    perms = await Permissions.for_user(user(permissions={"blog.article": ["delete"],
                                                         "blog.comment": ["delete"]}),
                                       None, MODELS, object_rules={"blog.article": author_only})
    theirs = Article("bob")
    assert perms.has("blog.article", "delete", obj=theirs) is False
    assert perms.has("blog.comment", "delete", obj=theirs) is True   # other model: no rule
    perms.add_object_rule("blog.comment", lambda u, action, obj: False)
    assert perms.has("blog.comment", "delete", obj=theirs) is False
    with pytest.raises(TypeError):
        perms.add_object_rule("blog.comment", "not callable")


async def test_bulk_actions_filter_per_object_and_check_raises():
    perms = await perms_for(user(permissions={"blog.article": ["delete"]}))
    articles = [Article("alice"), Article("bob"), Article("alice")]
    allowed = perms.filter_objects("blog.article", "delete", articles, object_rule=author_only)
    assert allowed == [articles[0], articles[2]]
    perms.check("blog.article", "delete", obj=articles[0], object_rule=author_only)
    with pytest.raises(PermissionDenied) as info:
        perms.check("blog.article", "delete", obj=articles[1], object_rule=author_only)
    assert (info.value.model_key, info.value.action) == ("blog.article", "delete")


async def test_superuser_is_not_bound_by_object_rules_but_inactive_superuser_is_nothing():
    root = await perms_for(user(username="root", is_superuser=True))
    assert root.has("blog.article", "delete", obj=Article("bob"), object_rule=author_only)
    gone = await perms_for(user(username="root", is_superuser=True, is_active=False))
    assert not gone.has("blog.article", "read", obj=Article("root"))


def test_validate_grant_accepts_declared_actions_and_names_what_is_wrong():
    assert validate_grant(MODELS, "Blog.Article", ["read", "publish", "read"]) == (
        "blog.article", ["read", "publish"])
    assert validate_grant(MODELS, "blog.comment", []) == ("blog.comment", [])
    with pytest.raises(GrantError) as unknown:
        validate_grant(MODELS, "shop.product", ["read"])
    assert str(unknown.value) == ("unknown model 'shop.product' (installed models: "
                                  "accounts.user, blog.article, blog.comment)")
    with pytest.raises(GrantError) as bad_action:
        validate_grant(MODELS, "blog.comment", ["read", "publish"])
    assert str(bad_action.value) == ("model blog.comment has no action 'publish' "
                                     "(its actions: read, write, delete)")


def test_validate_grant_reads_model_classes_and_registries():
    from acl_shop.models import Product

    class FakeRegistry:
        models = {"shop.product": Product}

    assert model_actions(FakeRegistry()) == {"shop.product": ("read", "write", "delete",
                                                              "export", "publish")}
    assert validate_grant({"shop.product": Product}, "shop.product", ["publish"])[1] == [
        "publish"]


def test_normalize_and_merge():
    assert normalize_permissions({"Blog.Article": ["write", "read", "read", ""],
                                  "blog.comment": []}) == {"blog.article": ["read", "write"]}
    assert normalize_permissions({"blog.article": "read, write"}) == {
        "blog.article": ["read", "write"]}
    for bad in ({"article": ["read"]}, {"blog.article": [1]}, {"blog.article": {"$gt": ""}},
                {"blog.article": ["re ad"]}, ["blog.article"]):
        with pytest.raises(ValueError):
            normalize_permissions(bad)
    assert merge_permissions({"a.b": ["read"]}, {"a.b": ["write"], "c.d": ["read"]}) == {
        "a.b": ["read", "write"], "c.d": ["read"]}
