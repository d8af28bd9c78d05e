"""The metaclass, ``_meta`` (Options), ``Index`` and instances without a database."""
import types

import pytest
from bson import ObjectId

from core.models import (
    DEFAULT_ACTIONS, Index, Model, ValidationError, all_models, fields, get_model,
)
from core.models.errors import ImproperlyConfigured
from core.models.options import app_label_from_module, verbose_from_class_name


def make_model(name, module, attrs):
    """Build a model class as if it were defined in ``module``."""
    namespace = {"__module__": module, **attrs}
    return types.new_class(name, (Model,), exec_body=lambda ns: ns.update(namespace))


class BlogPost(Model):
    title = fields.StringField(max_length=200, required=True)
    slug = fields.StringField(unique=True)
    category = fields.StringField(index=True)
    created = fields.DateTimeField(auto_now_add=True)
    tags = fields.ListField()

    class Meta:
        app_label = "testapp"
        ordering = ["-created", "title"]
        indexes = [Index([("category", 1), ("created", -1)])]
        extra_actions = ("publish", "export")


def test_fields_are_collected_in_declaration_order():
    assert list(BlogPost._meta.fields) == ["title", "slug", "category", "created", "tags"]
    assert BlogPost._meta.get_field("slug") is BlogPost.slug
    assert BlogPost.slug.name == "slug" and BlogPost.slug.model is BlogPost
    with pytest.raises(KeyError, match="BlogPost has no field 'nope'"):
        BlogPost._meta.get_field("nope")


def test_names_key_and_collection():
    meta = BlogPost._meta
    assert (meta.app_label, meta.model_name, meta.key) == ("testapp", "blogpost",
                                                           "testapp.blogpost")
    assert meta.collection == "testapp_blogpost"
    assert meta.verbose_name == "blog post"
    assert meta.verbose_name_plural == "blog posts"


def test_actions_default_and_extra():
    assert BlogPost._meta.actions == ("read", "write", "delete", "export", "publish")
    assert BlogPost._meta.extra_actions == ("publish",)          # export is a default one

    class Plain(Model):
        class Meta:
            app_label = "testapp"

    assert Plain._meta.actions == DEFAULT_ACTIONS == ("read", "write", "delete", "export")


def test_ordering_becomes_a_sort_spec():
    assert BlogPost._meta.ordering == ["-created", "title"]
    assert BlogPost._meta.sort == [("created", -1), ("title", 1)]


def test_indexes_from_fields_and_meta():
    indexes = {index.name: index for index in BlogPost._meta.indexes}
    assert set(indexes) == {"slug_1", "category_1", "category_1_created_-1"}
    assert indexes["slug_1"].unique is True
    assert indexes["category_1"].unique is False
    assert indexes["category_1_created_-1"].keys == [("category", 1), ("created", -1)]


def test_index_forms():
    assert Index("slug", unique=True).keys == [("slug", 1)]
    assert Index("-created").keys == [("created", -1)]
    assert Index(["category", "-created"]).name == "category_1_created_-1"
    assert Index("id").keys == [("_id", 1)]
    assert Index("a", name="custom").name == "custom"
    with pytest.raises(ImproperlyConfigured):
        Index([])
    with pytest.raises(ImproperlyConfigured):
        Index([("a", 2)])


def test_meta_overrides():
    class Entry(Model):
        name = fields.StringField()

        class Meta:
            app_label = "testapp"
            collection = "journal"
            verbose_name = "journal entry"
            verbose_name_plural = "journal entries"

    assert Entry._meta.collection == "journal"
    assert str(Entry(id=ObjectId("0123456789abcdef01234567"))) == (
        "journal entry 0123456789abcdef01234567")
    assert Entry._meta.verbose_name_plural == "journal entries"


def test_app_label_is_derived_from_the_module():
    Article = make_model("Article", "apps.blog.models", {})
    assert Article._meta.app_label == "blog"
    assert Article._meta.key == "blog.article"
    assert Article._meta.collection == "blog_article"
    assert app_label_from_module("apps.shop.models.order") == "shop"
    assert app_label_from_module("inventory.models") == "inventory"
    assert app_label_from_module("scripts") == "scripts"


def test_app_label_may_be_set_later_by_a_registry():
    Widget = make_model("Widget", "somewhere.models", {})
    Widget._meta.app_label = "gadgets"
    assert Widget._meta.key == "gadgets.widget"
    assert Widget._meta.collection == "gadgets_widget"
    assert get_model("gadgets.widget") is Widget


def test_verbose_names_from_class_names():
    assert verbose_from_class_name("BlogPost") == "blog post"
    assert verbose_from_class_name("HTTPLog") == "http log"
    assert verbose_from_class_name("User") == "user"


