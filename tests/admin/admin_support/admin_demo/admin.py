"""How the test models appear in the admin."""
from core.admin import ModelAdmin, action, register

from .models import Category, Note


@register(Category)
class CategoryAdmin(ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@register(Note)
class NoteAdmin(ModelAdmin):
    list_display = ["title", "category", "done", "rank", "created"]
    search_fields = ["title", "body"]
    list_filter = ["done", "kind", "category"]
    sortable_fields = ["title", "rank", "created"]
    readonly_fields = ["owner"]
    actions = ["delete_selected", "mark_done"]

    def has_object_permission(self, handler, action, obj):
        # only the note's owner may delete it (superusers bypass every rule)
        return action != "delete" or obj.owner == handler.current_user.username

    async def save_model(self, handler, obj, form, change):
        if not change:
            obj.owner = handler.current_user.username
        await super().save_model(handler, obj, form, change)

    @action(permission="write", label="Mark selected notes done")
    async def mark_done(self, handler, objects):
        for note in objects:
            note.done = True
            await self.save_model(handler, note, None, True)
        return f"Marked {len(objects)} done."
