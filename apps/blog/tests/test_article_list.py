"""The article list of the admin over real HTTP: what ``ArticleAdmin`` declares for it
(search in titles and bodies, the ``published`` and ``category`` filters, newest first)."""
import datetime

from support.pages import row_ids

LIST = "/admin/blog/article/"
READER = {"blog.article": ["read"], "blog.category": ["read"]}


async def test_the_article_list_searches_bodies_and_filters_by_published_and_category(site):
    Category, Article = site.model("blog.category"), site.model("blog.article")
    news = await Category.create(name="News", db=site.db)
    other = await Category.create(name="Other", db=site.db)
    lights = await Article.create(title="Harbour lights", body="Ships at night",
                                  category=news.id, published=True, db=site.db)
    quiet = await Article.create(title="A quiet week", body="Nothing at the harbour",
                                 category=other.id, db=site.db)
    market = await Article.create(title="Market day", body="Stalls", category=news.id,
                                  db=site.db)
    # distinct creation times, so "newest first" has one answer
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    for hours, article in enumerate((lights, quiet, market)):
        await site.db[Article._meta.collection].update_one(
            {"_id": article.id}, {"$set": {"created": start + datetime.timedelta(hours=hours)}})
    reader = await site.user_browser("reader", READER)

    async def rows(query=""):
        page = await reader.get(LIST + query)
        assert page.code == 200, (query, page.code, page.text[:300])
        return row_ids(page.text)

    named = {str(lights.id): "lights", str(quiet.id): "quiet", str(market.id): "market"}
    assert [named[i] for i in await rows()] == ["market", "quiet", "lights"]
    assert [named[i] for i in await rows("?q=harbour")] == ["quiet", "lights"]   # body too
    assert [named[i] for i in await rows("?q=harbour&published=1")] == ["lights"]
    assert [named[i] for i in await rows(f"?category={news.id}")] == ["market", "lights"]
    assert await rows(f"?category={other.id}&published=1") == []