def test_get_model_and_all_models():
    assert get_model("testapp.blogpost") is BlogPost
    assert get_model("TestApp.BlogPost") is BlogPost
    assert BlogPost in all_models()
    with pytest.raises(LookupError):
        get_model("testapp.nothing")


def test_bad_declarations_fail_when_the_class_is_defined():
    with pytest.raises(ImproperlyConfigured, match="unknown option"):
        class Typo(Model):
            class Meta:
                app_label = "testapp"
                orderng = ["x"]
    with pytest.raises(ImproperlyConfigured, match="unknown field 'nope'"):
        class BadOrder(Model):
            class Meta:
                app_label = "testapp"
                ordering = ["-nope"]
    with pytest.raises(ImproperlyConfigured, match="unknown field 'nope'"):
        class BadIndex(Model):
            class Meta:
                app_label = "testapp"
                indexes = [Index("nope")]
    with pytest.raises(ImproperlyConfigured, match="clashes with Model.save"):
        class Clash(Model):
            save = fields.StringField()
    with pytest.raises(ImproperlyConfigured, match="may not start with"):
        class Reserved(Model):
            version = fields.IntegerField()
    with pytest.raises(ImproperlyConfigured, match="action names"):
        class BadAction(Model):
            class Meta:
                app_label = "testapp"
                extra_actions = ("Publish Now",)


def test_abstract_models_share_fields_and_meta():
    class Stamped(Model):
        created = fields.DateTimeField(auto_now_add=True)

        class Meta:
            abstract = True
            ordering = ["-created"]

    class Note(Stamped):
        text = fields.TextField()

        class Meta:
            app_label = "testapp"

    assert list(Note._meta.fields) == ["created", "text"]
    assert Note._meta.ordering == ["-created"]
    assert Note._meta.fields["created"] is not Stamped._meta.fields["created"]
    assert Note._meta.fields["created"].model is Note
    with pytest.raises(TypeError, match="abstract"):
        Stamped()

    class Undated(Stamped):
        created = None
        text = fields.TextField()

        class Meta:
            app_label = "testapp"
            ordering = ["text"]      # the inherited ordering names the dropped field

    assert list(Undated._meta.fields) == ["text"]
    assert "created" not in Undated(text="x").to_bson()
    with pytest.raises(LookupError):
        get_model(Stamped._meta.key)


def test_instances_take_defaults_and_refuse_unknown_fields():
    post = BlogPost(title="Hi")
    assert post.id is None and post.version is None
    assert post.tags == [] and post.slug is None
    with pytest.raises(TypeError, match="unknown field"):
        BlogPost(titel="typo")
    with pytest.raises(ValueError):
        BlogPost(id="not-an-id")
    assert BlogPost(id=str(ObjectId("0123456789abcdef01234567"))).id == ObjectId(
        "0123456789abcdef01234567")


def test_clean_collects_every_field_error_and_converts_values():
    post = BlogPost(title="", slug={"$gt": ""}, tags="a, b")
    with pytest.raises(ValidationError) as info:
        post.clean()
    assert set(info.value.errors) == {"title", "slug"}
    assert "required" in info.value.errors["title"]
    assert post.tags == ["a", "b"]  # valid fields were converted in place
    post.title, post.slug = " Hello ", "hello"
    post.clean()
    assert post.title == "Hello"


def test_clean_hook_adds_cross_field_rules():
    class Period(Model):
        start = fields.IntegerField(required=True)
        end = fields.IntegerField(required=True)

        class Meta:
            app_label = "testapp"

        def clean(self):
            super().clean()
            if self.end < self.start:
                raise ValidationError("Must not be before start.", field="end")

    with pytest.raises(ValidationError) as info:
        Period(start="5", end="3").clean()
    assert info.value.errors == {"end": "Must not be before start."}
    Period(start="3", end="5").clean()


def test_to_bson_from_bson_round_trip_keeps_unknown_keys():
    oid = ObjectId()
    doc = {"_id": oid, "version": 3, "title": "T", "slug": "t", "category": None,
           "created": None, "tags": ["x"], "legacy": {"kept": True}}
    post = BlogPost.from_bson(doc)
    assert (post.id, post.version, post.title, post.tags) == (oid, 3, "T", ["x"])
    assert post.to_bson() == doc
    assert post.to_json()["id"] == str(oid)


def test_missing_fields_in_stored_documents_take_defaults():
    post = BlogPost.from_bson({"_id": ObjectId(), "title": "old"})
    assert post.tags == [] and post.version is None


def test_str_and_display():
    class Ticket(Model):
        status = fields.ChoiceField(choices=[("open", "Open"), ("done", "Done")])

        class Meta:
            app_label = "testapp"

        def __str__(self):
            return f"Ticket ({self.get_display('status')})"

    assert str(Ticket(status="done")) == "Ticket (Done)"
    assert str(BlogPost()) == "blog post (unsaved)"
