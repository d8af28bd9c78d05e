"""The role commands: ``createrole``, ``deleterole``, ``assignrole``, ``unassignrole``
and ``roles``."""
from core.audit import diff, snapshot
from core.i18n import gettext as _
from core.i18n import gettext_lazy as _l
from core.i18n import ngettext
from core.management import CommandError
from core.models import ValidationError

from ..models import Role, User
from ._base import AccountsCommand, describe_error


class CreateRoleCommand(AccountsCommand):
    name = "createrole"
    help = _l("Create a role (a named permissions dict); grant to it with 'grant --role NAME'.")
    writes = True

    def add_arguments(self, parser):
        parser.add_argument("name", metavar="NAME")
        parser.add_argument("--description", default="", help=_("what the role is for"))

    async def run(self, args):
        role = Role(name=args.name, description=args.description)
        try:
            role.clean()
            if await Role.get_by_name(role.name) is not None:
                raise CommandError(_("a role named %(name)s already exists") % {
                    "name": repr(role.name)})
            async with self.audited("role_change", role) as entry:
                await role.save()
                entry.changes = diff({}, snapshot(role))
        except ValidationError as exc:
            raise CommandError(describe_error(exc)) from None
        self.write(_("created role %(name)s") % {"name": role.name})


class DeleteRoleCommand(AccountsCommand):
    name = "deleterole"
    help = _l("Delete a role and remove it from every user holding it.")
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
        self.write(ngettext("deleted role %(name)s (removed from %(count)d user)",
                            "deleted role %(name)s (removed from %(count)d users)",
                            result.modified_count) % {"name": role.name,
                                                      "count": result.modified_count})


class RoleHolderCommand(AccountsCommand):
    """``USERNAME ROLE``: what assignrole and unassignrole take."""

    writes = True

    def add_arguments(self, parser):
        parser.add_argument("username", metavar="USERNAME")
        parser.add_argument("role", metavar="ROLE")


class AssignRoleCommand(RoleHolderCommand):
    name = "assignrole"
    help = _l("Give a user a role (its permissions join the user's).")

    async def run(self, args):
        user = await self.get_user(args.username)
        role = await self.get_role(args.role)
        if role.name in user.roles:
            self.write(_("%(user)s already has role %(role)s") % {
                "user": user.username, "role": role.name})
            return
        await self.change_field(user, "roles", [*user.roles, role.name], "role_change")
        self.write(_("%(user)s: roles: %(roles)s") % {"user": user.username,
                                                      "roles": ", ".join(user.roles)})


class UnassignRoleCommand(RoleHolderCommand):
    name = "unassignrole"
    help = _l("Take a role away from a user.")

    async def run(self, args):
        user = await self.get_user(args.username)
        if args.role not in user.roles:
            await self.get_role(args.role)  # unknown role: that error first
            self.write(_("%(user)s does not have role %(role)s") % {
                "user": user.username, "role": args.role})
            return
        await self.change_field(user, "roles", [name for name in user.roles if name != args.role],
                                "role_change")
        self.write(_("%(user)s: roles: %(roles)s") % {
            "user": user.username, "roles": ", ".join(user.roles) or _("none")})


class RolesCommand(AccountsCommand):
    name = "roles"
    help = _l("List the roles, their permissions and who holds them (--json for scripts).")

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help=_("print JSON"))

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
            self.write(_("no roles"))
            return
        for role in roles:
            granted = "; ".join(f"{k}: {', '.join(a)}" for k, a in role.permissions.items())
            self.write(_("%(role)s: %(grants)s (users: %(users)s)") % {
                "role": role.name, "grants": granted or _("no permissions"),
                "users": ", ".join(holders[role.name]) or _("none")})
