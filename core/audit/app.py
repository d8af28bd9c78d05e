"""The audit app: the ``audit.entry`` model, its read-only admin, and the history page
of every object (``/admin/<app>/<model>/<id>/history/``, ``HistoryHandler``), which
the admin mounts for every model while this app is installed."""
from core.i18n import gettext_lazy as _l
from core.registry import App

from .models import AuditEntry


class AuditApp(App):
    label = "audit"
    verbose_name = _l("Audit log")
    models = [AuditEntry]
    admin_object_pages = {"history": "core.audit.handlers.HistoryHandler"}
