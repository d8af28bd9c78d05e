"""Issue 12's "Done when", end to end over HTTP on the blog: a staff user finds an author
by typing three letters, narrows articles to "this month" and one category, exports that
list as CSV, fixes a typo in three titles in the list, and imports ten new articles after
seeing the preview — every step refused to a user without its action and recorded in the
audit log. And the demo article's change page shows its author and its times.

The blog's ``ArticleAdmin`` gets the everyday options a newsroom would turn on (a date
and an author filter, titles edited in the list); everything else is the product's.
"""
import csv
import datetime
import html
import io
import re

import pytest

from admin_kit import make_settings
from desk_kit import upload
from support import BLOG_APPS
from support.pages import text_of

ARTICLES = "/admin/blog/article/"
STAFF = {"blog.article": ["read", "write", "export"], "blog.category": ["read"],
         "accounts.user": ["read"]}
VISITOR = {"blog.article": ["read"], "blog.category": ["read"]}


@pytest.fixture
def newsroom_options(monkeypatch):
    from apps.blog.admin import ArticleAdmin
    monkeypatch.setattr(ArticleAdmin, "list_filter", ["published", "category", "author",
                                                      "created"])
    monkeypatch.setattr(ArticleAdmin, "list_display_links", ["created"])
    monkeypatch.setattr(ArticleAdmin, "list_editable", ["title"])


@pytest.fixture
async def blog(server, tmp_path, newsroom_options):
    return await server(settings=make_settings(tmp_path, INSTALLED_APPS=BLOG_APPS))


def link_in_sidebar(text, title, label):
    section = re.search(rf'<h3>By {re.escape(title)}</h3>(.*?)</section>', text, re.S).group(1)
    return html.unescape(re.search(rf'<a href="([^"]*)"[^>]*>{re.escape(label)}</a>',
                                   section).group(1))


def list_titles(text):
    return sorted(html.unescape(t) for t in re.findall(
        r'name="[0-9a-f]{24}-title"[^>]*value="([^"]*)"', text))


async def entries(site, action):
    return await site.model("audit.entry").find({"action": action}, db=site.db).to_list(None)


