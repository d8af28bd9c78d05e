"""Trips listed, filtered and sorted by paths into their stops."""
from core.admin import ModelAdmin, register

from .models import Guide, Trip


@register(Guide)
class GuideAdmin(ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@register(Trip)
class TripAdmin(ModelAdmin):
    list_display = ["title", "stop.place", "stop.guide", "stop.arrives", "stops.place"]
    list_filter = ["stop.place", "stop.booked", "stop.arrives", "stop.day", "stop.guide",
                   "stops.place"]
    ordering = ["title"]
    readonly_fields = ["stops.booked"]        # set by the booking system, never by hand
