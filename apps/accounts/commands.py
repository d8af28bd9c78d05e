"""The accounts commands of ``manage.py`` (GUIDE §5): users, roles, grants, passwords.

Passwords come from ``--password-stdin`` (one line) or are typed twice at a
terminal, never from the command line. Any unknown user, role, model key or
action, or a rejected password, is one line ``error: ...``, exit 1, and
nothing changed.

``changepassword`` and ``deactivate`` end the user's sessions and revoke every
API token of the user; ``activate`` brings none back. ``deactivate`` refuses the
last active superuser.
"""
from core.audit import diff, snapshot
from core.management import CommandError
from core.models import UniqueError, ValidationError

from .cli import AccountsCommand, describe_error, perm_argument, user_json
from .models import IDENTITY_KEYS, Role, User

#: the user fields an audit entry shows (the identity keys repeat username and email)
SHOWN = [name for name in User._meta.fields if name not in IDENTITY_KEYS]


# -- users -------------------------------------------------------------------------------------

class CreateUserBase(AccountsCommand):
    writes = True
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
            raise CommandError(f"a user named {user.username!r} already exists"
                               if taken.username == user.username else
                               f"the username {user.username!r} is taken: it reads as "
                               f"{taken.username!r} (case and look-alike letters do not count)")
        taken = await User.get_by_email(user.email)
        if taken is not None:
            raise CommandError(f"a user with the email {user.email!r} already exists"
                               if taken.email == user.email else
                               f"the email {user.email!r} is taken: it reads as "
                               f"{taken.email!r} (case and look-alike letters do not count)")
        password = self.read_password(args, user.username, user.email)
        await user.set_password(password, validate=False,     # validated by read_password
                                rounds=self.settings.get("BCRYPT_ROUNDS"))
        try:
            await user.save()
        except UniqueError as exc:  # someone took the name meanwhile: the index says no
            raise CommandError(describe_error(exc)) from None
        await self.audit("create", user, changes=diff({}, snapshot(user, fields=SHOWN)))
        return user


class CreateSuperuserCommand(CreateUserBase):
    name = "createsuperuser"
    help = "Create a superuser (may do everything). The password is prompted or piped in."
    superuser = True

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", required=True)
        self.add_password_argument(parser)

    async def run(self, args):
        user = await self.create(args, args.username, args.email, {})
        self.write(f"created superuser {user.username}")


class CreateUserCommand(CreateUserBase):
    name = "createuser"
    help = ("Create a user; --perm MODEL=ACTION,... (repeatable) grants permissions, "
            "else settings.DEFAULT_PERMISSIONS apply.")

    def add_arguments(self, parser):
        parser.add_argument("username", metavar="USERNAME")
        parser.add_argument("--email", required=True)
        self.add_password_argument(parser)
        parser.add_argument("--perm", action="append", type=perm_argument, default=[],
                            metavar="MODEL=ACTION[,ACTION...]",
                            help="grant these actions on this model (repeatable)")

    async def run(self, args):
        if args.perm:
            permissions = self.check_permissions(args.perm)
        else:
            defaults = self.settings.get("DEFAULT_PERMISSIONS") or {}
            if not isinstance(defaults, dict):
                raise CommandError("settings.DEFAULT_PERMISSIONS must be a dict")
            try:
                permissions = self.check_permissions(list(defaults.items()))
            except CommandError as exc:
                raise CommandError(f"settings.DEFAULT_PERMISSIONS: {exc}") from None
        user = await self.create(args, args.username, args.email, permissions)
        granted = "; ".join(f"{k}: {', '.join(a)}" for k, a in user.permissions.items())
        self.write(f"created user {user.username}" + (f" ({granted})" if granted else ""))


class ChangePasswordCommand(AccountsCommand):
    name = "changepassword"
    help = ("Set a user's password (prompted or piped in), end their sessions and revoke "
            "their API tokens.")
    writes = True

    def add_arguments(self, parser):
        parser.add_argument("username", metavar="USERNAME")
        self.add_password_argument(parser)

    async def run(self, args):
        user = await self.get_user(args.username)
        password = self.read_password(args, user.username, user.email)
        await user.set_password(password, validate=False,
                                rounds=self.settings.get("BCRYPT_ROUNDS"))
        await self.save(user)
        ended = await user.end_sessions(self.db)
        revoked = await user.revoke_tokens(self.db)
        await self.audit("password_change", user,
                         changes={"password": {"before": "(set)", "after": "(set)"}},
                         detail=f"manage.py {self.name} (ended {self.plural(ended, 'session')}, "
                                f"revoked {self.plural(revoked, 'API token')})")
        self.write(f"changed the password of {user.username}; ended "
                   f"{self.plural(ended, 'session')}, revoked {self.plural(revoked, 'token')}")


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
            raise CommandError(f"{user.username} is the last active superuser; create or "
                               "activate another superuser first")
        if user.is_active != self.active:
            await self.change_field(user, "is_active", self.active, "update")
        if self.active:
            self.write(f"activated {user.username}")
        else:
            ended = await user.end_sessions(self.db)
            revoked = await user.revoke_tokens(self.db)
            self.write(f"deactivated {user.username}; ended {self.plural(ended, 'session')}, "
                       f"revoked {self.plural(revoked, 'token')}")


