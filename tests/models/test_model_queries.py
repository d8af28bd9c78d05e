"""The async API on a real database: create/get/find/count/save/delete, versions, indexes."""
import datetime

import pytest
from bson import ObjectId
from pymongo.errors import DuplicateKeyError

import core.models
from core.models import (
    DatabaseNotBound, DoesNotExist, Index, Model, StaleObjectError, UniqueError,
    ValidationError, fields,
)

UTC = datetime.timezone.utc


class Article(Model):
    title = fields.StringField(max_length=100, required=True)
    slug = fields.StringField(unique=True, required=True)
    category = fields.ChoiceField(choices=[("news", "News"), ("blog", "Blog")], default="news")
    rank = fields.IntegerField(default=0)
    tags = fields.ListField()
    created = fields.DateTimeField(auto_now_add=True)
    modified = fields.DateTimeField(auto_now=True)

    class Meta:
        app_label = "testapp"
        ordering = ["-rank", "title"]
        indexes = [Index([("category", 1), ("created", -1)]),
                   Index([("category", 1), ("title", 1)], unique=True, name="cat_title")]


class Comment(Model):
    article = fields.ReferenceField("testapp.article", required=True)
    body = fields.TextField()

    class Meta:
        app_label = "testapp"


async def make_articles(*specs):
    return [await Article.create(title=title, slug=title.lower(), rank=rank)
            for title, rank in specs]


async def test_create_sets_id_version_defaults_and_timestamps(db):
    before = datetime.datetime.now(UTC) - datetime.timedelta(seconds=1)
    article = await Article.create(title=" Hello ", slug="hello", tags="a, b")
    assert isinstance(article.id, ObjectId)
    assert article.version == 1
    assert article.title == "Hello" and article.tags == ["a", "b"]
    assert article.category == "news" and article.rank == 0
    assert article.created >= before and article.created.tzinfo is not None
    stored = await db["testapp_article"].find_one({"_id": article.id})
    assert stored["version"] == 1 and stored["title"] == "Hello"
    assert stored["tags"] == ["a", "b"]


async def test_create_validates_before_writing(db):
    with pytest.raises(ValidationError) as info:
        await Article.create(title={"$gt": ""}, slug="x", rank="high")
    assert set(info.value.errors) == {"title", "rank"}
    assert await Article.count() == 0


async def test_get_round_trips_every_field(db):
    created = await Article.create(title="Hello", slug="hello", tags=["x"], rank=3)
    loaded = await Article.get(created.id)
    assert loaded == created
    assert (loaded.title, loaded.slug, loaded.rank, loaded.tags, loaded.version) == (
        "Hello", "hello", 3, ["x"], 1)
    assert loaded.created == created.created and loaded.created.tzinfo is not None
    assert await Article.get(str(created.id)) == created


@pytest.mark.parametrize("bad", ["", "nope", "0" * 23, "z" * 24, None, 42, {"$ne": None},
                                 ["0123456789abcdef01234567"]])
async def test_malformed_ids_return_none(db, bad):
    await Article.create(title="Hello", slug="hello")
    assert await Article.get(bad) is None


async def test_missing_id_returns_none(db):
    assert await Article.get(ObjectId()) is None


async def test_find_uses_meta_ordering_by_default(db):
    await make_articles(("Bravo", 1), ("Alpha", 1), ("Charlie", 5))
    titles = [a.title for a in await Article.find().to_list(None)]
    assert titles == ["Charlie", "Alpha", "Bravo"]


async def test_find_filter_sort_skip_limit_and_async_for(db):
    await make_articles(("A", 1), ("B", 2), ("C", 3), ("D", 4))
    page = await Article.find({"rank": {"$gte": 2}}, sort="title").skip(1).limit(2).to_list(10)
    assert [a.title for a in page] == ["C", "D"]
    assert all(isinstance(a, Article) for a in page)
    seen = [a.title async for a in Article.find().sort("rank", 1)]
    assert seen == ["A", "B", "C", "D"]
    assert [a.title for a in await Article.find(sort=["-title"]).to_list(2)] == ["D", "C"]


async def test_find_accepts_id_for_underscore_id(db):
    first, _ = await make_articles(("A", 1), ("B", 2))
    found = await Article.find({"id": first.id}).to_list(None)
    assert [a.title for a in found] == ["A"]
    assert (await Article.find_one({"$or": [{"id": first.id}]})).title == "A"


async def test_count_with_filter_and_limit(db):
    await make_articles(("A", 1), ("B", 2), ("C", 3))
    assert await Article.count() == 3
    assert await Article.count({"rank": {"$gt": 1}}) == 2
    assert await Article.count(limit=2) == 2


async def test_save_updates_and_bumps_the_version(db):
    article = await Article.create(title="Hello", slug="hello")
    first_modified = article.modified
    article.title = "Hello again"
    await article.save()
    assert article.version == 2
    assert article.modified >= first_modified
    stored = await Article.get(article.id)
    assert (stored.title, stored.version) == ("Hello again", 2)
    assert stored.created == article.created  # auto_now_add does not move


