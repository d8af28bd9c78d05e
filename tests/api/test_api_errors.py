"""Every error status of the API, as JSON ``{"error", "fields"}``, and nothing changed."""
import json

import pytest

ARTICLES = "/api/blog/article/"


@pytest.fixture
async def writer(site):
    return await site.token_client("wes", {"blog.article": ["read", "write", "delete"],
                                           "blog.category": ["read", "write"]})


@pytest.fixture
async def article(site, writer):
    reply = await writer.post(ARTICLES, {"title": "Original", "tags": ["x"]})
    assert reply.code == 201
    return site.model("blog.article"), reply.json["id"]


async def unchanged(site, article):
    model, article_id = article
    stored = await model.get(article_id, db=site.db)
    assert stored.title == "Original" and stored.version == 1 and stored.tags == ["x"]
    return stored


def is_error(reply, code):
    assert reply.code == code, reply
    assert reply.headers["Content-Type"].startswith("application/json")
    assert isinstance(reply.json["error"], str) and reply.json["error"]
    assert isinstance(reply.json["fields"], dict)
    return reply.json


async def test_400_malformed_json_cursor_sort_and_arguments(site, writer, article):
    _, article_id = article
    for raw in ("{", "not json", '{"title": NaN}', "[" * 5000 + "]" * 5000, '"text"', "[]",
                '{"title": "\\ud800"}'):
        is_error(await writer.request("PATCH", f"{ARTICLES}{article_id}", raw=raw), 400)
        is_error(await writer.request("POST", ARTICLES, raw=raw), 400)
    is_error(await writer.request("POST", ARTICLES, raw=b"\xff\xfe"), 400)
    is_error(await writer.get(ARTICLES + "?cursor=garbage"), 400)
    good = await writer.get(ARTICLES + "?o=title&per_page=25")
    assert good.code == 200
    is_error(await writer.get(ARTICLES + "?o=nope"), 400)
    is_error(await writer.get(ARTICLES + "?per_page=7"), 400)
    body = is_error(await writer.get(ARTICLES + "?colour=red"), 400)
    assert "colour" in body["error"]
    await unchanged(site, article)


async def test_401_for_bad_tokens(site, article):
    from support.api import Client
    for header in ("Bearer nope", "Bearer ", "Basic dXNlcjpwYXNz", "bst_abc", "Bearer bst_" +
                   "x" * 43):
        client = Client(site)
        body = is_error(await client.get(ARTICLES, headers={"Authorization": header}), 401)
        assert "token" in body["error"].lower() or "bearer" in body["error"].lower()
        is_error(await client.post(ARTICLES, {"title": "x"},
                                   headers={"Authorization": header}), 401)
    await unchanged(site, article)


async def test_403_without_the_permission(site, article):
    _, article_id = article
    reader = await site.token_client("rita", {"blog.article": ["read"]})
    body = is_error(await reader.patch(f"{ARTICLES}{article_id}", {"title": "No"}), 403)
    assert "write" in body["error"]
    nobody = await site.token_client("nils", {})
    is_error(await nobody.get(ARTICLES), 403)
    is_error(await nobody.get(f"{ARTICLES}{article_id}"), 403)
    await unchanged(site, article)


async def test_404_unknown_model_malformed_or_unknown_id(site, writer, article):
    is_error(await writer.get("/api/blog/nothing/"), 404)
    is_error(await writer.post("/api/shop/thing/", {"a": 1}), 404)
    is_error(await writer.get("/api/"), 404)
    is_error(await writer.get("/api/blog/"), 404)
    for bad in ("123", "zzzzzzzzzzzzzzzzzzzzzzzz", "0" * 24, "%24gt", "'%20OR%201=1"):
        is_error(await writer.get(f"{ARTICLES}{bad}"), 404)
        is_error(await writer.patch(f"{ARTICLES}{bad}", {"title": "x"}), 404)
        is_error(await writer.delete(f"{ARTICLES}{bad}"), 404)
    await unchanged(site, article)


async def test_405_wrong_method(site, writer, article):
    _, article_id = article
    body = is_error(await writer.request("DELETE", ARTICLES), 405)
    assert body["error"]
    reply = await writer.request("PUT", ARTICLES, {"title": "x"})
    is_error(reply, 405)
    assert reply.headers["Allow"] == "GET, POST"
    reply = await writer.post(f"{ARTICLES}{article_id}", {"title": "x"})
    is_error(reply, 405)
    assert "PATCH" in reply.headers["Allow"]
    is_error(await writer.post("/api/openapi.json", {}), 405)
    await unchanged(site, article)


async def test_409_stale_version_changes_nothing(site, writer, article):
    _, article_id = article
    body = is_error(await writer.patch(f"{ARTICLES}{article_id}",
                                       {"title": "Late", "version": 7}), 409)
    assert body["version"] == 1
    is_error(await writer.put(f"{ARTICLES}{article_id}", {"title": "Late"},
                              headers={"If-Match": '"4"'}), 409)
    is_error(await writer.delete(f"{ARTICLES}{article_id}", headers={"If-Match": '"2"'}), 409)
    is_error(await writer.patch(f"{ARTICLES}{article_id}", {"title": "Bad"},
                                headers={"If-Match": "yesterday"}), 400)
    await unchanged(site, article)
    # the right version goes through, then the old one is stale
    ok = await writer.patch(f"{ARTICLES}{article_id}", {"title": "Fresh"},
                            headers={"If-Match": 'W/"1"'})
    assert ok.code == 200 and ok.json["version"] == 2
    is_error(await writer.patch(f"{ARTICLES}{article_id}", {"title": "Lost", "version": 1}),
             409)
    model, _ = article
    assert (await model.get(article_id, db=site.db)).title == "Fresh"


