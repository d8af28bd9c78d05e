"""``reset2fa``: an operator takes away every second factor of a user who lost theirs."""
from core.auth.twofactor import FactorStore
from core.i18n import gettext as _
from core.i18n import gettext_lazy as _l
from core.i18n import ngettext

from ._base import AccountsCommand


class Reset2faCommand(AccountsCommand):
    name = "reset2fa"
    help = _l("Remove every second factor of a user (authenticator app, passkeys, recovery "
              "codes) and end their sessions; audited. With REQUIRE_2FA they enrol again at "
              "their next login.")
    writes = True

    def add_arguments(self, parser):
        parser.add_argument("username", metavar="USERNAME")

    async def run(self, args):
        user = await self.get_user(args.username)
        store = FactorStore(self.db)
        before = await store.summary(user.id)
        removed = await store.remove_all(user.id)
        ended = await user.end_sessions(self.db)
        names = ", ".join(store.factor_names(before)) or "none"
        await self.audit("twofactor_reset", user,
                         detail=f"manage.py {self.name}: factors removed ({names}, "
                                f"{before['recovery_codes']} recovery codes); "
                                f"{self.plural(ended, 'session')} ended")
        codes = before["recovery_codes"]
        line = _("reset two-factor login of %(user)s: removed %(factors)s and %(codes)s; "
                 "ended %(sessions)s") % {
            "user": user.username, "factors": ", ".join(store.factor_names(before)) or _("none"),
            "codes": ngettext("%(count)d recovery code", "%(count)d recovery codes", codes)
            % {"count": codes},
            "sessions": ngettext("%(count)d session", "%(count)d sessions", ended)
            % {"count": ended}}
        if not removed:
            line += " " + _("(they had no second factor)")
        self.write(line)
