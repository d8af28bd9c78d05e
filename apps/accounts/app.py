"""The accounts app: ``User`` and ``Role`` models and the user/permission commands."""
from core.i18n import gettext_lazy as _l
from core.registry import App


class AccountsApp(App):
    label = "accounts"
    verbose_name = _l("Accounts")
    models = "apps.accounts.models"
    commands = "apps.accounts.commands"

    #: the permission matrix (``apps.accounts.matrix``), in the admin's navigation for
    #: those who may read users
    admin_pages = [{"title": "Permission matrix", "path": "/admin/accounts/matrix/",
                    "handler": "apps.accounts.matrix.PermissionMatrixHandler",
                    "permission": "accounts.user:read", "name": "admin_accounts_matrix"}]

    def get_routes(self):
        """The set-password page of a user (the other user/role pages are the admin's) and
        the account pages (``/admin/account/...``: ``apps.accounts.account``)."""
        from .account import account_routes
        from .handlers import PASSWORD_PATH, UserPasswordHandler
        return [(PASSWORD_PATH + "$", UserPasswordHandler, {},
                 "admin_accounts_user_password")] + account_routes()

    async def first_run(self, run):
        """On a development server's first start (no users yet): a superuser ``admin``.

        Its random password passes the password validators and is shown once, in
        runserver's first-run box. Another server that got there first wins (the
        unique index on usernames); then nothing is said.
        """
        import secrets

        from core.auth.passwords import PasswordError, validate_password
        from core.models import UniqueError

        from .models import User

        username, email = "admin", "admin@example.com"
        while True:
            password = secrets.token_urlsafe(16)
            try:
                validate_password(password, username=username, email=email)
                break
            except PasswordError:
                continue
        try:
            user = await User.create_user(username, email, password, db=run.db,
                                          is_superuser=True)
        except UniqueError:
            return
        run.state["superuser_id"] = user.id
        run.say(f"Log in at {run.admin_url} as {username} / {password}")
        run.say("This password is shown only once: change it at "
                f"{run.admin_url}password_change/")
