"""``vault.box``: a name, a secret ``api_token``, notes, a size and an owner."""
from core.models import Model, fields


class Box(Model):
    name = fields.StringField(max_length=80, required=True)
    api_token = fields.StringField(max_length=80)
    notes = fields.TextField()
    size = fields.IntegerField(default=0)
    owner = fields.StringField(max_length=80)

    def __str__(self):
        return self.name or "(unnamed box)"
