"""An invoice holds a PDF (or text) document and an image scan."""
from core.models import FileField, ImageField, Model, fields


class Invoice(Model):
    number = fields.StringField(max_length=40, required=True)
    owner = fields.StringField(max_length=150)
    document = FileField(max_size=50_000)
    scan = ImageField()

    class Meta:
        app_label = "billing"          # the app's label, also when imported without it

    def __str__(self):
        return self.number
