"""Scoped grants, field permissions and expiry on every channel of a served site.

The operator's story of issue 14: ``editors`` hold ``blog.article: read, write:own,
delete:own``; an editor sees every article and edits or deletes only their own — on the
pages, the bulk actions and the API; a support user reads articles without ever receiving
their ``body``; a grant that has expired stops working without a restart.
"""
import datetime
import json

from support.pages import errors_in, form_errors, row_ids

EDITOR = {"blog.article": ["delete:own", "read", "write:own"], "blog.category": ["read"]}


async def articles(site, *authors):
    Article = site.model("blog.article")
    return [await Article.create(title=f"Article {i} SECRET-BODY", body=f"body {i} SECRET-BODY",
                                 author=author.id, db=site.db)
            for i, author in enumerate(authors)]


async def editor_and_other(site):
    editor = await site.token_client("ed", EDITOR)
    other = await site.create_user("olga", EDITOR)
    mine, theirs = await articles(site, editor.user, other)
    return editor, other, mine, theirs


async def test_an_editor_reads_all_but_writes_and_deletes_only_their_own_in_the_api(site):
    editor, _, mine, theirs = await editor_and_other(site)
    listed = await editor.get("/api/blog/article/")
    assert listed.code == 200 and {a["id"] for a in listed.json["results"]} == \
        {str(mine.id), str(theirs.id)}
    assert (await editor.patch(f"/api/blog/article/{mine.id}", {"title": "Mine"})).code == 200
    refused = await editor.patch(f"/api/blog/article/{theirs.id}", {"title": "Taken"})
    assert refused.code == 403
    assert (await editor.delete(f"/api/blog/article/{theirs.id}")).code == 403
    Article = site.model("blog.article")
    assert (await Article.get(theirs.id, db=site.db)).title == theirs.title
    assert (await editor.delete(f"/api/blog/article/{mine.id}")).code == 204
    created = await editor.post("/api/blog/article/", {"title": "New"})
    assert created.code == 201 and created.json["author"] == str(editor.user.id)


async def test_moving_an_object_out_of_ones_scope_is_refused_with_422(site):
    editor, other, mine, _ = await editor_and_other(site)
    Article = site.model("blog.article")
    reply = await editor.patch(f"/api/blog/article/{mine.id}", {"author": str(other.id)})
    # author is read-only on this admin: a write to it is refused before the scope is asked
    assert reply.code == 422
    assert (await Article.get(mine.id, db=site.db)).author == editor.user.id


async def test_read_own_lists_and_counts_only_ones_own(site):
    reader = await site.token_client("rita", {"blog.article": ["read:own"]})
    other = await site.create_user("olga")
    mine, theirs = await articles(site, reader.user, other)
    listed = await reader.get("/api/blog/article/")
    assert [a["id"] for a in listed.json["results"]] == [str(mine.id)]
    assert listed.json["count"] == 1
    assert (await reader.get(f"/api/blog/article/{theirs.id}")).code == 404
    browser = site.browser()
    await browser.login("rita")
    page = await browser.get("/admin/blog/article/")
    assert row_ids(page.text) == [str(mine.id)]
    assert (await browser.get(f"/admin/blog/article/{theirs.id}/")).code == 404


async def test_the_pages_and_the_bulk_delete_follow_the_scope(site):
    editor, _, mine, theirs = await editor_and_other(site)
    browser = site.browser()
    await browser.login("ed")
    assert (await browser.get(f"/admin/blog/article/{mine.id}/change/")).code == 200
    assert (await browser.get(f"/admin/blog/article/{theirs.id}/change/")).code == 403
    assert (await browser.get(f"/admin/blog/article/{theirs.id}/delete/")).code == 403
    done = await browser.post("/admin/blog/article/", {
        "action": "delete_selected", "post": "yes",
        "_selected_action": [str(mine.id), str(theirs.id)]})
    assert done.code == 303
    Article = site.model("blog.article")
    assert await Article.get(mine.id, db=site.db) is None
    assert await Article.get(theirs.id, db=site.db) is not None


