"""The shop app: ``shop.customer`` and ``shop.order``."""
from core.registry import App


class ShopApp(App):
    label = "shop"
    verbose_name = "Shop"
    models = "apps.shop.models"
