from core.models import Model, fields


class Product(Model):
    name = fields.StringField(required=True)
    author = fields.StringField()

    class Meta:
        extra_actions = ("publish",)
