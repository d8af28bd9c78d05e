"""A test app: two models and two JSON routes that need a logged-in user."""
from core.auth.mixins import login_required
from core.handlers.base import BaseHandler
from core.registry import App


class WhoAmI(BaseHandler):
    """Needs a user for every method (the class attribute)."""

    login_required = True

    def get(self):
        self.write_json({"username": self.current_user.username,
                         "readable": self.permissions.readable_models()})


class Mixed(BaseHandler):
    """GET is public; POST needs a user (the decorator)."""

    def get(self):
        user = self.current_user
        self.write_json({"username": user.username if user else None})

    @login_required
    async def post(self):
        self.write_json({"posted_by": self.current_user.username})


class AuthDemoApp(App):
    label = "demo"
    models = "auth_demo.models"

    def get_routes(self):
        return [(r"/api/demo/whoami", WhoAmI), (r"/demo/whoami", WhoAmI),
                (r"/api/demo/mixed", Mixed)]
