"""Two models for the login tests: the landing page lists what the user may read."""
from core.models import Model, fields


class Widget(Model):
    name = fields.StringField(max_length=80)


class Gadget(Model):
    name = fields.StringField(max_length=80)
