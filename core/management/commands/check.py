"""``manage.py check``: settings load, every ``ModelAdmin`` is configured right, the
database answers, declared indexes exist; reports pending audit entries, interrupted
loads and stored files no document holds."""
import asyncio
from urllib.parse import urlsplit, urlunsplit

from core.management.base import CommandError, DatabaseCommand


def redact_url(url):
    """``mongodb://user:secret@host/db`` → ``mongodb://user:***@host/db``."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    return url


class CheckCommand(DatabaseCommand):
    name = "check"
    help = "Check the settings, that the database answers, and that every declared index exists."
    bind_models = False

    async def before_open(self, args):
        """The settings, the apps and the admin, before the database is tried."""
        settings, registry = self.settings, self.registry
        self.write(f"settings: {settings.module} (DEBUG {'on' if settings.DEBUG else 'off'}, "
                   f"cookie secret {'set' if settings.COOKIE_SECRET else 'MISSING'})")
        if not settings.COOKIE_SECRET:
            raise CommandError("COOKIE_SECRET is not set")
        labels = ", ".join(registry.apps) or "none"
        self.write(f"apps: {len(registry.apps)} installed ({labels}), "
                   f"{len(registry.models)} models")
        self.check_admin()
        self.url = redact_url(settings.DATABASE_URL)
        self.timeout = float(settings.get("DATABASE_PING_TIMEOUT", 2.0))

    async def run(self, args):
        """The database answers, its indexes exist; what a crash left unfinished."""
        db, registry, url, timeout = self.db, self.registry, self.url, self.timeout
        try:
            await asyncio.wait_for(db.ping(), timeout)
        except asyncio.TimeoutError:
            raise CommandError(f"database {url} did not answer within {timeout:g} s") from None
        except Exception as exc:
            raise CommandError(f"database {url} is unreachable: {type(exc).__name__}: "
                               f"{' '.join(str(exc).split())}") from None
        self.write(f"database: {url} ({db.backend}) answers")
        missing = await registry.missing_indexes(db)
        await self.report_interrupted(db)
        if missing:
            detail = "; ".join(f"{key} ({', '.join(names)})" for key, names in missing.items())
            raise CommandError(f"missing indexes: {detail}; run 'manage.py ensure_indexes'")
        declared = sum(len(getattr(m._meta, "indexes", None) or [])
                       for m in registry.models.values())
        self.write(f"indexes: {declared} declared, all present")
        self.write("OK")
        return 0

    def check_admin(self):
        """Every ``ModelAdmin`` option against its model: one line per error, then exit 1."""
        from core.admin.sites import AdminSite
        problems = AdminSite(self.registry).check()
        for problem in problems:
            self.warn(str(problem))
        if problems:
            count = len(problems)
            raise CommandError(f"the admin is misconfigured: {count} error"
                               f"{'' if count == 1 else 's'} above")
        self.write(f"admin: {len(self.registry.models)} model admins checked")

    async def report_interrupted(self, db):
        """What a crash left unfinished: pending audit entries, interrupted loads (a
        line each, only when there is something; neither makes the check fail)."""
        from core.audit import count_pending
        from core.management.serialization import interrupted_loads
        from core.models.files import orphaned_files
        pending = await count_pending(db)
        if pending:
            self.write(f"audit: {pending} pending entr{'y' if pending == 1 else 'ies'} (writes "
                       "a crash may have interrupted, or requests running now); "
                       "'manage.py repair_audit' or a server start resolves them")
        for load in await interrupted_loads(db):
            self.write(f"loaddata: an interrupted load of {load.get('path')} (claimed up "
                       f"to line {load.get('upto')}, {load.get('documents')} documents in "
                       f"all); run 'manage.py loaddata {load.get('path')}' again to finish "
                       "it, or add --rollback to undo it")
        orphans = await orphaned_files(self.registry.models.values(), db)
        if orphans:
            names = ", ".join(f"{info.id} ({info.metadata.get('model', '?')}."
                              f"{info.metadata.get('field', '?')}, {info.filename})"
                              for info in orphans[:10])
            more = f" and {len(orphans) - 10} more" if len(orphans) > 10 else ""
            self.write(f"files: {len(orphans)} stored file{'' if len(orphans) == 1 else 's'} "
                       f"no document holds (a crash between a write and its file, or an "
                       f"upload in progress): {names}{more}")
