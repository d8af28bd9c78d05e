"""``reset2fa``: an operator takes away every second factor of a user who lost theirs."""
from core.auth.twofactor import FactorStore

from ._base import AccountsCommand


class Reset2faCommand(AccountsCommand):
    name = "reset2fa"
    help = ("Remove every second factor of a user (authenticator app, passkeys, recovery "
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
        note = "" if removed else " (they had no second factor)"
        self.write(f"reset two-factor login of {user.username}: removed {names} and "
                   f"{self.plural(before['recovery_codes'], 'recovery code')}; ended "
                   f"{self.plural(ended, 'session')}{note}")