async def test_staff_finds_narrows_exports_fixes_and_imports(blog):
    Article, Category = blog.model("blog.article"), blog.model("blog.category")
    annabel = await blog.create_user("annabel")
    other = await blog.create_user("oscar")
    news = await Category.create(name="News", db=blog.db)
    sport = await Category.create(name="Sport", db=blog.db)
    typos = [await Article.create(title=f"Teh match {i}", category=news.id, author=annabel.id,
                                  db=blog.db) for i in range(3)]
    await Article.create(title="Sport now", category=sport.id, author=annabel.id, db=blog.db)
    await Article.create(title="By Oscar", category=news.id, author=other.id, db=blog.db)
    old = await Article.create(title="Last year", category=news.id, author=annabel.id,
                               db=blog.db)
    await Article.get_collection(blog.db).update_one(
        {"_id": old.id}, {"$set": {"created": datetime.datetime.now(datetime.timezone.utc)
                                   - datetime.timedelta(days=400)}})
    staff = await blog.user_browser("staff", STAFF)
    visitor = await blog.user_browser("visitor", VISITOR)

    # 1. three letters find the author (the users' autocomplete; needs read on users)
    found = (await staff.get("/admin/accounts/user/autocomplete/?q=ann")).json()
    assert [item["label"] for item in found["results"]] == ["annabel"]
    assert found["results"][0]["id"] == str(annabel.id)
    assert (await visitor.get("/admin/accounts/user/autocomplete/?q=ann")).code == 403

    # 2. narrow to the author, "this month" and one category, through the sidebar's links
    page = await staff.get(f"{ARTICLES}?author={annabel.id}")
    page = await staff.get(link_in_sidebar(page.text, "created", "This month"))
    page = await staff.get(link_in_sidebar(page.text, "category", "News"))
    assert page.code == 200
    assert list_titles(page.text) == ["Teh match 0", "Teh match 1", "Teh match 2"]
    narrowed = html.unescape(re.search(r'<a class="btn btn-secondary exportlink" '
                                       r'href="([^"]*)"', page.text).group(1))

    # 3. export exactly that list as CSV (export is its own action)
    exported = await staff.get(narrowed)
    assert exported.code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(row["title"] for row in rows) == [f"Teh match {i}" for i in range(3)]
    assert (await visitor.get(narrowed)).code == 403
    assert [entry.actor for entry in await entries(blog, "export")] == ["staff"]

    # 4. fix the typo in the three titles, in the list, in one POST
    form = [("_save_list", "1")]
    for i, article in enumerate(typos):
        form += [("_list_id", str(article.id)), (f"{article.id}-_version", "1"),
                 (f"{article.id}-title", f"The match {i}")]
    assert (await visitor.post(ARTICLES, form)).code == 403
    assert (await staff.post(ARTICLES, form)).code == 303
    assert sorted([(await Article.get(a.id, db=blog.db)).title for a in typos]) == [
        "The match 0", "The match 1", "The match 2"]
    updates = await entries(blog, "update")
    assert len(updates) == 3 and {e.actor for e in updates} == {"staff"}
    assert {e.changes["title"]["before"] for e in updates} == {f"Teh match {i}"
                                                               for i in range(3)}

    # 5. import ten new articles: the preview first, then all of them
    rows = "".join(f"New piece {i},{news.id}\r\n" for i in range(10))
    content = "title,category\r\n" + rows
    assert (await visitor.get(f"{ARTICLES}import/")).code == 403
    preview = await upload(staff, f"{ARTICLES}import/", "articles.csv", content)
    assert preview.code == 200 and "10 rows, all valid." in text_of(preview.text)
    assert await Article.count({"title": {"$regex": "^New piece"}}, db=blog.db) == 0
    payload = html.unescape(re.search(r'name="payload" value="([^"]*)"', preview.text).group(1))
    refused = await visitor.post(f"{ARTICLES}import/", {"format": "csv", "payload": payload,
                                                        "_apply": "1"})
    assert refused.code == 403
    done = await staff.post(f"{ARTICLES}import/", {"format": "csv", "payload": payload,
                                                   "_apply": "1"})
    assert done.code == 303
    assert await Article.count({"title": {"$regex": "^New piece"}}, db=blog.db) == 10
    creates = [e for e in await entries(blog, "create") if e.actor == "staff"]
    assert len(creates) == 10

    # ... and all of it on the audit log's own page
    log = await blog.user_browser("auditor", {"audit.entry": ["read"]})
    listing = await log.get("/admin/audit/entry/?q=staff&per_page=100")
    assert listing.code == 200
    shown = re.findall(r'<tr data-id="[0-9a-f]{24}">.*?</tr>', listing.text, re.S)
    actions = [re.findall(r"<td>([^<]*)</td>", re.sub(r"\s*\n\s*", "", row))[1]
               for row in shown]
    assert (actions.count("Export"), actions.count("Update"), actions.count("Create")) == \
        (1, 3, 10)


async def test_the_demo_articles_change_page_shows_its_author_and_times(blog):
    from apps.blog.demo import load_demo
    author = await blog.create_user("editor-in-chief", is_superuser=True)
    assert (await load_demo(blog.db, author=author.id))["articles"] > 0
    article = await blog.model("blog.article").find_one({}, db=blog.db)
    root = await blog.user_browser("root", is_superuser=True)
    page = await root.get(f"{ARTICLES}{article.id}/change/")
    assert page.code == 200
    readonly = dict((label, value.strip()) for label, value in re.findall(
        r'<span class="label">([^<]*)</span><div class="readonly-value">(.*?)</div>',
        page.text, re.S))
    assert "editor-in-chief" in readonly["Author"] and "(missing)" not in readonly["Author"]
    for label in ("Created", "Updated"):
        assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", readonly[label]), readonly
