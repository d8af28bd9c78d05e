"""The blog's models: keys, indexes, the author reference, tags, auto dates, unique names."""
import asyncio

import pytest

from apps.blog.models import Article, Category
from core.models import UniqueError, ValidationError


def test_keys_actions_and_list_page_indexes(registry):
    assert registry.get_model("blog.article") is Article
    assert registry.get_model("blog.category") is Category
    assert Article._meta.actions == ("read", "write", "delete", "export", "publish")
    assert Category._meta.actions == ("read", "write", "delete", "export")
    assert [index.keys for index in Article._meta.indexes] == [
        [("created", -1), ("_id", -1)],
        [("category", 1), ("created", -1), ("_id", -1)],
        [("published", 1), ("created", -1), ("_id", -1)],
        [("author", 1), ("created", -1), ("_id", -1)],
    ]
    assert [(index.name, index.unique) for index in Category._meta.indexes] == [("name_1", True)]


async def test_an_article_references_its_author_and_category_and_keeps_tags(db, make_user):
    alice = await make_user("alice")
    news = await Category.create(name="News", description="What changed.")
    article = await Article.create(title="  Hello  ", body="Body text", category=news,
                                   author=alice, tags="python, admin")
    stored = await Article.get(article.id)
    assert stored.title == "Hello"
    assert stored.author == alice.id and stored.category == news.id
    assert (await stored.get_related("author")).username == "alice"
    assert (await stored.get_related("category")).name == "News"
    assert stored.tags == ["python", "admin"]
    assert stored.published is False
    assert stored.created is not None and stored.updated is not None


async def test_created_stays_and_updated_moves_on_save(db):
    article = await Article.create(title="Draft")
    created, updated = article.created, article.updated
    await asyncio.sleep(0.01)
    article.published = True
    await article.save()
    again = await Article.get(article.id)
    assert again.created == created
    assert again.updated > updated
    assert again.version == 2


async def test_title_is_required_and_at_most_200_characters(db):
    with pytest.raises(ValidationError) as missing:
        await Article.create(body="no title")
    assert set(missing.value.errors) == {"title"}
    with pytest.raises(ValidationError) as long:
        await Article.create(title="x" * 201)
    assert set(long.value.errors) == {"title"}
    assert await Article.count() == 0
    assert (await Article.create(title="x" * 200)).title == "x" * 200


async def test_a_category_name_is_unique_by_index(db):
    await Category.create(name="News")
    with pytest.raises(UniqueError) as taken:
        await Category.create(name="News", description="again")
    assert taken.value.errors == {"name": "Category with this name already exists."}
    assert await Category.count() == 1


async def test_bad_references_are_field_errors(db):
    with pytest.raises(ValidationError) as bad:
        await Article.create(title="x", author="not-an-id", category={"$gt": ""})
    assert set(bad.value.errors) == {"author", "category"}
