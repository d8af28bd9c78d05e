"""What the accounts commands share: look-ups, grants, audited writes, output.

Every command validates everything it was given (users, roles, model keys,
actions, the password) before it writes anything, so a failing command
changes nothing. Failures are ``CommandError``: one line ``error: ...``, exit 1.
"""
import argparse
import json

from core.audit import audited, diff, record
from core.i18n import gettext as _
from core.management import CommandError, DatabaseCommand
from core.models import StaleObjectError, ValidationError
from core.permissions import GrantError, normalize_permissions, validate_grant

from ..models import Role, User


def perm_argument(text):
    """``--perm blog.article=read,write`` → ``("blog.article", ["read", "write"])``."""
    key, sep, actions = text.partition("=")
    names = [a.strip() for a in actions.split(",") if a.strip()]
    if not sep or not key.strip() or not names:
        raise argparse.ArgumentTypeError(
            _("%(text)s is not MODEL=ACTION[,ACTION...] (e.g. blog.article=read,write)")
            % {"text": repr(text)})
    return key.strip(), names


def describe_error(exc):
    """One line for a ``ValidationError`` (field: message; ...)."""
    return " ".join(str(exc).split())


class AccountsCommand(DatabaseCommand):
    """Base of the accounts commands: ``run(args)`` is called with ``self.db`` open.

    ``writes = True`` makes sure the accounts indexes (unique usernames,
    emails, role names) exist first (in ``after_open``), so uniqueness never
    rests on a check.
    """

    writes = False

    async def after_open(self, args):
        """Called with the database open, before ``run``: the accounts indexes if it writes."""
        if self.writes:
            await User.ensure_indexes()
            await Role.ensure_indexes()

    # -- look-ups ----------------------------------------------------------------------------
    async def get_user(self, username):
        user = await User.get_by_username(username)
        if user is None:
            raise CommandError(_("unknown user %(name)s") % {"name": repr(username)})
        return user

    async def get_role(self, name):
        role = await Role.get_by_name(name)
        if role is None:
            raise CommandError(_("unknown role %(name)s") % {"name": repr(name)})
        return role

    # -- grants ------------------------------------------------------------------------------
    def scopes(self):
        """``{model key: [scope names]}`` the installed admins declare (``AdminSite.scopes``)."""
        if getattr(self, "_scopes", None) is None:
            from core.admin import AdminSite
            self._scopes = AdminSite(self.registry).scopes()
        return self._scopes

    def check_grant(self, model_key, actions):
        try:
            return validate_grant(self.registry, model_key, actions, scopes=self.scopes())
        except GrantError as exc:
            raise CommandError(str(exc)) from None

    def check_permissions(self, grants, where="--perm"):
        """``[(key, [actions])]`` → a validated permissions dict."""
        merged = {}
        for key, actions in grants:
            key, actions = self.check_grant(key, actions)
            merged.setdefault(key, [])
            merged[key] += [a for a in actions if a not in merged[key]]
        return normalize_permissions(merged)

    # -- saving ------------------------------------------------------------------------------
    async def save(self, obj):
        try:
            await obj.save()
        except ValidationError as exc:
            raise CommandError(describe_error(exc)) from None
        except StaleObjectError:
            raise CommandError(_("%(model)s %(object)s was changed by someone else meanwhile; "
                                 "nothing was saved, try again") % {
                "model": obj._meta.verbose_name, "object": obj}) from None

    # -- audit -------------------------------------------------------------------------------
    async def change_field(self, obj, name, value, action):
        """Set one field of ``obj``, save it, and audit the field's before and after (the
        audit detail stays English: it is stored, not shown to the one running the command)."""
        before = getattr(obj, name)
        async with self.audited(action, obj) as entry:
            setattr(obj, name, value)
            await self.save(obj)
            entry.changes = diff({name: before}, {name: getattr(obj, name)})

    def audited(self, action, obj, **kw):
        """``async with self.audited(action, obj) as entry:`` around a write: the object and
        its audit entry together (``core.audit.audited``), the actor ``"manage.py"``."""
        kw.setdefault("detail", f"manage.py {self.name}")
        return audited(None, action, obj=obj, actor="manage.py", db=self.db, **kw)

    async def audit(self, action, obj, **kw):
        """Record what this command did in the audit log (``core.audit``): the actor is
        ``"manage.py"`` (no user), the detail names the command."""
        kw.setdefault("detail", f"manage.py {self.name}")
        await record(action=action, actor="manage.py", obj=obj, db=self.db, **kw)

    # -- output ------------------------------------------------------------------------------
    def write_json(self, data):
        """``--json`` output: keys and values stay English (for scripts)."""
        self.write(json.dumps(data, indent=2, sort_keys=False, default=str))

    @staticmethod
    def plural(count, word):
        """``3 sessions``: English, for the audit details stored (not for the output)."""
        return f"{count} {word}{'' if count == 1 else 's'}"
