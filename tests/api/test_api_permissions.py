"""The ACL through the API: the same grants and object rules as the admin pages,
and an OpenAPI document listing only what the caller may use."""
import pytest

ARTICLES = "/api/blog/article/"


@pytest.fixture
async def owned(site):
    """An article written by ``owner`` (through the API, so save_model sets the author)."""
    owner = await site.token_client("owner", {"blog.article": ["read", "write", "delete"]})
    reply = await owner.post(ARTICLES, {"title": "Owner's"})
    assert reply.code == 201
    return owner, reply.json["id"]


async def stored_title(site, article_id):
    obj = await site.model("blog.article").get(article_id, db=site.db)
    return obj.title if obj is not None else None


async def test_read_only_token_reads_and_gets_403_json_on_writes(site, owned):
    _, article_id = owned
    reader = await site.token_client("reader", {"blog.article": ["read"]})
    assert (await reader.get(ARTICLES)).code == 200
    assert (await reader.get(f"{ARTICLES}{article_id}")).json["title"] == "Owner's"
    for method, path, body in (("POST", ARTICLES, {"title": "New"}),
                               ("PATCH", f"{ARTICLES}{article_id}", {"title": "X"}),
                               ("PUT", f"{ARTICLES}{article_id}", {"title": "X"}),
                               ("DELETE", f"{ARTICLES}{article_id}", None)):
        reply = await reader.request(method, path, body)
        assert reply.code == 403, (method, reply)
        assert reply.json["error"].startswith("You may not") and reply.json["fields"] == {}
    assert await stored_title(site, article_id) == "Owner's"
    assert await site.model("blog.article").count({}, db=site.db) == 1


async def test_read_write_creates_and_updates_but_does_not_delete(site, owned):
    _, article_id = owned
    editor = await site.token_client("editor", {"blog.article": ["read", "write"]})
    created = await editor.post(ARTICLES, {"title": "Editor's"})
    assert created.code == 201
    assert (await editor.patch(f"{ARTICLES}{article_id}", {"title": "Edited"})).code == 200
    assert await stored_title(site, article_id) == "Edited"
    for target in (article_id, created.json["id"]):     # not even their own
        reply = await editor.delete(f"{ARTICLES}{target}")
        assert reply.code == 403, reply
    assert await stored_title(site, created.json["id"]) == "Editor's"


async def test_author_rule_on_delete(site, owned):
    owner, article_id = owned
    other = await site.token_client("other", {"blog.article": ["read", "write", "delete"]})
    reply = await other.delete(f"{ARTICLES}{article_id}")
    # refused without naming the object (a 403 message names no object)
    assert reply.code == 403 and reply.json["error"] == "You may not delete this article."
    assert await stored_title(site, article_id) == "Owner's"
    # the author may; so may a superuser (who bypasses object rules)
    mine = (await other.post(ARTICLES, {"title": "Other's"})).json["id"]
    assert (await owner.delete(f"{ARTICLES}{article_id}")).code == 204
    root = await site.token_client("root", is_superuser=True)
    assert (await root.delete(f"{ARTICLES}{mine}")).code == 204
    assert await site.model("blog.article").count({}, db=site.db) == 0


async def test_roles_grant_through_the_api_too(site):
    Role = site.model("accounts.role")
    await Role(name="writers", permissions={"blog.category": ["read", "write"]}) \
        .save(db=site.db)
    client = await site.token_client("roley", {}, roles=["writers"])
    assert (await client.post("/api/blog/category/", {"name": "Via role"})).code == 201
    assert (await client.get(ARTICLES)).code == 403


async def test_the_audit_log_is_read_only_even_for_a_superuser(site, owned):
    root = await site.token_client("root", is_superuser=True)
    entries = await root.get("/api/audit/entry/")
    assert entries.code == 200 and entries.json["results"]
    entry_id = entries.json["results"][0]["id"]
    assert (await root.post("/api/audit/entry/", {"action": "login"})).code == 403
    assert (await root.patch(f"/api/audit/entry/{entry_id}", {"actor": "x"})).code == 403
    assert (await root.delete(f"/api/audit/entry/{entry_id}")).code == 403
    assert await site.model("audit.entry").get(entry_id, db=site.db) is not None


async def test_inactive_user_token_is_401(site):
    client = await site.token_client("gone", {"blog.article": ["read"]})
    assert (await client.get(ARTICLES)).code == 200
    client.user.is_active = False
    await client.user.save(db=site.db)
    reply = await client.get(ARTICLES)
    assert reply.code == 401 and "inactive" in reply.json["error"]


