"""``Category`` and ``Article``: the demo app's models (keys ``blog.category``, ``blog.article``).

The indexes serve the admin's list page: newest first, optionally narrowed to one
category, one published state or one author.
"""
from core.i18n import gettext_lazy as _l
from core.models import Index, Model, fields

#: the name of ``Article``'s extra action as pages show it (listed for the catalogs)
ACTION_NAMES = (_l("publish"),)


class Category(Model):
    """A named group of articles; names are unique (by index)."""

    name = fields.StringField(max_length=100, required=True, unique=True,
                              verbose_name=_l("name"))
    description = fields.TextField(verbose_name=_l("description"))

    class Meta:
        ordering = ["name"]
        verbose_name = _l("category")
        verbose_name_plural = _l("categories")

    def __str__(self):
        return self.name or str(_l("(unnamed category)"))


class Article(Model):
    """A blog article. ``author`` is set by the admin to whoever creates it."""

    title = fields.StringField(max_length=200, required=True, verbose_name=_l("title"))
    body = fields.TextField(verbose_name=_l("body"))
    published = fields.BooleanField(default=False, verbose_name=_l("published"))
    category = fields.ReferenceField("blog.category", verbose_name=_l("category"))
    author = fields.ReferenceField("accounts.user", verbose_name=_l("author"))
    tags = fields.ListField(fields.StringField(max_length=50), max_items=20,
                            verbose_name=_l("tags"))
    created = fields.DateTimeField(auto_now_add=True, editable=False,
                                   verbose_name=_l("created"))
    updated = fields.DateTimeField(auto_now=True, editable=False,
                                   verbose_name=_l("updated"))

    class Meta:
        ordering = ["-created"]
        verbose_name = _l("article")
        verbose_name_plural = _l("articles")
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
        return self.title or str(_l("(untitled article)"))
