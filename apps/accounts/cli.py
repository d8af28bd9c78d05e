"""What the accounts commands share: the database, look-ups, passwords, grants.

Every command validates everything it was given (users, roles, model keys,
actions, the password) before it writes anything, so a failing command
changes nothing. Failures are ``CommandError``: one line ``error: ...``, exit 1.
"""
import argparse
import getpass
import json
import sys

from core.audit import audited, diff, record
from core.auth.passwords import PasswordError, validate_password
from core.management import Command, CommandError
from core.models import StaleObjectError, ValidationError
from core.permissions import GrantError, normalize_permissions, validate_grant

from .models import Role, User


def perm_argument(text):
    """``--perm blog.article=read,write`` → ``("blog.article", ["read", "write"])``."""
    key, sep, actions = text.partition("=")
    names = [a.strip() for a in actions.split(",") if a.strip()]
    if not sep or not key.strip() or not names:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not MODEL=ACTION[,ACTION...] (e.g. blog.article=read,write)")
    return key.strip(), names


def describe_error(exc):
    """One line for a ``ValidationError`` (field: message; ...)."""
    return " ".join(str(exc).split())


class AccountsCommand(Command):
    """Base of the accounts commands: ``run(args)`` is called with ``self.db`` open.

    ``writes = True`` makes sure the accounts indexes (unique usernames,
    emails, role names) exist first, so uniqueness never rests on a check.
    """

    writes = False

    async def handle(self, args):
        async with self.database() as db:
            self.db = db
            if self.writes:
                await User.ensure_indexes()
                await Role.ensure_indexes()
            result = await self.run(args)
        return result

    async def run(self, args):
        raise NotImplementedError

    # -- look-ups ----------------------------------------------------------------------------
    async def get_user(self, username):
        user = await User.get_by_username(username)
        if user is None:
            raise CommandError(f"unknown user {username!r}")
        return user

    async def get_role(self, name):
        role = await Role.get_by_name(name)
        if role is None:
            raise CommandError(f"unknown role {name!r}")
        return role

    # -- grants ------------------------------------------------------------------------------
    def check_grant(self, model_key, actions):
        try:
            return validate_grant(self.registry, model_key, actions)
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
            raise CommandError(f"{obj._meta.verbose_name} {obj} was changed by someone else "
                               "meanwhile; nothing was saved, try again") from None

    # -- audit -------------------------------------------------------------------------------
    async def change_field(self, obj, name, value, action):
        """Set one field of ``obj``, save it, and audit the field's before and after."""
        before = getattr(obj, name)
        async with audited(None, action, obj=obj, actor="manage.py", db=self.db,
                           detail=f"manage.py {self.name}") as entry:
            setattr(obj, name, value)
            await self.save(obj)
            entry.changes = diff({name: before}, {name: getattr(obj, name)})

    async def audit(self, action, obj, **kw):
        """Record what this command did in the audit log (``core.audit``): the actor is
        ``"manage.py"`` (no user), the detail names the command."""
        kw.setdefault("detail", f"manage.py {self.name}")
        await record(action=action, actor="manage.py", obj=obj, db=self.db, **kw)

    # -- passwords ---------------------------------------------------------------------------
    def add_password_argument(self, parser):
        parser.add_argument("--password-stdin", action="store_true",
                            help="read the password from the first line of standard input "
                                 "(otherwise prompt on the terminal)")

    def read_password(self, args, username=None, email=None):
        """The new password from stdin (``--password-stdin``) or typed twice; validated."""
        stdin = getattr(self, "stdin", None) or sys.stdin
        if args.password_stdin:
            line = stdin.readline()
            if not line:
                raise CommandError("no password on standard input (--password-stdin reads "
                                   "one line)")
            password = line.rstrip("\r\n")
        elif stdin.isatty():
            try:
                password = getpass.getpass("Password: ")
                again = getpass.getpass("Password (again): ")
            except EOFError:
                raise CommandError("no password entered") from None
            if password != again:
                raise CommandError("the two passwords do not match; nothing changed")
        else:
            raise CommandError("no terminal to prompt for the password; pipe it in with "
                               "--password-stdin")
        try:
            validate_password(password, username=username, email=email)
        except PasswordError as exc:
            raise CommandError(f"password rejected: {exc}") from None
        return password

    # -- output ------------------------------------------------------------------------------
    def write_json(self, data):
        self.write(json.dumps(data, indent=2, sort_keys=False, default=str))

    @staticmethod
    def plural(count, word):
        return f"{count} {word}{'' if count == 1 else 's'}"


def user_json(user):
    """A user for ``users --json``: no password hash, ids and dates as text."""
    data = user.to_json()
    data.pop("version", None)
    return data
