"""``manage.py createtoken USERNAME [--name N] [--expires DAYS]``: a new API token."""
import math

from core.i18n import gettext as _
from core.i18n import gettext_lazy as _l
from core.management import CommandError

from ._tokens_common import TokenCommand, iso


def _days(text):
    import argparse
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("%(text)s is not a number of days") % {
            "text": repr(text)}) from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(_("the number of days must be greater than 0"))
    return value


class CreateTokenCommand(TokenCommand):
    name = "createtoken"
    help = _l("Create an API token for a user (Authorization: Bearer ...); it is printed "
              "once, only its hash is stored.")

    def add_arguments(self, parser):
        parser.add_argument("username", metavar="USERNAME")
        parser.add_argument("--name", help=_("a name to list and revoke it by "
                                             "(default: token-<6 hex>; unique per user)"))
        parser.add_argument("--expires", type=_days, metavar="DAYS",
                            help=_("expire after DAYS days (fractions allowed; default: "
                                   "never)"))

    async def run(self, args):
        from core.auth.tokens import TokenError
        user = await self.get_user(args.username)
        if not getattr(user, "is_active", False):
            raise CommandError(_("user %(name)s is inactive") % {"name": repr(args.username)})
        try:
            raw, doc = await self.store.create(user.id, name=args.name,
                                               expires_days=args.expires)
        except TokenError as exc:
            raise CommandError(str(exc)) from None
        await self.audit("token_create", f"manage.py createtoken: {doc['name']} "
                                         f"({doc['_id']})", user)
        expires = iso(doc["expires_at"]) or _("never")
        self.write(_("created token %(name)s (id %(id)s) for %(user)s; expires %(expires)s") % {
            "name": doc["name"], "id": doc["_id"], "user": user.username, "expires": expires})
        self.write(_("it is shown only this once:"))
        self.write(raw)
