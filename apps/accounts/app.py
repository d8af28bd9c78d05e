"""The accounts app: ``User`` and ``Role`` models and the user/permission commands."""
from core.registry import App


class AccountsApp(App):
    label = "accounts"
    verbose_name = "Accounts"
    models = "apps.accounts.models"
    commands = "apps.accounts.commands"
