"""CRUD through the API on every channel, the list's query, and how objects look."""
import datetime
import re

import pytest

ARTICLES = "/api/blog/article/"
CATEGORIES = "/api/blog/category/"


async def _crud(site, client):
    """Create, read, list, patch, put and delete one article with ``client``."""
    created = await client.post(CATEGORIES, {"name": "News"})
    assert created.code == 201, created
    category_id = created.json["id"]

    reply = await client.post(ARTICLES, {"title": "Hello", "body": "First", "tags": ["a", "b"],
                                         "category": category_id})
    assert reply.code == 201, reply
    article = reply.json
    assert reply.headers["Location"] == f"{ARTICLES}{article['id']}"
    assert re.fullmatch(r"[0-9a-f]{24}", article["id"])
    assert article["version"] == 1
    assert article["title"] == "Hello" and article["tags"] == ["a", "b"]
    assert article["category"] == category_id
    assert article["author"] == str(client.user.id)          # save_model set the author

    reply = await client.get(f"{ARTICLES}{article['id']}")
    assert reply.code == 200 and reply.json == article
    assert reply.headers["ETag"] == '"1"'

    listed = await client.get(ARTICLES)
    assert listed.code == 200
    assert [a["id"] for a in listed.json["results"]] == [article["id"]]
    assert listed.json["next"] is None and listed.json["count"] == 1

    reply = await client.patch(f"{ARTICLES}{article['id']}", {"title": "Hello again",
                                                              "version": 1})
    assert reply.code == 200, reply
    assert reply.json["title"] == "Hello again" and reply.json["body"] == "First"
    assert reply.json["version"] == 2

    reply = await client.put(f"{ARTICLES}{article['id']}", {"title": "Replaced",
                                                            "published": True})
    assert reply.code == 200, reply
    assert reply.json["title"] == "Replaced" and reply.json["published"] is True
    assert reply.json["body"] is None and reply.json["tags"] == []     # PUT: all fields
    assert reply.json["category"] is None
    assert reply.json["author"] == str(client.user.id)                 # read-only kept
    assert reply.json["version"] == 3

    Article = site.model("blog.article")
    stored = await Article.get(article["id"], db=site.db)
    assert stored.title == "Replaced" and stored.version == 3

    reply = await client.delete(f"{ARTICLES}{article['id']}")
    assert reply.code == 204 and reply.text == ""
    assert await Article.get(article["id"], db=site.db) is None
    assert (await client.get(f"{ARTICLES}{article['id']}")).code == 404
    return article["id"]


async def test_crud_with_a_bearer_token(site):
    client = await site.token_client("tom", {"blog.article": ["read", "write", "delete"],
                                             "blog.category": ["read", "write"]})
    await _crud(site, client)


async def test_crud_with_the_session_and_the_xsrf_header(site):
    client = await site.session_client("sue", {"blog.article": ["read", "write", "delete"],
                                               "blog.category": ["read", "write"]})
    assert "X-XSRFToken" not in client.cookies
    await _crud(site, client)


async def test_session_without_the_xsrf_header_is_refused(site):
    client = await site.session_client("sam", {"blog.article": ["read", "write", "delete"]},
                                       send_xsrf=False)
    assert (await client.get(ARTICLES)).code == 200       # reads need no token
    reply = await client.post(ARTICLES, {"title": "Sneaky"})
    assert reply.code == 403 and "xsrf" in reply.json["error"].lower()
    assert await site.model("blog.article").count({}, db=site.db) == 0
    article = await site.model("blog.article").create(title="Kept", db=site.db)
    for method in ("PATCH", "PUT"):
        reply = await client.request(method, f"{ARTICLES}{article.id}", {"title": "x"})
        assert reply.code == 403, reply
    assert (await client.delete(f"{ARTICLES}{article.id}")).code == 403
    await article.reload(db=site.db)
    assert article.title == "Kept" and article.version == 1


async def test_a_bearer_request_needs_no_xsrf_even_with_a_session_cookie(site):
    session = await site.session_client("sid", {"blog.article": ["read", "write"]},
                                        send_xsrf=False)
    token = await site.token_client("tia", {"blog.article": ["read", "write"]})
    token.cookies = dict(session.cookies)                 # the cookie is ignored
    reply = await token.post(ARTICLES, {"title": "By token"})
    assert reply.code == 201, reply
    assert reply.json["author"] == str(token.user.id)     # the token's user, not the cookie's


async def test_no_credentials_is_401_on_every_method(site):
    article = await site.model("blog.article").create(title="Secret", db=site.db)
    anonymous = site.anonymous()
    for method, path in (("GET", ARTICLES), ("POST", ARTICLES),
                         ("GET", f"{ARTICLES}{article.id}"), ("PATCH", f"{ARTICLES}{article.id}"),
                         ("PUT", f"{ARTICLES}{article.id}"),
                         ("DELETE", f"{ARTICLES}{article.id}"), ("GET", "/api/openapi.json")):
        reply = await anonymous.request(method, path, {"title": "x"} if method in (
            "POST", "PUT", "PATCH") else None)
        assert reply.code == 401, (method, path, reply)
        assert reply.json["error"] and reply.json["fields"] == {}
        assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    await article.reload(db=site.db)
    assert article.title == "Secret" and article.version == 1


