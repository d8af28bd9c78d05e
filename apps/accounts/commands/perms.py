"""``manage.py perms USERNAME``: a user's effective permissions and where each comes from,
the fields hidden or frozen for them, and their grants that have expired."""
from core.i18n import gettext as _
from core.i18n import gettext_lazy as _l

from ._base import AccountsCommand


class PermsCommand(AccountsCommand):
    name = "perms"
    help = _l("Show a user's effective permissions and where each comes from.")

    def add_arguments(self, parser):
        parser.add_argument("username", metavar="USERNAME")
        parser.add_argument("--json", action="store_true", help=_("print JSON"))

    async def run(self, args):
        user = await self.get_user(args.username)
        perms = await user.get_permissions(self.registry)
        if args.json:
            self.write_json({"username": user.username, **perms.as_json()})
            return
        state = [] if user.is_active else [_("inactive: no permissions")]
        if user.is_superuser:
            state.append(_("superuser: every action on every model"))
        self.write(f"{user.username}{' (' + '; '.join(state) + ')' if state else ''}")
        if user.roles:
            self.write(_("roles: %(roles)s") % {"roles": ", ".join(user.roles)})
        sources = perms.sources()
        if not sources:
            self.write(_("no permissions"))
        else:
            width = max(len(key) for key in sources)
            for key, per_action in sources.items():
                listed = ", ".join(f"{action} ({', '.join(src)})"
                                   for action, src in per_action.items())
                self.write(f"{key.ljust(width)}  {listed}")
        for key, fields in perms.as_json()["fields"].items():
            hidden = ", ".join(fields["hidden"]) or _("none")
            frozen = ", ".join(f for f in fields["frozen"] if f not in fields["hidden"])
            self.write(_("%(model)s: hidden fields: %(hidden)s; read-only fields: %(frozen)s")
                       % {"model": key, "hidden": hidden, "frozen": frozen or _("none")})
        for key, items in perms.expired().items():
            listed = ", ".join(f"{item['entry']} ({item['source']})" for item in items)
            self.write(_("expired: %(model)s: %(grants)s") % {"model": key, "grants": listed})
