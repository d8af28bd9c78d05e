"""How the desk models appear in the admin: the everyday options, declared."""
from core.admin import ModelAdmin, SimpleListFilter, register

from .models import Post, Writer


class LengthFilter(SimpleListFilter):
    """A custom filter: low or high scores."""

    title = "rating"
    parameter_name = "rating"

    def lookups(self, ctx):
        return [("low", "Low (under 10)"), ("high", "High (10 and over)")]

    def filter(self, ctx, value):
        return {"score": {"$lt": 10}} if value == "low" else {"score": {"$gte": 10}}


@register(Writer)
class WriterAdmin(ModelAdmin):
    list_display = ["name", "handle", "team"]
    search_fields = ["name", "^handle"]

    def get_base_filter(self, handler):
        """A row scope: a user named ``<team>-...`` sees the writers of that team only."""
        name = getattr(handler.current_user, "username", "") or ""
        return {"team": name.split("-", 1)[0]} if "-" in name else {}


@register(Post)
class PostAdmin(ModelAdmin):
    list_display = ["title", "writer", "kind", "live", "score", "published"]
    search_fields = ["title", "=sku", "writer__name", "^writer__handle"]
    list_filter = ["live", "kind", "writer", "tags", "colours", "score", "published",
                   LengthFilter]
    date_hierarchy = "published"
    autocomplete_fields = ["writer"]
    list_editable = ["kind", "live", "score"]
    sortable_fields = ["title", "score", "published"]