async def test_secrets_are_never_serialized(site):
    client = await site.token_client("root", is_superuser=True)
    reply = await client.get("/api/accounts/user/")
    assert reply.code == 200
    users = reply.json["results"]
    assert users and all("password" not in user for user in users)
    assert "$2" not in reply.text                         # no bcrypt hash anywhere
    one = await client.get(f"/api/accounts/user/{client.user.id}")
    assert one.code == 200 and "password" not in one.json
    assert one.json["username"] == "root"
    moment = datetime.datetime.fromisoformat(one.json["date_joined"])
    assert moment.utcoffset() == datetime.timedelta(0)    # ISO 8601, UTC
    # a password cannot be written either
    reply = await client.patch(f"/api/accounts/user/{client.user.id}",
                               {"password": "$2b$04$" + "x" * 53})
    assert reply.code == 422 and "password" in reply.json["fields"]


@pytest.fixture
async def articles(site):
    Article = site.model("blog.article")
    Category = site.model("blog.category")
    news = await Category.create(name="News", db=site.db)
    other = await Category.create(name="Other", db=site.db)
    made = []
    for i in range(30):
        made.append(await Article.create(
            title=f"Article {i:02d}" + (" needle" if i % 3 == 0 else ""),
            published=i % 2 == 0, category=news.id if i < 10 else other.id, db=site.db))
    return {"news": news, "other": other, "articles": made}


async def test_list_search_filter_sort_like_the_list_page(site, articles):
    client = await site.token_client("reader", {"blog.article": ["read"]})
    reply = await client.get(ARTICLES + "?q=needle&per_page=25")
    assert reply.code == 200
    assert sorted(a["title"] for a in reply.json["results"]) == sorted(
        f"Article {i:02d} needle" for i in range(0, 30, 3))
    assert reply.json["count"] == 10

    reply = await client.get(ARTICLES + f"?published=1&category={articles['news'].id}")
    titles = sorted(a["title"].split()[1] for a in reply.json["results"])
    assert titles == ["00", "02", "04", "06", "08"]
    assert all(a["published"] for a in reply.json["results"])

    reply = await client.get(ARTICLES + "?o=title&per_page=25")
    titles = [a["title"] for a in reply.json["results"]]
    assert titles == sorted(titles) and len(titles) == 25
    reply = await client.get(ARTICLES + "?o=-title&per_page=25")
    assert [a["title"] for a in reply.json["results"]][0].startswith("Article 29")


async def test_the_cursor_walks_every_row_once_both_ways(site, articles):
    client = await site.token_client("reader", {"blog.article": ["read"]})
    seen, cursor, pages = [], None, []
    while True:
        reply = await client.get(ARTICLES + "?o=title&per_page=25" +
                                 (f"&cursor={cursor}" if cursor else ""))
        assert reply.code == 200
        pages.append(reply.json)
        seen += [a["title"] for a in reply.json["results"]]
        cursor = reply.json["next"]
        if cursor is None:
            break
    assert seen == sorted(a.title for a in articles["articles"])
    assert len(pages) == 2 and pages[0]["previous"] is None
    back = await client.get(ARTICLES + f"?o=title&per_page=25&cursor={pages[1]['previous']}")
    assert [a["title"] for a in back.json["results"]] == seen[:25]


async def test_counts_are_capped_like_the_list_page(site, monkeypatch):
    from core.admin import pagination
    monkeypatch.setattr(pagination, "COUNT_CAP", 5)
    import core.api.handlers as api_handlers
    monkeypatch.setattr(api_handlers, "COUNT_CAP", 5)
    Article = site.model("blog.article")
    for i in range(8):
        await Article.create(title=f"Tagged {i}", db=site.db)
    client = await site.token_client("reader", {"blog.article": ["read"]})
    assert (await client.get(ARTICLES + "?q=tagged")).json["count"] == "5+"
    assert (await client.get(ARTICLES)).json["count"] == 8           # the estimate
    assert (await client.get(ARTICLES + "?q=tagged%207")).json["count"] == 1


async def test_writes_are_audited_like_the_ui(site):
    client = await site.token_client("ann", {"blog.article": ["read", "write", "delete"]})
    reply = await client.post(ARTICLES, {"title": "Audited"})
    article_id = reply.json["id"]
    await client.patch(f"{ARTICLES}{article_id}", {"title": "Audited twice"})
    await client.delete(f"{ARTICLES}{article_id}")
    entries = await site.audit_entries(object_id=article_id)
    assert [e.action for e in entries] == ["create", "update", "delete"]
    assert all(e.actor == "ann" and e.actor_id == client.user.id for e in entries)
    assert all(e.model_key == "blog.article" for e in entries)
    assert entries[0].changes["title"] == {"before": None, "after": "Audited"}
    assert entries[1].changes == {"title": {"before": "Audited", "after": "Audited twice"},
                                  "updated": entries[1].changes["updated"]}
    assert entries[2].changes["title"] == {"before": "Audited twice", "after": None}
    assert entries[0].ip == "127.0.0.1"