async def test_409_race_between_load_and_save(site, writer, article):
    """Another writer saves between our read and our write: the version guard refuses."""
    model, article_id = article
    other = await model.get(article_id, db=site.db)
    other.title = "Theirs"
    await other.save(db=site.db)                  # version 2
    is_error(await writer.patch(f"{ARTICLES}{article_id}", {"title": "Mine", "version": 1}),
             409)
    assert (await model.get(article_id, db=site.db)).title == "Theirs"


async def test_409_unique_violation(site, writer):
    first = await writer.post("/api/blog/category/", {"name": "Unique"})
    assert first.code == 201
    body = is_error(await writer.post("/api/blog/category/", {"name": "Unique"}), 409)
    assert "name" in body["fields"]
    second = await writer.post("/api/blog/category/", {"name": "Second"})
    body = is_error(await writer.patch(f"/api/blog/category/{second.json['id']}",
                                       {"name": "Unique"}), 409)
    assert "name" in body["fields"]
    assert await site.model("blog.category").count({"name": "Unique"}, db=site.db) == 1


async def test_413_body_too_large(site, writer, article):
    _, article_id = article
    big = json.dumps({"title": "x", "body": "y" * (1024 * 1024 + 10)})
    is_error(await writer.request("POST", ARTICLES, raw=big), 413)
    is_error(await writer.request("PATCH", f"{ARTICLES}{article_id}", raw=big), 413)
    await unchanged(site, article)
    assert await site.model("blog.article").count({}, db=site.db) == 1


async def test_415_not_json(site, writer, article):
    _, article_id = article
    for content_type in ("application/x-www-form-urlencoded", "text/plain", None):
        reply = await writer.request("POST", ARTICLES, raw="title=x", content_type=content_type)
        is_error(reply, 415)
        reply = await writer.request("PATCH", f"{ARTICLES}{article_id}", raw='{"title": "x"}',
                                     content_type=content_type)
        is_error(reply, 415)
    ok = await writer.request("PATCH", f"{ARTICLES}{article_id}", raw='{"tags": ["x"]}',
                              content_type="application/json; charset=utf-8")
    assert ok.code == 200 and ok.json["version"] == 2     # only the JSON one was saved
    model, _ = article
    assert (await model.get(article_id, db=site.db)).title == "Original"


async def test_422_validation_names_the_field(site, writer, article):
    _, article_id = article
    cases = [
        ({"title": ""}, "title"),                     # required
        ({"title": "x" * 201}, "title"),              # max_length
        ({"title": {"$gt": ""}}, "title"),            # an object where text belongs
        ({"title": ["a"]}, "title"),
        ({"published": "maybe"}, "published"),
        ({"category": "0" * 24}, "category"),         # no such category
        ({"category": {"$ne": None}}, "category"),
        ({"tags": [{"$gt": ""}]}, "tags.0"),           # the item, by its position
        ({"tags": ["t"] * 21}, "tags"),
        ({"colour": "red"}, "colour"),                # unknown field
        ({"author": "0" * 24}, "author"),             # read-only
        ({"created": "2020-01-01T00:00:00"}, "created"),
        ({"version": "1"}, "version"),
    ]
    for body, name in cases:
        answer = is_error(await writer.patch(f"{ARTICLES}{article_id}", body), 422)
        assert name in answer["fields"], (body, answer)
    for body, name in cases[:-1]:
        create = {"title": "New", **body}
        answer = is_error(await writer.post(ARTICLES, create), 422)
        assert name in answer["fields"], (body, answer)
    answer = is_error(await writer.post(ARTICLES, {"title": "x", "id": "0" * 24}), 422)
    assert "id" in answer["fields"]
    await unchanged(site, article)
    assert await site.model("blog.article").count({}, db=site.db) == 1


async def test_injection_never_reaches_a_query(site, writer, article):
    model, article_id = article
    await site.model("blog.category").create(name="x", db=site.db)
    for query in ("?category[$ne]=x", "?title[$gt]=", '?o={"$where":1}', "?o=$where",
                  "?category=%7B%22%24ne%22%3A1%7D", "?published[$ne]=1", "?q[$regex]=.*"):
        reply = await writer.get(ARTICLES + query)
        assert reply.code == 400, (query, reply)
    # a search is literal text, never a pattern or an operator
    reply = await writer.get(ARTICLES + "?q=.*")
    assert reply.code == 200 and reply.json["results"] == []
    reply = await writer.get(ARTICLES + "?q=%24where")
    assert reply.code == 200 and reply.json["results"] == []
    for body in ({"title": {"$gt": ""}}, {"title": {"$set": {"title": "pwned"}}},
                 {"$set": {"title": "pwned"}}, {"tags": {"$push": "x"}}):
        reply = await writer.patch(f"{ARTICLES}{article_id}", body)
        assert reply.code == 422, (body, reply)
        reply = await writer.post(ARTICLES, {"title": "ok", **body} if "$set" not in body
                                  else body)
        assert reply.code == 422, (body, reply)
    await unchanged(site, article)
    assert await model.count({}, db=site.db) == 1


async def test_readonly_fields_round_trip_unchanged(site, writer, article):
    """A GET representation may be PUT back as it is (read-only values unchanged)."""
    _, article_id = article
    shown = (await writer.get(f"{ARTICLES}{article_id}")).json
    shown["title"] = "Round trip"
    reply = await writer.put(f"{ARTICLES}{article_id}", shown)
    assert reply.code == 200, reply
    assert reply.json["title"] == "Round trip" and reply.json["created"] == shown["created"]
    assert reply.json["version"] == 2
