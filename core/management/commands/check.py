"""``manage.py check``: settings load, the database answers, declared indexes exist."""
import asyncio
from urllib.parse import urlsplit, urlunsplit

from core.management.base import Command, CommandError


def redact_url(url):
    """``mongodb://user:secret@host/db`` → ``mongodb://user:***@host/db``."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    return url


class CheckCommand(Command):
    name = "check"
    help = "Check the settings, that the database answers, and that every declared index exists."

    async def handle(self, args):
        settings, registry = self.settings, self.registry
        self.write(f"settings: {settings.module} (DEBUG {'on' if settings.DEBUG else 'off'}, "
                   f"cookie secret {'set' if settings.COOKIE_SECRET else 'MISSING'})")
        if not settings.COOKIE_SECRET:
            raise CommandError("COOKIE_SECRET is not set")
        labels = ", ".join(registry.apps) or "none"
        self.write(f"apps: {len(registry.apps)} installed ({labels}), "
                   f"{len(registry.models)} models")
        url = redact_url(settings.DATABASE_URL)
        timeout = float(settings.get("DATABASE_PING_TIMEOUT", 2.0))
        async with self.database(bind=False) as db:
            try:
                await asyncio.wait_for(db.ping(), timeout)
            except asyncio.TimeoutError:
                raise CommandError(f"database {url} did not answer within {timeout:g} s") from None
            except Exception as exc:
                raise CommandError(f"database {url} is unreachable: {type(exc).__name__}: "
                                   f"{' '.join(str(exc).split())}") from None
            self.write(f"database: {url} ({db.backend}) answers")
            missing = await registry.missing_indexes(db)
        if missing:
            detail = "; ".join(f"{key} ({', '.join(names)})" for key, names in missing.items())
            raise CommandError(f"missing indexes: {detail}; run 'manage.py ensure_indexes'")
        declared = sum(len(getattr(m._meta, "indexes", None) or [])
                       for m in registry.models.values())
        self.write(f"indexes: {declared} declared, all present")
        self.write("OK")
        return 0
