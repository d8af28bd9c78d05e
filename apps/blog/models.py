"""``Category`` and ``Article``: the demo app's models (keys ``blog.category``, ``blog.article``).

The indexes serve the admin's list page: newest first, optionally narrowed to one
category, one published state or one author.
"""
from core.models import Index, Model, fields


class Category(Model):
    """A named group of articles; names are unique (by index)."""

    name = fields.StringField(max_length=100, required=True, unique=True)
    description = fields.TextField()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name or "(unnamed category)"


class Article(Model):
    """A blog article. ``author`` is set by the admin to whoever creates it."""

    title = fields.StringField(max_length=200, required=True)
    body = fields.TextField()
    published = fields.BooleanField(default=False)
    category = fields.ReferenceField("blog.category")
    author = fields.ReferenceField("accounts.user")
    tags = fields.ListField(fields.StringField(max_length=50), max_items=20)
    created = fields.DateTimeField(auto_now_add=True, editable=False)
    updated = fields.DateTimeField(auto_now=True, editable=False)

    class Meta:
        ordering = ["-created"]
        extra_actions = ("publish",)
        # each list-page order with its _id tie-breaker, so keyset pages read
        # the index in order: page 1,000 costs what page 1 costs
        indexes = [
            Index(["-created", "-id"]),
            Index(["category", "-created", "-id"]),
            Index(["published", "-created", "-id"]),
            Index(["author", "-created", "-id"]),
        ]

    def __str__(self):
        return self.title or "(untitled article)"
