"""The users-and-roles admin: its addresses and the form posts its pages expect."""
import re

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
    """A change-form post for ``role`` granting ``permissions``, as a list of pairs."""
    fields = {"description": role.description or "", "_version": str(role.version)}
    fields.update(changes)
    return list(fields.items()) + boxes(permissions)