async def test_save_validates_updates_too(db):
    article = await Article.create(title="Hello", slug="hello")
    article.rank = {"$inc": 1}
    with pytest.raises(ValidationError) as info:
        await article.save()
    assert info.value.field == "rank"
    assert (await Article.get(article.id)).version == 1


async def test_concurrent_save_raises_stale_and_overwrites_nothing(db):
    article = await Article.create(title="Original", slug="orig")
    alice = await Article.get(article.id)
    bob = await Article.get(article.id)
    alice.title = "Alice's"
    await alice.save()
    bob.title = "Bob's"
    with pytest.raises(StaleObjectError) as info:
        await bob.save()
    error = info.value
    assert error.expected_version == 1
    assert error.current_version == 2
    assert error.current["title"] == "Alice's"
    assert error.id == article.id
    stored = await Article.get(article.id)
    assert (stored.title, stored.version) == ("Alice's", 2)
    assert bob.version == 1
    await bob.reload()
    assert (bob.title, bob.version) == ("Alice's", 2)
    bob.title = "Bob's, after reload"
    await bob.save()
    assert (await Article.get(article.id)).title == "Bob's, after reload"


async def test_saving_a_deleted_object_is_stale_with_no_current(db):
    article = await Article.create(title="Gone", slug="gone")
    other = await Article.get(article.id)
    assert await article.delete() is True
    other.title = "Zombie"
    with pytest.raises(StaleObjectError) as info:
        await other.save()
    assert info.value.current is None and info.value.current_version is None
    assert await Article.count() == 0


async def test_delete_and_reload_of_deleted(db):
    article = await Article.create(title="Bye", slug="bye")
    assert await article.delete() is True
    assert await Article.get(article.id) is None
    assert await article.delete() is False
    with pytest.raises(DoesNotExist):
        await article.reload()
    with pytest.raises(ValueError):
        await Article(title="x", slug="x").delete()


async def test_documents_without_version_are_saved_safely(db):
    oid = ObjectId()
    await db["testapp_article"].insert_one({"_id": oid, "title": "Raw", "slug": "raw",
                                            "extra": "kept"})
    raw = await Article.get(oid)
    assert raw.version is None and raw.category == "news"
    raw.title = "Edited"
    await raw.save()
    stored = await db["testapp_article"].find_one({"_id": oid})
    assert (stored["title"], stored["version"], stored["extra"]) == ("Edited", 1, "kept")


async def test_ensure_indexes_creates_declared_indexes(db):
    names = await Article.ensure_indexes()
    assert names == ["slug_1", "category_1_created_-1", "cat_title"]
    info = await db["testapp_article"].index_information()
    assert {"slug_1", "category_1_created_-1", "cat_title"} <= set(info)
    assert info["slug_1"]["unique"] is True
    assert await Article.ensure_indexes() == names  # idempotent


async def test_unique_violation_names_the_field_and_writes_nothing(db):
    await Article.ensure_indexes()
    await Article.create(title="One", slug="same")
    with pytest.raises(UniqueError) as info:
        await Article.create(title="Two", slug="same")
    error = info.value
    assert isinstance(error, ValidationError)
    assert error.field == "slug" and error.code == "unique"
    assert error.errors == {"slug": "Article with this slug already exists."}
    assert await Article.count() == 1


async def test_unique_violation_on_update(db):
    # FerretDB v1 reports this as OperationFailure (code 1); core.db.mongo turns it
    # into DuplicateKeyError, so the model sees the same error on every backend
    await Article.ensure_indexes()
    await Article.create(title="One", slug="one")
    two = await Article.create(title="Two", slug="two")
    two.slug = "one"
    with pytest.raises(UniqueError) as info:
        await two.save()
    assert info.value.field == "slug"
    stored = await Article.get(two.id)
    assert (stored.slug, stored.version) == ("two", 1)


async def test_compound_unique_violation_is_a_non_field_error(db):
    await Article.ensure_indexes()
    await Article.create(title="Same", slug="a", category="blog")
    with pytest.raises(UniqueError) as info:
        await Article.create(title="Same", slug="b", category="blog")
    assert info.value.field is None
    assert info.value.errors == {
        "__all__": "Article with this category and title already exists."}


async def test_unsaved_object_keeps_no_id_after_a_failed_insert(db):
    await Article.ensure_indexes()
    await Article.create(title="One", slug="one")
    dup = Article(title="Dup", slug="one")
    with pytest.raises(UniqueError):
        await dup.save()
    assert dup.id is None and dup.version is None
    dup.slug = "fresh"
    await dup.save()
    assert dup.version == 1 and await Article.count() == 2


async def test_reference_field_and_get_related(db):
    article = await Article.create(title="Hello", slug="hello")
    comment = await Comment.create(article=str(article.id), body="Nice")
    stored = await db["testapp_comment"].find_one({"_id": comment.id})
    assert stored["article"] == article.id and isinstance(stored["article"], ObjectId)
    assert await comment.get_related("article") == article
    with pytest.raises(ValidationError) as info:
        await Comment.create(article="nonsense")
    assert info.value.field == "article"


