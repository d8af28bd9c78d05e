"""The role commands: ``createrole``, ``deleterole``, ``assignrole``, ``unassignrole``
and ``roles``."""
from core.audit import diff, snapshot
from core.management import CommandError
from core.models import ValidationError

from ..models import Role, User
from ._base import AccountsCommand, describe_error


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
            async with self.audited("role_change", role) as entry:
                await role.save()
                entry.changes = diff({}, snapshot(role))
        except ValidationError as exc:
            raise CommandError(describe_error(exc)) from None
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


class RoleHolderCommand(AccountsCommand):
    """``USERNAME ROLE``: what assignrole and unassignrole take."""

    writes = True

    def add_arguments(self, parser):
        parser.add_argument("username", metavar="USERNAME")
        parser.add_argument("role", metavar="ROLE")


class AssignRoleCommand(RoleHolderCommand):
    name = "assignrole"
    help = "Give a user a role (its permissions join the user's)."

    async def run(self, args):
        user = await self.get_user(args.username)
        role = await self.get_role(args.role)
        if role.name in user.roles:
            self.write(f"{user.username} already has role {role.name}")
            return
        await self.change_field(user, "roles", [*user.roles, role.name], "role_change")
        self.write(f"{user.username}: roles: {', '.join(user.roles)}")


class UnassignRoleCommand(RoleHolderCommand):
    name = "unassignrole"
    help = "Take a role away from a user."

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
