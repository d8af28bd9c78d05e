"""The audit app: the ``audit.entry`` model and its read-only admin.

The history pages (``/admin/<app>/<model>/<id>/history/``) are mounted by the
admin for every model (``core.admin.routes``) with ``core.audit.handlers.HistoryHandler``.
"""
from core.registry import App

from .models import AuditEntry


class AuditApp(App):
    label = "audit"
    verbose_name = "Audit log"
    models = [AuditEntry]
