"""The user commands: ``createsuperuser``, ``createuser``, ``changepassword``,
``activate``, ``deactivate`` and ``users``."""
import getpass
import sys

from core.audit import REDACTED, diff, snapshot
from core.auth.passwords import PasswordError, validate_password
from core.auth.twofactor import FactorStore
from core.i18n import gettext as _
from core.i18n import gettext_lazy as _l
from core.i18n import ngettext
from core.management import CommandError
from core.models import UniqueError, ValidationError
from core.permissions import describe_grants

from ..models import IDENTITY_KEYS, User
from ._base import AccountsCommand, describe_error, perm_argument

#: the user fields an audit entry shows (the identity keys repeat username and email)
SHOWN = [name for name in User._meta.fields if name not in IDENTITY_KEYS]


def user_json(user, factors=None):
    """A user for ``users --json``: no password hash, ids and dates as text; with
    ``factors`` (a ``FactorStore.summary``) its ``"factors"`` (``["totp", "passkey"]``)
    and ``"recovery_codes_left"``."""
    data = user.to_json()
    data.pop("version", None)
    if factors is not None:
        data["factors"] = FactorStore.factor_names(factors)
        data["recovery_codes_left"] = factors["recovery_codes"]
    return data


def ended_and_revoked(ended, revoked):
    """``{"sessions": "2 sessions", "tokens": "1 token"}`` in the active language."""
    return {"sessions": ngettext("%(count)d session", "%(count)d sessions", ended)
            % {"count": ended},
            "tokens": ngettext("%(count)d token", "%(count)d tokens", revoked)
            % {"count": revoked}}


class PasswordCommand(AccountsCommand):
    """Base of the commands that set a password: ``--password-stdin`` or a prompt."""

    writes = True

    def add_password_argument(self, parser):
        parser.add_argument("--password-stdin", action="store_true",
                            help=_("read the password from the first line of standard "
                                   "input (otherwise prompt on the terminal)"))

    def read_password(self, args, username=None, email=None):
        """The new password from stdin (``--password-stdin``) or typed twice; validated."""
        stdin = getattr(self, "stdin", None) or sys.stdin
        if args.password_stdin:
            line = stdin.readline()
            if not line:
                raise CommandError(_("no password on standard input (--password-stdin reads "
                                     "one line)"))
            password = line.rstrip("\r\n")
        elif stdin.isatty():
            try:
                password = getpass.getpass(_("Password: "))
                again = getpass.getpass(_("Password (again): "))
            except EOFError:
                raise CommandError(_("no password entered")) from None
            if password != again:
                raise CommandError(_("the two passwords do not match; nothing changed"))
        else:
            raise CommandError(_("no terminal to prompt for the password; pipe it in with "
                                 "--password-stdin"))
        try:
            validate_password(password, username=username, email=email)
        except PasswordError as exc:
            raise CommandError(_("password rejected: %(reason)s") % {"reason": exc}) from None
        return password


class CreateUserBase(PasswordCommand):
    superuser = False

    async def create(self, args, username, email, permissions):
        user = User(username=username, email=email, is_superuser=self.superuser,
                    permissions=permissions)
        try:
            user.clean()
        except ValidationError as exc:
            raise CommandError(describe_error(exc)) from None
        taken = await User.get_by_username(user.username)
        if taken is not None:
            raise CommandError((_("a user named %(name)s already exists")
                                if taken.username == user.username else
                                _("the username %(name)s is taken: it reads as %(taken)s (case "
                                  "and look-alike letters do not count)"))
                               % {"name": repr(user.username), "taken": repr(taken.username)})
        taken = await User.get_by_email(user.email)
        if taken is not None:
            raise CommandError((_("a user with the email %(email)s already exists")
                                if taken.email == user.email else
                                _("the email %(email)s is taken: it reads as %(taken)s (case "
                                  "and look-alike letters do not count)"))
                               % {"email": repr(user.email), "taken": repr(taken.email)})
        password = self.read_password(args, user.username, user.email)
        await user.set_password(password, validate=False,     # validated by read_password
                                rounds=self.settings.get("BCRYPT_ROUNDS"))
        try:
            async with self.audited("create", user) as entry:
                await user.save()
                entry.changes = diff({}, snapshot(user, fields=SHOWN))
        except UniqueError as exc:  # someone took the name meanwhile: the index says no
            raise CommandError(describe_error(exc)) from None
        return user


class CreateSuperuserCommand(CreateUserBase):
    name = "createsuperuser"
    help = _l("Create a superuser (may do everything). The password is prompted or piped in.")
    superuser = True

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True, help=_("the new user's username"))
        parser.add_argument("--email", required=True, help=_("the new user's email address"))
        self.add_password_argument(parser)

    async def run(self, args):
        user = await self.create(args, args.username, args.email, {})
        self.write(_("created superuser %(name)s") % {"name": user.username})


