"""Helpers for the users-and-roles admin tests (the forms and addresses are
``support.accounts``, the page readers ``support.pages``)."""


async def audit_entries(site, action, object_id):
    """The audit entries of ``action`` on ``object_id``, oldest first."""
    from core.audit import AuditEntry
    return await AuditEntry.find({"action": action, "object_id": str(object_id)},
                                 sort=["at"], db=site.db).to_list(None)
