"""Models for the admin tests: every field kind the generated forms handle."""
from core.models import Index, Model, fields


class Category(Model):
    name = fields.StringField(max_length=80, required=True, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class Note(Model):
    title = fields.StringField(max_length=120, required=True)
    body = fields.TextField()
    kind = fields.ChoiceField(choices=[("memo", "Memo"), ("todo", "To do")], default="memo")
    done = fields.BooleanField()
    rank = fields.IntegerField(min_value=0, max_value=1000)
    category = fields.ReferenceField(Category)
    owner = fields.StringField(max_length=150)
    tags = fields.ListField()
    due = fields.DateTimeField()
    created = fields.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        indexes = [Index(["-created", "-id"])]        # the list's sort, tie-breaker included

    def __str__(self):
        return self.title


class HiddenField(fields.StringField):
    """Like the accounts app's password hash: generic pages never show it."""
    hidden = True


class Plain(Model):
    """No ModelAdmin registered: the plain one serves it."""
    name = fields.StringField(max_length=40)
    score = fields.FloatField()
    api_token = fields.StringField(max_length=80)
    key_hash = HiddenField(max_length=80)
