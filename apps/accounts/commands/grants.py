"""``manage.py grant`` / ``revoke``: actions on a model, for a user or (``--role``) a role."""
from core.management import CommandError

from ._base import AccountsCommand


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