class DeactivateCommand(SetActiveBase):
    name = "deactivate"
    help = ("Deactivate a user: no login, no permissions; ends their sessions and revokes "
            "their API tokens.")
    active = False


class ActivateCommand(SetActiveBase):
    name = "activate"
    help = "Activate a user again."
    active = True


class UsersCommand(AccountsCommand):
    name = "users"
    help = "List the users (--json for scripts); password hashes are never shown."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print JSON")

    async def run(self, args):
        users = await User.find().to_list(None)
        if args.json:
            self.write_json([user_json(user) for user in users])
            return
        if not users:
            self.write("no users")
            return
        width = max(len(u.username) for u in users)
        for user in users:
            flags = [] if user.is_active else ["inactive"]
            if user.is_superuser:
                flags.append("superuser")
            roles = f"  roles: {', '.join(user.roles)}" if user.roles else ""
            self.write(f"{user.username.ljust(width)}  {user.email}"
                       f"{'  [' + ', '.join(flags) + ']' if flags else ''}{roles}")


class PermsCommand(AccountsCommand):
    name = "perms"
    help = "Show a user's effective permissions and where each comes from."

    def add_arguments(self, parser):
        parser.add_argument("username", metavar="USERNAME")
        parser.add_argument("--json", action="store_true", help="print JSON")

    async def run(self, args):
        user = await self.get_user(args.username)
        perms = await user.get_permissions(self.registry)
        if args.json:
            self.write_json({"username": user.username, **perms.as_json()})
            return
        state = [] if user.is_active else ["inactive: no permissions"]
        if user.is_superuser:
            state.append("superuser: every action on every model")
        self.write(f"{user.username}{' (' + '; '.join(state) + ')' if state else ''}")
        if user.roles:
            self.write(f"roles: {', '.join(user.roles)}")
        sources = perms.sources()
        if not sources:
            self.write("no permissions")
            return
        width = max(len(key) for key in sources)
        for key, per_action in sources.items():
            listed = ", ".join(f"{action} ({', '.join(src)})"
                               for action, src in per_action.items())
            self.write(f"{key.ljust(width)}  {listed}")


# -- grants ------------------------------------------------------------------------------------

class GrantBase(AccountsCommand):
    writes = True
    require_actions = True

    def add_arguments(self, parser):
        parser.usage = (f"%(prog)s (USERNAME | --role NAME) MODEL "
                        f"{'ACTION [ACTION ...]' if self.require_actions else '[ACTION ...]'}")
        parser.add_argument("words", nargs="+", metavar="USERNAME MODEL ACTION",
                            help="the user (unless --role), the model key "
                                 "(app_label.model_name) and the actions")
        parser.add_argument("--role", metavar="NAME", help="edit this role instead of a user")
        self.usage = parser.format_usage().strip()

    def split(self, args):
        words = list(args.words)
        target = None if args.role else words.pop(0) if words else None
        needed = 2 if self.require_actions else 1
        if (not args.role and target is None) or len(words) < needed:
            raise CommandError(f"missing arguments; {self.usage}", returncode=2)
        return target, words[0], words[1:]

    async def subject(self, args, target):
        if args.role:
            role = await self.get_role(args.role)
            return role, f"role {role.name}"
        user = await self.get_user(target)
        return user, user.username


class GrantCommand(GrantBase):
    name = "grant"
    help = "Grant actions on a model to a user (or to a role with --role)."

    async def run(self, args):
        target, model, actions = self.split(args)
        obj, label = await self.subject(args, target)
        key, actions = self.check_grant(model, actions)
        permissions = dict(obj.permissions)
        before = set(permissions.get(key, []))
        permissions[key] = sorted(before | set(actions))
        await self.change_field(obj, "permissions", permissions, "permission_change")
        self.write(f"{label}: {key}: {', '.join(permissions[key])}")


