"""Boxes owned by someone else are outside a non-superuser's rows (row scoping)."""
from core.admin import ModelAdmin, register

from .models import Box


@register(Box)
class BoxAdmin(ModelAdmin):
    list_display = ["name", "size"]

    def has_object_permission(self, handler, action, obj):
        return obj.owner in (None, "", handler.current_user.username)
