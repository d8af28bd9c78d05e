"""The admin over the blog app (apps/blog): the author rule, the publish action, labels."""
import re

import pytest

from admin_kit import make_settings

EDITOR = {"blog.article": ["read", "write", "delete"], "blog.category": ["read"],
          "accounts.user": ["read"]}

AUTHOR_ROW = r'<span class="label">Author</span><div class="readonly-value">(.*?)</div>'


@pytest.fixture
async def blog(server, tmp_path):
    return await server(make_settings(tmp_path, INSTALLED_APPS=["apps.accounts", "apps.blog"]))


async def test_an_editor_writes_an_article_and_is_its_author(blog):
    Category = blog.model("blog.category")
    Article = blog.model("blog.article")
    news = await Category.create(name="News", db=blog.db)
    editor = await blog.user_browser("ed", EDITOR)
    response = await editor.post("/admin/blog/article/add/", {
        "title": "Hello", "body": "First post", "category": str(news.id), "tags": "a, b",
        "author": "0123456789abcdef01234567"})              # read-only: ignored
    assert response.code == 303
    article = await Article.find_one({"title": "Hello"}, db=blog.db)
    user = await blog.model("accounts.user").get_by_username("ed", db=blog.db)
    assert article.author == user.id and article.tags == ["a", "b"]
    listing = await editor.get("/admin/blog/article/")
    row = re.search(rf'<tr data-id="{article.id}">.*?</tr>', listing.text, re.S).group(0)
    assert f'<a href="/admin/blog/category/{news.id}/">News</a>' in row
    assert f'href="/admin/accounts/user/{user.id}/"' in row            # the author's label


async def test_the_change_form_labels_its_read_only_author_as_the_reader_may_see_it(blog):
    Article = blog.model("blog.article")
    editor = await blog.user_browser("ed", EDITOR)
    await editor.post("/admin/blog/article/add/", {"title": "Mine"})
    article = await Article.find_one({"title": "Mine"}, db=blog.db)
    page = await editor.get(f"/admin/blog/article/{article.id}/change/")
    author = re.search(AUTHOR_ROW, page.text, re.S).group(1)
    assert ">ed</a>" in author and "missing" not in author
    blind = await blog.user_browser("blind", {"blog.article": ["read", "write"]})
    page = await blind.get(f"/admin/blog/article/{article.id}/change/")
    author = re.search(AUTHOR_ROW, page.text, re.S).group(1)
    assert author.strip() == "(hidden)"


async def test_only_the_author_deletes_in_bulk_and_the_rest_are_reported(blog):
    Article = blog.model("blog.article")
    editor = await blog.user_browser("ed", EDITOR)
    other = await blog.create_user("other", EDITOR)
    await editor.post("/admin/blog/article/add/", {"title": "Mine"})
    mine = await Article.find_one({"title": "Mine"}, db=blog.db)
    theirs = await Article.create(title="Theirs", author=other.id, db=blog.db)
    form = [("action", "delete_selected"), ("_selected_action", str(mine.id)),
            ("_selected_action", str(theirs.id)), ("post", "yes")]
    assert (await editor.post("/admin/blog/article/", form)).code == 303
    assert await Article.get(mine.id, db=blog.db) is None
    assert await Article.get(theirs.id, db=blog.db) is not None
    page = await editor.get("/admin/blog/article/")
    assert "Skipped 1 you may not delete: Theirs" in page.text


async def test_publish_needs_its_own_permission(blog):
    Article = blog.model("blog.article")
    article = await Article.create(title="Draft", db=blog.db)
    editor = await blog.user_browser("ed", EDITOR)
    page = await editor.get("/admin/blog/article/")
    assert 'value="publish"' not in page.text
    form = [("action", "publish"), ("_selected_action", str(article.id))]
    assert (await editor.post("/admin/blog/article/", form)).code == 403
    publisher = await blog.user_browser(
        "pub", {"blog.article": ["read", "publish"]})
    assert 'value="publish"' in (await publisher.get("/admin/blog/article/")).text
    assert (await publisher.post("/admin/blog/article/", form)).code == 303
    assert (await Article.get(article.id, db=blog.db)).published is True
    assert "Published 1 article." in (await publisher.get("/admin/blog/article/")).text
