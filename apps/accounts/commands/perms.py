"""``manage.py perms USERNAME``: a user's effective permissions and where each comes from,
the fields hidden or frozen for them, and their grants that have expired."""
from ._base import AccountsCommand


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
        else:
            width = max(len(key) for key in sources)
            for key, per_action in sources.items():
                listed = ", ".join(f"{action} ({', '.join(src)})"
                                   for action, src in per_action.items())
                self.write(f"{key.ljust(width)}  {listed}")
        for key, fields in perms.as_json()["fields"].items():
            hidden = ", ".join(fields["hidden"]) or "none"
            frozen = ", ".join(f for f in fields["frozen"] if f not in fields["hidden"])
            self.write(f"{key}: hidden fields: {hidden}; read-only fields: {frozen or 'none'}")
        for key, items in perms.expired().items():
            listed = ", ".join(f"{item['entry']} ({item['source']})" for item in items)
            self.write(f"expired: {key}: {listed}")
