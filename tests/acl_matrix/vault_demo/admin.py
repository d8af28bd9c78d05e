"""Dossiers in the admin: the ``own`` scope (``read:own``, ``write:own``) is the owner's."""
from core.admin import ModelAdmin, register

from .models import Dossier


@register(Dossier)
class DossierAdmin(ModelAdmin):
    list_display = ["title", "document"]
    readonly_fields = ["owner"]
    scopes = {"own": lambda handler: {"owner": getattr(handler.current_user, "id", None)}}

    async def before_save(self, handler, obj, change):
        """A new dossier's owner is whoever creates it (so it is in their ``own`` scope)."""
        if not change and handler.current_user is not None:
            obj.owner = handler.current_user.id
