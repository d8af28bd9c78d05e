"""How the blog's models appear in the admin (imported by the registry once apps load).

``ArticleAdmin`` declares the scope ``own`` (the articles whose author is the current
user), so a grant may say ``"write:own"`` / ``"delete:own"`` (the demo's ``authors``
role). The seed's rule stays an object rule on top: whatever the grant, only an
article's author (or a superuser) deletes it.
"""
from core.admin import ModelAdmin, action, register
from core.i18n import gettext_lazy as _l
from core.i18n import ngettext

from .models import Article, Category


@register(Article)
class ArticleAdmin(ModelAdmin):
    list_display = ["title", "category", "author", "published", "created"]
    search_fields = ["title", "body"]
    list_filter = ["published", "category"]
    ordering = ["-created"]
    readonly_fields = ["author", "created", "updated"]
    actions = ["delete_selected", "publish"]
    scopes = {"own": lambda handler: {"author": getattr(handler.current_user, "id", None)}}

    def has_object_permission(self, handler, action, obj):
        """Only an article's author may delete it (superusers bypass every object rule)."""
        if action == "delete":
            user = handler.current_user
            return user is not None and obj.author is not None and obj.author == user.id
        return True

    async def before_save(self, handler, obj, change):
        """A new article's author is whoever creates it (set before the scope check, so a
        ``write:own`` author may create articles: they are their own)."""
        if not change and handler.current_user is not None:
            obj.author = handler.current_user.id

    @action(permission="publish", label=_l("Publish selected articles"))
    async def publish(self, handler, objects):
        """Mark the selected articles published; returns the message for the page."""
        changed = 0
        for article in objects:
            if not article.published:
                article.published = True
                await article.save(db=handler.db)
                changed += 1
        return ngettext("Published %(count)d article.", "Published %(count)d articles.",
                        changed) % {"count": changed}


@register(Category)
class CategoryAdmin(ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name"]
    ordering = ["name"]