class RevokeCommand(GrantBase):
    name = "revoke"
    help = "Revoke actions (all of them if none are named) on a model from a user or --role."
    require_actions = False

    async def run(self, args):
        target, model, actions = self.split(args)
        obj, label = await self.subject(args, target)
        permissions = dict(obj.permissions)
        key = model.strip().lower()
        held = permissions.get(key, [])
        if key in permissions:  # a grant that exists may be revoked even if its model left
            stale = [a for a in actions if a.strip().lower() not in held]
            if stale:
                key, _ = self.check_grant(model, stale)
            actions = [a.strip().lower() for a in actions]
        else:
            key, actions = self.check_grant(model, actions)
        remaining = [a for a in held if actions and a not in actions]
        if remaining:
            permissions[key] = remaining
        else:
            permissions.pop(key, None)
        await self.change_field(obj, "permissions", permissions, "permission_change")
        now = ", ".join(remaining) if remaining else "nothing"
        self.write(f"{label}: {key}: {now}")


# -- roles -------------------------------------------------------------------------------------

class CreateRoleCommand(AccountsCommand):
    name = "createrole"
    help = "Create a role (a named permissions dict); grant to it with 'grant --role NAME'."
    writes = True

    def add_arguments(self, parser):
        parser.add_argument("name", metavar="NAME")
        parser.add_argument("--description", default="")

    async def run(self, args):
        role = Role(name=args.name, description=args.description)
        try:
            role.clean()
            if await Role.get_by_name(role.name) is not None:
                raise CommandError(f"a role named {role.name!r} already exists")
            await role.save()
        except ValidationError as exc:
            raise CommandError(describe_error(exc)) from None
        await self.audit("role_change", role, changes=diff({}, snapshot(role)))
        self.write(f"created role {role.name}")


class DeleteRoleCommand(AccountsCommand):
    name = "deleterole"
    help = "Delete a role and remove it from every user holding it."
    writes = True

    def add_arguments(self, parser):
        parser.add_argument("name", metavar="NAME")

    async def run(self, args):
        role = await self.get_role(args.name)
        users = self.db[User._meta.collection]
        result = await users.update_many({"roles": role.name},
                                         {"$pull": {"roles": role.name}, "$inc": {"version": 1}})
        await role.delete()
        await self.audit("role_change", role, changes=diff(snapshot(role), {}),
                         detail=f"manage.py {self.name} (removed from "
                                f"{self.plural(result.modified_count, 'user')})")
        self.write(f"deleted role {role.name} (removed from "
                   f"{self.plural(result.modified_count, 'user')})")


class AssignRoleCommand(AccountsCommand):
    name = "assignrole"
    help = "Give a user a role (its permissions join the user's)."
    writes = True

    def add_arguments(self, parser):
        parser.add_argument("username", metavar="USERNAME")
        parser.add_argument("role", metavar="ROLE")

    async def run(self, args):
        user = await self.get_user(args.username)
        role = await self.get_role(args.role)
        if role.name in user.roles:
            self.write(f"{user.username} already has role {role.name}")
            return
        await self.change_field(user, "roles", [*user.roles, role.name], "role_change")
        self.write(f"{user.username}: roles: {', '.join(user.roles)}")


class UnassignRoleCommand(AccountsCommand):
    name = "unassignrole"
    help = "Take a role away from a user."
    writes = True

    def add_arguments(self, parser):
        parser.add_argument("username", metavar="USERNAME")
        parser.add_argument("role", metavar="ROLE")

    async def run(self, args):
        user = await self.get_user(args.username)
        if args.role not in user.roles:
            await self.get_role(args.role)  # unknown role: that error first
            self.write(f"{user.username} does not have role {args.role}")
            return
        await self.change_field(user, "roles", [name for name in user.roles if name != args.role],
                                "role_change")
        self.write(f"{user.username}: roles: {', '.join(user.roles) or 'none'}")


class RolesCommand(AccountsCommand):
    name = "roles"
    help = "List the roles, their permissions and who holds them (--json for scripts)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print JSON")

    async def run(self, args):
        roles = await Role.find().to_list(None)
        holders = {role.name: [] for role in roles}
        if holders:
            async for user in User.find({"roles": {"$in": list(holders)}}):
                for name in user.roles:
                    if name in holders:
                        holders[name].append(user.username)
        if args.json:
            self.write_json([{"name": role.name, "description": role.description or "",
                              "permissions": role.permissions, "users": holders[role.name]}
                             for role in roles])
            return
        if not roles:
            self.write("no roles")
            return
        for role in roles:
            granted = "; ".join(f"{k}: {', '.join(a)}" for k, a in role.permissions.items())
            self.write(f"{role.name}: {granted or 'no permissions'}"
                       f" (users: {', '.join(holders[role.name]) or 'none'})")
