"""A test app for the admin: categories and notes (with an owner rule and a bulk action)."""
from core.registry import App


class AdminDemoApp(App):
    label = "notes"
    verbose_name = "Notes"
    models = "admin_demo.models"
