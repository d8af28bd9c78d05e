"""The shop app: ``shop.customer`` and ``shop.order``."""
from core.i18n import gettext_lazy as _l
from core.registry import App


class ShopApp(App):
    label = "shop"
    verbose_name = _l("Shop")
    models = "apps.shop.models"

    async def first_run(self, run):
        """On a development server's first start: load the demo customers and orders."""
        from .demo import load_demo
        created = await load_demo(run.db)
        if created:
            run.say(f"Loaded the shop demo data: {created['customers']} customers, "
                    f"{created['orders']} orders.")
