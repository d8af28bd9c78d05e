"""``manage.py tokens [USERNAME] [--json]``: the API tokens (never the tokens themselves)."""
import json

from core.i18n import gettext as _
from core.i18n import gettext_lazy as _l

from ._tokens_common import TokenCommand


class TokensCommand(TokenCommand):
    name = "tokens"
    help = _l("List API tokens (all, or one user's); the tokens themselves are never shown.")

    def add_arguments(self, parser):
        parser.add_argument("username", metavar="USERNAME", nargs="?")
        parser.add_argument("--json", action="store_true", help=_("print JSON"))

    async def run(self, args):
        user = await self.get_user(args.username) if args.username else None
        docs = await self.store.list(user.id if user is not None else None)
        ids = list({doc.get("user_id") for doc in docs})
        users = await self.user_model.find({"_id": {"$in": ids}}, db=self.db).to_list(None) \
            if ids else []
        names = {u.id: u.username for u in users}
        rows = [self.describe(doc, names) for doc in docs]
        if args.json:
            self.write(json.dumps(rows, indent=2))
            return
        if not rows:
            self.write(_("no tokens"))
            return
        for row in rows:
            state = " [" + _("expired") + "]" if row["expired"] else ""
            dates = _("created %(created)s  expires %(expires)s  last used %(used)s") % {
                "created": row["created_at"], "expires": row["expires_at"] or _("never"),
                "used": row["last_used_at"] or _("never")}
            self.write(f"{row['id']}  {row['name']}  {row['username']}  {dates}{state}")
