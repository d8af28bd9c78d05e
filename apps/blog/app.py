"""The blog app: ``blog.article`` and ``blog.category``, their admin, and demo data."""
from core.registry import App


class BlogApp(App):
    label = "blog"
    verbose_name = "Blog"
    models = "apps.blog.models"

    async def first_run(self, run):
        """On a development server's first start: load the demo categories and articles."""
        from .demo import load_demo
        created = await load_demo(run.db, author=run.state.get("superuser_id"))
        if created:
            run.say(f"Loaded the blog demo data: {created['categories']} categories, "
                    f"{created['articles']} articles.")
