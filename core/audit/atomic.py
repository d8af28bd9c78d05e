"""Writing an object and its audit entry together: ``audited``.

    from core.audit import audited

    async with audited(handler, "update", obj=article, model_admin=admin) as entry:
        await admin.save_model(handler, article, form, True)
        entry.changes = diff(before, snapshot(article))

On normal exit the entry is recorded; if the block raises, nothing is recorded and
the exception propagates.
"""
import contextlib

from .api import record_request

__all__ = ["audited"]


class PendingEntry:
    """What the ``audited`` block may fill in before the entry is recorded."""

    def __init__(self, action, obj, changes, extra):
        self.action = action
        self.obj = obj
        self.changes = changes
        self.extra = dict(extra)
        self.entry = None            # the saved AuditEntry, after the block


@contextlib.asynccontextmanager
async def audited(handler, action, *, obj, model_admin=None, changes=None, **extra):
    """Run the block's write(s) and record the audit entry when it exits normally."""
    admin = model_admin if model_admin is not None else getattr(handler, "model_admin", None)
    pending = PendingEntry(action, obj, changes, extra)
    yield pending
    kw = dict(pending.extra)
    if admin is not None and "model_key" not in kw:
        kw["model_key"] = admin.key
    pending.entry = await record_request(handler, action, obj=pending.obj,
                                         changes=pending.changes, **kw)
