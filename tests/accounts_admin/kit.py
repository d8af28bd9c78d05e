"""Helpers for the users-and-roles admin tests."""
import html
import re

from admin_kit import PASSWORD  # noqa: F401  (re-exported for the tests)

USERS = "/admin/accounts/user/"
ROLES = "/admin/accounts/role/"
HASH_RE = re.compile(r"\$2[aby]?\$\d\d\$[./A-Za-z0-9]{20,}")


def boxes(permissions):
    """The matrix checkbox values for a permissions dict."""
    return [("permissions", f"{key}:{action}")
            for key, actions in permissions.items() for action in actions]


def user_form(user, permissions=None, roles=None, **changes):
    """A change-form post for ``user`` as a list of pairs (unchanged unless told)."""
    fields = {"username": user.username, "email": user.email, "_version": str(user.version)}
    if user.is_active:
        fields["is_active"] = "y"
    fields.update(changes)
    pairs = [(name, value) for name, value in fields.items() if value is not None]
    pairs += boxes(user.permissions if permissions is None else permissions)
    pairs += [("roles", name) for name in (user.roles if roles is None else roles)]
    return pairs


def role_form(role, permissions, **changes):
    fields = {"description": role.description or "", "_version": str(role.version)}
    fields.update(changes)
    return list(fields.items()) + boxes(permissions)


def errors_in(text, name):
    """The messages of the error list of field ``name`` ('' if none)."""
    match = re.search(rf'<ul class="errorlist" id="id_{name}_errors">(.*?)</ul>', text, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


def form_errors(text):
    match = re.search(r'<ul class="errorlist nonfield" role="alert">(.*?)</ul>', text, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


async def audit_entries(site, action, object_id):
    from core.audit import AuditEntry
    return await AuditEntry.find({"action": action, "object_id": str(object_id)},
                                 sort=["at"], db=site.db).to_list(None)
