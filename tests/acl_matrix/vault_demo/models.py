"""A dossier holds one document; its owner is whoever created it."""
from core.models import FileField, Model, fields


class Dossier(Model):
    title = fields.StringField(max_length=100, required=True)
    owner = fields.ReferenceField("accounts.user")
    document = FileField(max_size=50_000)

    class Meta:
        app_label = "vault"          # the app's label, also when imported without it

    def __str__(self):
        return self.title