class CreateUserCommand(CreateUserBase):
    name = "createuser"
    help = _l("Create a user; --perm MODEL=ACTION,... (repeatable) grants permissions, "
              "else settings.DEFAULT_PERMISSIONS apply.")

    def add_arguments(self, parser):
        parser.add_argument("username", metavar="USERNAME")
        parser.add_argument("--email", required=True, help=_("the new user's email address"))
        self.add_password_argument(parser)
        parser.add_argument("--perm", action="append", type=perm_argument, default=[],
                            metavar="MODEL=ACTION[,ACTION...]",
                            help=_("grant these actions on this model (repeatable)"))

    async def run(self, args):
        if args.perm:
            permissions = self.check_permissions(args.perm)
        else:
            defaults = self.settings.get("DEFAULT_PERMISSIONS") or {}
            if not isinstance(defaults, dict):
                raise CommandError(_("settings.DEFAULT_PERMISSIONS must be a dict"))
            try:
                permissions = self.check_permissions(list(defaults.items()))
            except CommandError as exc:
                raise CommandError(f"settings.DEFAULT_PERMISSIONS: {exc}") from None
        user = await self.create(args, args.username, args.email, permissions)
        granted = describe_grants(user.permissions)
        self.write(_("created user %(name)s") % {"name": user.username}
                   + (f" ({granted})" if granted else ""))


class ChangePasswordCommand(PasswordCommand):
    name = "changepassword"
    help = _l("Set a user's password (prompted or piped in), end their sessions and revoke "
              "their API tokens.")

    def add_arguments(self, parser):
        parser.add_argument("username", metavar="USERNAME")
        self.add_password_argument(parser)

    async def run(self, args):
        user = await self.get_user(args.username)
        password = self.read_password(args, user.username, user.email)
        await user.set_password(password, validate=False,
                                rounds=self.settings.get("BCRYPT_ROUNDS"))
        async with self.audited("password_change", user) as entry:
            await self.save(user)
            ended, revoked = await user.end_access(self.db)
            entry.changes = {"password": {"before": REDACTED, "after": REDACTED}}
            entry.detail = (f"manage.py {self.name} (ended {self.plural(ended, 'session')}, "
                            f"revoked {self.plural(revoked, 'API token')})")
        self.write(_("changed the password of %(name)s; ended %(sessions)s, revoked "
                     "%(tokens)s") % {"name": user.username, **ended_and_revoked(ended, revoked)})


class SetActiveBase(AccountsCommand):
    """``activate`` / ``deactivate``: set ``is_active``; deactivation ends the sessions and
    revokes the API tokens (activation brings none back), and is refused for the last
    active superuser."""

    active = None
    writes = True

    def add_arguments(self, parser):
        parser.add_argument("username", metavar="USERNAME")

    async def run(self, args):
        user = await self.get_user(args.username)
        if not self.active and await user.is_last_active_superuser(db=self.db):
            raise CommandError(_("%(name)s is the last active superuser; create or activate "
                                 "another superuser first") % {"name": user.username})
        if user.is_active != self.active:
            await self.change_field(user, "is_active", self.active, "update")
        if self.active:
            self.write(_("activated %(name)s") % {"name": user.username})
        else:
            ended, revoked = await user.end_access(self.db)
            self.write(_("deactivated %(name)s; ended %(sessions)s, revoked %(tokens)s") % {
                "name": user.username, **ended_and_revoked(ended, revoked)})


class DeactivateCommand(SetActiveBase):
    name = "deactivate"
    help = _l("Deactivate a user: no login, no permissions; ends their sessions and revokes "
              "their API tokens.")
    active = False


class ActivateCommand(SetActiveBase):
    name = "activate"
    help = _l("Activate a user again.")
    active = True


class UsersCommand(AccountsCommand):
    name = "users"
    help = _l("List the users with their second factors (--json for scripts); password "
              "hashes are never shown.")

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help=_("print JSON"))

    async def run(self, args):
        users = await User.find().to_list(None)
        store = FactorStore(self.db)
        factors = {user.id: await store.summary(user.id) for user in users}
        if args.json:
            self.write_json([user_json(user, factors[user.id]) for user in users])
            return
        if not users:
            self.write(_("no users"))
            return
        width = max(len(u.username) for u in users)
        for user in users:
            flags = [] if user.is_active else [_("inactive")]
            if user.is_superuser:
                flags.append(_("superuser"))
            flags += [f"2fa: {name}" for name in FactorStore.factor_names(factors[user.id])]
            roles = ("  " + _("roles: %(roles)s") % {"roles": ", ".join(user.roles)}
                     if user.roles else "")
            self.write(f"{user.username.ljust(width)}  {user.email}"
                       f"{'  [' + ', '.join(flags) + ']' if flags else ''}{roles}")
