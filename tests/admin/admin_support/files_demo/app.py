"""A test app for files in the admin: invoices with a document and a scan."""
from core.registry import App


class FilesDemoApp(App):
    label = "billing"
    verbose_name = "Billing"
    models = "files_demo.models"
