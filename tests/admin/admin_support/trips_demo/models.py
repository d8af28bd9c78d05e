"""A trip has a main stop (a sub-document holding a choice, a boolean, a datetime, a
date and a reference) and a list of further stops."""
from core.models import Model, fields

PLACES = [("lyon", "Lyon"), ("nice", "Nice"), ("oslo", "Oslo")]


class Guide(Model):
    name = fields.StringField(max_length=100, required=True)

    class Meta:
        app_label = "trips"

    def __str__(self):
        return self.name


class Stop(fields.SubDocument):
    place = fields.ChoiceField(choices=PLACES, required=True)
    booked = fields.BooleanField(default=False)
    arrives = fields.DateTimeField()
    day = fields.DateField()
    guide = fields.ReferenceField(Guide)


class Trip(Model):
    title = fields.StringField(max_length=100, required=True)
    stop = fields.EmbeddedField(Stop)
    stops = fields.ListField(Stop)

    class Meta:
        app_label = "trips"

    def __str__(self):
        return self.title
