from core.registry import App


class ShopApp(App):
    label = "shop"
    models = "acl_shop.models"
