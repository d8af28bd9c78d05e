"""What the token commands share: the user model (via the registry) and the store."""
import datetime

from core.i18n import gettext as _
from core.management import CommandError, DatabaseCommand


def iso(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.astimezone(datetime.timezone.utc).isoformat()
    return None


class TokenCommand(DatabaseCommand):
    """Base of ``createtoken``, ``tokens`` and ``revoketoken``: ``run(args)`` with
    ``self.db`` open, ``self.store`` (``core.auth.tokens.TokenStore``, its indexes made)
    and ``self.user_model`` (``settings.AUTH_USER_MODEL``, found through the registry)."""

    async def before_open(self, args):
        """The user model, or an error before the database is opened."""
        key = self.settings.get("AUTH_USER_MODEL") or "accounts.user"
        try:
            self.user_model = self.registry.get_model(key)
        except LookupError:
            raise CommandError(_("the user model %(model)s is not installed") % {
                "model": repr(key)}) from None

    async def after_open(self, args):
        """The token store on the open database, with its indexes."""
        from core.auth.tokens import TokenStore
        self.store = TokenStore(self.db)
        await self.store.ensure_indexes()

    async def get_user(self, username):
        user = await self.user_model.find_one({"username": username}, db=self.db) \
            if isinstance(username, str) and username else None
        if user is None:
            raise CommandError(_("unknown user %(name)s") % {"name": repr(username)})
        return user

    async def audit(self, action, detail, user):
        try:
            from core.audit import record
        except ImportError:
            return
        await record(action=action, actor="manage.py", obj=user, db=self.db, detail=detail)

    def describe(self, doc, usernames):
        now = datetime.datetime.now(datetime.timezone.utc)
        expires = doc.get("expires_at")
        if isinstance(expires, datetime.datetime) and expires.tzinfo is None:
            expires = expires.replace(tzinfo=datetime.timezone.utc)
        return {"id": str(doc["_id"]), "name": doc.get("name"),
                "username": usernames.get(doc.get("user_id"), str(doc.get("user_id"))),
                "created_at": iso(doc.get("created_at")), "expires_at": iso(expires),
                "last_used_at": iso(doc.get("last_used_at")),
                "expired": bool(expires is not None and now >= expires)}


__all__ = ["CommandError", "TokenCommand", "iso"]
