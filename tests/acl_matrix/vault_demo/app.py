"""The vault test app (``vault.dossier``)."""
from core.registry import App


class VaultDemoApp(App):
    label = "vault"
    verbose_name = "Vault"
    models = "vault_demo.models"
