"""Demo data: six categories, sixty varied articles by the superuser; loaded once only."""
from apps.blog.demo import load_demo
from apps.blog.models import Article, Category


async def test_demo_data_is_varied_and_authored_by_the_superuser(db, make_user):
    boss = await make_user("boss", is_superuser=True)
    await make_user("later", is_superuser=True)
    assert await load_demo(db) == {"categories": 6, "articles": 60}

    articles = await Article.find().to_list(None)
    assert len(articles) == 60 and await Category.count() == 6
    assert {a.author for a in articles} == {boss.id}
    assert len({a.category for a in articles}) == 6
    published = sum(a.published for a in articles)
    assert 0 < published < 60
    assert len({a.title for a in articles}) == 60
    assert len({tag for a in articles for tag in a.tags}) >= 5
    dates = [a.created for a in articles]
    assert dates == sorted(dates, reverse=True)        # Meta.ordering: newest first
    assert len(set(dates)) == 60 and (dates[0] - dates[-1]).days > 30


async def test_loading_twice_changes_nothing(db, make_user):
    await make_user("boss", is_superuser=True)
    await load_demo(db)
    before = [(a.id, a.version) for a in await Article.find().to_list(None)]
    assert await load_demo(db) == {}
    assert [(a.id, a.version) for a in await Article.find().to_list(None)] == before
    assert await Category.count() == 6


async def test_any_existing_article_means_no_demo(db):
    await Article.create(title="My own")
    assert await load_demo(db) == {}
    assert await Article.count() == 1 and await Category.count() == 0


async def test_without_a_superuser_the_articles_have_no_author(db):
    await load_demo(db)
    assert await Article.count({"author": None}) == 60