async def test_unbound_use_is_a_clear_error():
    previous = core.models.unbind()
    try:
        with pytest.raises(DatabaseNotBound, match="bind"):
            await Article.get(ObjectId())
        with pytest.raises(DatabaseNotBound):
            await Article.create(title="x", slug="x")
        with pytest.raises(TypeError):
            core.models.bind("memory:")
    finally:
        if previous is not None:
            core.models.bind(previous)


async def test_using_and_db_keyword_target_another_database(db, memory_db):
    other = Article.using(memory_db)
    article = await other.create(title="Elsewhere", slug="elsewhere")
    assert await Article.count() == 0
    assert await other.count() == 1
    assert await Article.count(db=memory_db) == 1
    loaded = await other.get(article.id)
    loaded.title = "Still elsewhere"
    await loaded.save()  # saves where it came from
    assert (await Article.get(article.id, db=memory_db)).title == "Still elsewhere"
    assert await Article.get(article.id) is None
    made = other(title="Built", slug="built")
    await made.save()
    assert await other.find_one({"slug": "built"}) == made
    assert [a.slug for a in await other.find(sort="slug").to_list(None)] == [
        "built", "elsewhere"]


FERRET_MESSAGE = "E11000 duplicate key error collection: db.testapp_article"


@pytest.mark.parametrize("message, details", [
    # MongoDB and the embedded store: keyPattern and the index name
    ("E11000 duplicate key error collection: db.testapp_article index: slug_1 dup key: "
     "{ slug: \"taken\" }",
     {"code": 11000, "keyPattern": {"slug": 1}, "keyValue": {"slug": "taken"}}),
    # keyPattern only
    ("E11000 duplicate key error", {"code": 11000, "keyPattern": {"slug": 1}}),
    # the index name in the message only
    ("E11000 duplicate key error collection: db.testapp_article index: slug_1", None),
    # FerretDB v1: neither (the model finds the colliding document)
    (FERRET_MESSAGE, {"index": 0, "code": 11000, "errmsg": FERRET_MESSAGE}),
], ids=["mongodb", "key-pattern", "index-name", "ferretdb"])
async def test_every_duplicate_key_error_shape_names_the_field(db, message, details):
    await Article.create(title="One", slug="taken")
    clash = Article(title="Two", slug="taken", id=ObjectId())
    clash.clean()
    exc = DuplicateKeyError(message, 11000, details)
    error = await clash._unique_error(exc, Article.get_collection())
    assert isinstance(error, UniqueError)
    assert error.errors == {"slug": "Article with this slug already exists."}
    assert error.index == "slug_1"


async def test_reusing_an_existing_id_is_a_unique_error(db):
    first = await Article.create(title="One", slug="one")
    copy = Article(id=first.id, title="Copy", slug="copy")
    with pytest.raises(UniqueError) as info:
        await copy.save()
    assert info.value.errors == {"__all__": "Article with this id already exists."}
    assert (await Article.get(first.id)).title == "One"


# -- projected objects (find(..., fields=...)) ------------------------------------------------

class Event(Model):
    name = fields.StringField()
    day = fields.DateField()
    starts = fields.DateTimeField()
    secret = fields.StringField(default="")

    class Meta:
        app_label = "testapp"


async def test_a_projected_find_fetches_only_the_fields_asked(db):
    """The store projects (``secret`` never reaches the object); values are as
    ``from_bson`` would give them (a date stays a date, a moment is aware UTC)."""
    moment = datetime.datetime(2024, 5, 1, 12, 30, 15, 123000, tzinfo=UTC)
    event = await Event.create(name="Launch", day=datetime.date(2024, 5, 1), starts=moment,
                               secret="the code")
    [projected] = await Event.find({"_id": event.id}, fields=["name", "day", "starts"]) \
        .to_list(None)
    assert projected.id == event.id and projected.version == 1
    assert projected.name == "Launch" and projected.day == datetime.date(2024, 5, 1)
    assert projected.starts == moment and projected.starts.tzinfo is not None
    assert "secret" not in projected._stored and "secret" not in projected._data
    assert set(projected._stored) == {"_id", "version", "name", "day", "starts"}
    with pytest.raises(core.models.NotFetched):
        projected.secret                       # never a silent None
    async for item in Event.find({}, fields=["name"]):
        assert item.name == "Launch" and item._projected == {"name"}


async def test_a_projected_object_cannot_be_saved_or_deleted(db):
    event = await Event.create(name="Launch", secret="the code")
    [projected] = await Event.find({}, fields=["name"]).to_list(None)
    projected.name = "Renamed"
    with pytest.raises(core.models.ProjectedObjectError):
        await projected.save()
    with pytest.raises(core.models.ProjectedObjectError):
        await projected.delete()
    stored = await db["testapp_event"].find_one({"_id": event.id})
    assert stored["name"] == "Launch" and stored["secret"] == "the code"
    assert stored["version"] == 1
    await projected.reload()                   # whole again: may be saved
    projected.name = "Renamed"
    await projected.save()
    assert (await Event.get(event.id)).secret == "the code"
