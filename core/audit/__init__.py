"""The audit log: who did what, when, to which object (an installed core app, label ``audit``).

    from core.audit import audited, record, record_request, diff, snapshot, history, latest_change

Entries live in the ``audit_log`` collection as ``AuditEntry`` objects (model key
``audit.entry``) and are append-only. See ``docs/audit.md``.
"""
from .api import (REDACTED, SECRET_FIELDS, diff, history, is_secret,  # noqa: F401
                  latest_change, record, record_request, redact, snapshot)
from .atomic import audited, count_pending, repair_pending  # noqa: F401
from .models import ACTIONS, AuditEntry, ReadOnlyEntryError, register_action  # noqa: F401

__all__ = [
    "ACTIONS", "AuditEntry", "REDACTED", "ReadOnlyEntryError", "SECRET_FIELDS", "audited",
    "count_pending", "diff", "repair_pending",
    "history", "is_secret", "latest_change", "record", "record_request", "redact",
    "register_action", "snapshot",
]
