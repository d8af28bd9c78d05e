"""The blog app: ``blog.article`` and ``blog.category``, their admin, and demo data."""
from core.i18n import gettext_lazy as _l
from core.registry import App


class BlogApp(App):
    label = "blog"
    verbose_name = _l("Blog")
    models = "apps.blog.models"

    async def first_run(self, run):
        """On a development server's first start: load the demo categories and articles,
        and the demo role ``authors`` (``write:own`` / ``delete:own``)."""
        from .demo import load_demo, load_demo_role
        created = await load_demo(run.db, author=run.state.get("superuser_id"))
        if created:
            run.say(f"Loaded the blog demo data: {created['categories']} categories, "
                    f"{created['articles']} articles.")
        if await load_demo_role(run.db):
            run.say("Added the demo role 'authors' (blog.article: read, write:own, "
                    "delete:own); assign it with manage.py assignrole USERNAME authors.")
