"""``manage.py grant`` / ``revoke``: actions on a model, for a user or (``--role``) a role.

An action may carry a scope the model's admin declares (``write:own``) or restrict a
field (``-read:notes``, ``-write:email``); ``grant --until 2026-12-31T18:00`` (UTC
unless an offset is given) makes each granted action stop applying then. Granting an
action again replaces the same action and scope with another expiry (or none);
``revoke ... write`` removes ``write`` whatever its expiry. Field restrictions are
given as ``--hide FIELD`` / ``--freeze FIELD`` (or as ``-read:FIELD`` after ``--``).
"""
from core.i18n import gettext as _
from core.i18n import gettext_lazy as _l
from core.management import CommandError
from core.permissions import format_until, parse_entry, parse_until

from ._base import AccountsCommand


def _same_grant(a, b):
    """Do two entries grant the same action with the same scope (any expiry)?"""
    return (a.kind, a.action, a.scope, a.field) == (b.kind, b.action, b.scope, b.field)


class GrantBase(AccountsCommand):
    writes = True
    require_actions = True

    def add_arguments(self, parser):
        parser.usage = (f"%(prog)s (USERNAME | --role NAME) MODEL "
                        f"{'ACTION [ACTION ...]' if self.require_actions else '[ACTION ...]'}")
        parser.add_argument("words", nargs="+", metavar="USERNAME MODEL ACTION",
                            help=_("the user (unless --role), the model key "
                                   "(app_label.model_name) and the actions (read, write:own, "
                                   "-read:FIELD, ...)"))
        parser.add_argument("--role", metavar="NAME",
                            help=_("edit this role instead of a user"))
        parser.add_argument("--hide", metavar="FIELD", action="append", default=[],
                            help=_("the field is hidden from this dict's read (-read:FIELD)"))
        parser.add_argument("--freeze", metavar="FIELD", action="append", default=[],
                            help=_("the field is read-only for this dict's write "
                                   "(-write:FIELD)"))
        self.usage = parser.format_usage().strip()

    def split(self, args):
        words = list(args.words)
        target = None if args.role else words.pop(0) if words else None
        restricts = [f"-read:{name}" for name in args.hide] + \
            [f"-write:{name}" for name in args.freeze]
        needed = 2 if self.require_actions and not restricts else 1
        if (not args.role and target is None) or len(words) < needed:
            raise CommandError(_("missing arguments; %(usage)s") % {"usage": self.usage},
                               returncode=2)
        return target, words[0], words[1:] + restricts

    async def subject(self, args, target):
        if args.role:
            role = await self.get_role(args.role)
            return role, _("role %(name)s") % {"name": role.name}
        user = await self.get_user(target)
        return user, user.username


class GrantCommand(GrantBase):
    name = "grant"
    help = _l("Grant actions on a model to a user (or to a role with --role), --until a time.")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--until", metavar="YYYY-MM-DDTHH:MM",
                            help=_("the grants stop applying then (UTC unless an offset "
                                   "such as +02:00 is given)"))

    async def run(self, args):
        target, model, actions = self.split(args)
        if args.until is not None:
            try:
                until = format_until(parse_until(args.until))
            except ValueError as exc:
                raise CommandError(f"--until: {exc}") from None
            if any(a.strip().startswith("-") for a in actions):
                raise CommandError(_("--until applies to grants, not to field restrictions "
                                     "(--hide, --freeze)"))
            actions = [f"{a.strip()}@{until}" for a in actions]
        obj, label = await self.subject(args, target)
        key, actions = self.check_grant(model, actions)
        permissions = dict(obj.permissions)
        new = [parse_entry(a) for a in actions]
        kept = [text for text in permissions.get(key, [])
                if not any(_same_grant(parse_entry(text), entry) for entry in new)]
        permissions[key] = sorted(set(kept) | {entry.text for entry in new})
        await self.change_field(obj, "permissions", permissions, "permission_change")
        self.write(f"{label}: {key}: {', '.join(permissions[key])}")


class RevokeCommand(GrantBase):
    name = "revoke"
    help = _l("Revoke actions (all of them if none are named) on a model from a user or "
              "--role.")
    require_actions = False

    async def run(self, args):
        target, model, actions = self.split(args)
        obj, label = await self.subject(args, target)
        permissions = dict(obj.permissions)
        key = model.strip().lower()
        held = permissions.get(key, [])
        if key in permissions:  # a grant that exists may be revoked even if its model left
            named = []
            for action in actions:
                try:
                    named.append(parse_entry(action))
                except ValueError as exc:
                    raise CommandError(str(exc)) from None
            stale = [a for a, entry in zip(actions, named)
                     if not any(_same_grant(parse_entry(text), entry) for text in held)]
            if stale:
                key, _actions = self.check_grant(model, stale)
        else:
            key, actions = self.check_grant(model, actions)
            named = [parse_entry(a) for a in actions]
        remaining = [text for text in held
                     if named and not any(_same_grant(parse_entry(text), e) for e in named)]
        if remaining:
            permissions[key] = remaining
        else:
            permissions.pop(key, None)
        await self.change_field(obj, "permissions", permissions, "permission_change")
        now = ", ".join(remaining) if remaining else _("nothing")
        self.write(f"{label}: {key}: {now}")