def operations(doc):
    return {path: sorted(m for m in ops if m != "parameters")
            for path, ops in doc["paths"].items()}


async def test_openapi_lists_only_what_the_caller_may_do(site):
    reader = await site.token_client("reader", {"blog.article": ["read"]})
    doc = (await reader.get("/api/openapi.json")).json
    assert doc["openapi"].startswith("3.0")
    assert operations(doc) == {ARTICLES: ["get"], f"{ARTICLES}{{id}}": ["get"]}
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {"type": "http",
                                                                  "scheme": "bearer"}

    editor = await site.token_client("editor", {"blog.article": ["read", "write"],
                                                "blog.category": ["read", "delete"]})
    doc = (await editor.get("/api/openapi.json")).json
    assert operations(doc) == {
        ARTICLES: ["get", "post"], f"{ARTICLES}{{id}}": ["get", "patch", "put"],
        "/api/blog/category/": ["get"], "/api/blog/category/{id}": ["delete", "get"]}

    root = await site.token_client("root", is_superuser=True)
    doc = (await root.get("/api/openapi.json")).json
    assert operations(doc)["/api/audit/entry/{id}"] == ["get"]       # read-only for all
    assert operations(doc)["/api/accounts/user/{id}"] == ["delete", "get", "patch", "put"]


async def test_openapi_schemas_come_from_the_fields(site):
    root = await site.token_client("root", is_superuser=True)
    doc = (await root.get("/api/openapi.json")).json
    schemas = doc["components"]["schemas"]
    article = schemas["blog_article"]["properties"]
    assert article["title"] == {"type": "string", "maxLength": 200}
    assert article["created"]["format"] == "date-time"
    assert article["category"]["pattern"] == "^[0-9a-f]{24}$"
    assert article["tags"]["type"] == "array" and article["tags"]["maxItems"] == 20
    assert article["published"]["type"] == "boolean"
    create = schemas["blog_article_create"]
    assert create["required"] == ["title"] and create["additionalProperties"] is False
    assert "author" not in create["properties"] and "created" not in create["properties"]
    user = schemas["accounts_user"]["properties"]
    assert user["email"]["format"] == "email"
    assert "password" not in user
    assert "password" not in schemas["accounts_user_create"]["properties"]
    params = {p["name"]: p for p in doc["paths"][ARTICLES]["get"]["parameters"]}
    assert {"q", "o", "cursor", "per_page", "published", "category"} <= set(params)
    assert "-title" in params["o"]["schema"]["enum"]


async def test_openapi_enum_for_strict_choices_only():
    from core.api.openapi import field_schema
    from core.audit.models import AuditEntry
    from core.models import fields
    kind = fields.ChoiceField(choices=[("memo", "Memo"), ("todo", "To do")])
    assert field_schema(kind) == {"enum": ["memo", "todo"], "type": "string"}
    rank = fields.ChoiceField(choices=[(1, "one"), (2, "two")])
    assert field_schema(rank) == {"enum": [1, 2], "type": "integer"}
    # the audit log's action accepts any identifier: its choices are suggestions
    assert "enum" not in field_schema(AuditEntry._meta.fields["action"])


async def test_the_accounts_admin_escalation_checks_apply_to_the_api(site):
    """A user manager (not a superuser) cannot grant what they do not hold, nor make
    anyone a superuser: the UserAdmin's save_model refuses, as on the change page."""
    manager = await site.token_client("manager", {"accounts.user": ["read", "write"],
                                                  "blog.article": ["read"]})
    target = await site.create_user("target", {"blog.article": ["read"]})
    path = f"/api/accounts/user/{target.id}"
    reply = await manager.patch(path, {"permissions": {"blog.article": ["read", "delete"]}})
    assert reply.code == 422 and "permissions" in reply.json["fields"]
    reply = await manager.patch(path, {"is_superuser": True})
    assert reply.code == 422 and "is_superuser" in reply.json["fields"]
    await target.reload(db=site.db)
    assert target.permissions == {"blog.article": ["read"]} and not target.is_superuser
    assert target.version == 1
    # what they hold they may grant
    reply = await manager.patch(path, {"permissions": {"accounts.user": ["read"],
                                                       "blog.article": ["read"]}})
    assert reply.code == 200, reply
    assert reply.json["permissions"] == {"accounts.user": ["read"], "blog.article": ["read"]}