async def test_hidden_fields_never_leave_the_server(site):
    support = await site.token_client("sam", {"blog.article": ["read", "write", "-read:body"],
                                              "audit.entry": ["read"]})
    author = await site.create_user("olga")
    [article] = await articles(site, author)
    root = await site.token_client("root", is_superuser=True)
    changed = await root.patch(f"/api/blog/article/{article.id}",
                               {"body": "body 0 SECRET-BODY changed"})
    assert changed.code == 200                 # the history now holds a change of body
    listed = await support.get("/api/blog/article/")
    one = await support.get(f"/api/blog/article/{article.id}")
    spec = await support.get("/api/openapi.json")
    for reply in (listed, one):
        assert "SECRET-BODY" not in reply.text.replace(article.title, "")
        assert "body" not in (reply.json["results"][0] if "results" in reply.json
                              else reply.json)
    schema = spec.json["components"]["schemas"]["blog_article"]
    assert "title" in schema["properties"] and "body" not in schema["properties"]
    refused = await support.patch(f"/api/blog/article/{article.id}", {"body": "new"})
    assert refused.code == 422 and "body" in refused.json["fields"]
    browser = site.browser()
    await browser.login("sam")
    for path in (f"/admin/blog/article/{article.id}/", f"/admin/blog/article/{article.id}/change/",
                 "/admin/blog/article/", f"/admin/blog/article/{article.id}/history/"):
        page = await browser.get(path)
        assert page.code == 200 and "body 0 SECRET-BODY" not in page.text, (path, page.text)
    history = await browser.get(f"/admin/blog/article/{article.id}/history/",
                                headers={"Accept": "application/json"})
    assert history.code == 200 and "SECRET-BODY changed" not in history.text
    assert all("body" not in (e["changes"] or {}) for e in json.loads(history.text)["entries"])
    log = await support.get("/api/audit/entry/?model_key=blog.article")
    entries = [e for e in log.json["results"] if e["object_id"] == str(article.id)]
    assert entries and all("body" not in (e["changes"] or {}) for e in entries)
    entry = await support.get(f"/api/audit/entry/{entries[0]['id']}")
    assert entry.code == 200 and "SECRET-BODY changed" not in entry.text
    page = await browser.get(f"/admin/audit/entry/{entries[0]['id']}/")
    assert page.code == 200 and "SECRET-BODY changed" not in page.text
    rooted = site.browser()
    await rooted.login("root")
    seen = await rooted.get(f"/admin/blog/article/{article.id}/history/")
    assert "SECRET-BODY changed" in seen.text      # the same page shows it to a superuser


async def test_frozen_fields_render_read_only_and_refuse_writes(site):
    clerk = await site.token_client("cleo", {"blog.article": ["read", "write", "-write:title"]})
    author = await site.create_user("olga")
    [article] = await articles(site, author)
    refused = await clerk.patch(f"/api/blog/article/{article.id}", {"title": "Changed"})
    assert refused.code == 422 and refused.json["fields"]["title"] == "This field is read-only."
    assert (await clerk.patch(f"/api/blog/article/{article.id}", {"body": "ok"})).code == 200
    browser = site.browser()
    await browser.login("cleo")
    page = await browser.get(f"/admin/blog/article/{article.id}/change/")
    assert 'name="title"' not in page.text and article.title in page.text
    Article = site.model("blog.article")
    assert (await Article.get(article.id, db=site.db)).title == article.title


async def test_an_expired_grant_stops_at_once_without_a_restart(site):
    soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2)
    stamp = soon.strftime("%Y-%m-%dT%H:%M:%SZ")
    temp = await site.token_client("tim", {"blog.article": [f"read@{stamp}"]})
    assert (await temp.get("/api/blog/article/")).code == 200
    import asyncio
    while datetime.datetime.now(datetime.timezone.utc) < soon:
        await asyncio.sleep(0.2)
    assert (await temp.get("/api/blog/article/")).code == 403


async def test_a_write_own_author_creates_articles_as_their_own(site):
    await site.create_user("ed", {"blog.article": ["read", "write:own"]})
    browser = site.browser()
    await browser.login("ed")
    page = await browser.get("/admin/blog/article/add/")
    assert page.code == 200
    saved = await browser.post("/admin/blog/article/add/", {"title": "Mine"})
    assert saved.code == 303, saved.text     # the author is whoever creates it: in scope
    Article = site.model("blog.article")
    assert await Article.count({"title": "Mine"}, db=site.db) == 1
    assert errors_in(page.text, "title") == "" and form_errors(page.text) == ""
