"""Models for the everyday-tools tests: writers and posts (every filterable field kind)."""
from core.models import Index, Model, fields


class Writer(Model):
    name = fields.StringField(max_length=80, required=True)
    handle = fields.StringField(max_length=40, required=True, unique=True)
    team = fields.StringField(max_length=40)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Post(Model):
    title = fields.StringField(max_length=120, required=True)
    sku = fields.StringField(max_length=20)
    body = fields.TextField()
    kind = fields.ChoiceField(choices=[("news", "News"), ("howto", "How-to")], default="news")
    live = fields.BooleanField()
    score = fields.IntegerField(min_value=0, max_value=1000)
    writer = fields.ReferenceField(Writer)
    tags = fields.ListField()
    colours = fields.ListField(choices=[("red", "Red"), ("blue", "Blue")])
    published = fields.DateTimeField()
    created = fields.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        indexes = [Index(["-created", "-id"]), Index(["published", "-id"])]

    def __str__(self):
        return self.title
