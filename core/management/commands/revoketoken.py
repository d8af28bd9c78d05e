"""``manage.py revoketoken ID_OR_NAME [--user USERNAME]``: revoke (delete) an API token."""
from core.i18n import gettext as _
from core.i18n import gettext_lazy as _l
from core.management import CommandError

from ._tokens_common import TokenCommand


class RevokeTokenCommand(TokenCommand):
    name = "revoketoken"
    help = _l("Revoke an API token by its id or name; requests with it get 401 at once.")

    def add_arguments(self, parser):
        parser.add_argument("token", metavar="ID_OR_NAME")
        parser.add_argument("--user", metavar="USERNAME",
                            help=_("only that user's token of this name"))

    async def run(self, args):
        found = await self.store.find(args.token)
        if args.user:
            user = await self.get_user(args.user)
            found = [doc for doc in found if doc.get("user_id") == user.id]
        if not found:
            raise CommandError(_("no token %(token)s") % {"token": repr(args.token)})
        if len(found) > 1:
            ids = ", ".join(str(doc["_id"]) for doc in found)
            raise CommandError(_("%(count)d tokens are named %(token)s (%(ids)s); give the id "
                                 "or --user") % {"count": len(found),
                                                 "token": repr(args.token), "ids": ids})
        doc = found[0]
        await self.store.revoke(doc["_id"])
        owner = await self.user_model.get(doc.get("user_id"), db=self.db)
        if owner is not None:
            await self.audit("token_revoke", f"manage.py revoketoken: {doc.get('name')} "
                                             f"({doc['_id']})", owner)
        self.write(_("revoked token %(name)s (id %(id)s)") % {"name": doc.get("name"),
                                                              "id": doc["_id"]})
