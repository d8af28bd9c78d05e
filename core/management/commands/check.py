"""``manage.py check``: settings load, every ``ModelAdmin`` is configured right, the
database answers, declared indexes exist; reports pending audit entries, interrupted
loads and stored files no document holds."""
import asyncio
from urllib.parse import urlsplit, urlunsplit

from core.i18n import gettext as _
from core.i18n import gettext_lazy as _l
from core.i18n import ngettext
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
    help = _l("Check the settings, that the database answers, and that every declared index "
              "exists.")
    bind_models = False

    async def before_open(self, args):
        """The settings, the apps and the admin, before the database is tried."""
        settings, registry = self.settings, self.registry
        self.write(_("settings: %(module)s (DEBUG %(debug)s, cookie secret %(secret)s)") % {
            "module": settings.module, "debug": _("on") if settings.DEBUG else _("off"),
            "secret": _("set") if settings.COOKIE_SECRET else _("MISSING")})
        if not settings.COOKIE_SECRET:
            raise CommandError(_("COOKIE_SECRET is not set"))
        labels = ", ".join(registry.apps) or _("none")
        self.write(_("apps: %(count)d installed (%(labels)s), %(models)d models") % {
            "count": len(registry.apps), "labels": labels, "models": len(registry.models)})
        self.check_admin()
        self.url = redact_url(settings.DATABASE_URL)
        self.timeout = float(settings.get("DATABASE_PING_TIMEOUT", 2.0))

    async def run(self, args):
        """The database answers, its indexes exist; what a crash left unfinished."""
        db, registry, url, timeout = self.db, self.registry, self.url, self.timeout
        try:
            await asyncio.wait_for(db.ping(), timeout)
        except asyncio.TimeoutError:
            raise CommandError(_("database %(url)s did not answer within %(timeout)s s") % {
                "url": url, "timeout": f"{timeout:g}"}) from None
        except Exception as exc:
            raise CommandError(_("database %(url)s is unreachable: %(reason)s") % {
                "url": url, "reason": f"{type(exc).__name__}: {' '.join(str(exc).split())}"}) \
                from None
        self.write(_("database: %(url)s (%(backend)s) answers") % {
            "url": url, "backend": db.backend})
        missing = await registry.missing_indexes(db)
        await self.report_interrupted(db)
        if missing:
            detail = "; ".join(f"{key} ({', '.join(names)})" for key, names in missing.items())
            raise CommandError(_("missing indexes: %(detail)s; run 'manage.py ensure_indexes'")
                               % {"detail": detail})
        declared = sum(len(getattr(m._meta, "indexes", None) or [])
                       for m in registry.models.values())
        self.write(_("indexes: %(count)d declared, all present") % {"count": declared})
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
            raise CommandError(ngettext("the admin is misconfigured: %(count)d error above",
                                        "the admin is misconfigured: %(count)d errors above",
                                        count) % {"count": count})
        self.write(_("admin: %(count)d model admins checked") % {
            "count": len(self.registry.models)})

    async def report_interrupted(self, db):
        """What a crash left unfinished: pending audit entries, interrupted loads (a
        line each, only when there is something; neither makes the check fail)."""
        from core.audit import count_pending
        from core.management.serialization import interrupted_loads
        from core.models.files import orphaned_files
        pending = await count_pending(db)
        if pending:
            self.write(ngettext(
                "audit: %(count)d pending entry (writes a crash may have interrupted, or "
                "requests running now); 'manage.py repair_audit' or a server start resolves "
                "them",
                "audit: %(count)d pending entries (writes a crash may have interrupted, or "
                "requests running now); 'manage.py repair_audit' or a server start resolves "
                "them", pending) % {"count": pending})
        for load in await interrupted_loads(db):
            self.write(_("loaddata: an interrupted load of %(path)s (claimed up to line "
                         "%(upto)s, %(documents)s documents in all); run 'manage.py loaddata "
                         "%(path)s' again to finish it, or add --rollback to undo it") % {
                "path": load.get("path"), "upto": load.get("upto"),
                "documents": load.get("documents")})
        orphans = await orphaned_files(self.registry.models.values(), db)
        if orphans:
            names = ", ".join(f"{info.id} ({info.metadata.get('model', '?')}."
                              f"{info.metadata.get('field', '?')}, {info.filename})"
                              for info in orphans[:10])
            if len(orphans) > 10:
                names += " " + _("and %(count)d more") % {"count": len(orphans) - 10}
            self.write(ngettext(
                "files: %(count)d stored file no document holds (a crash between a write and "
                "its file, or an upload in progress): %(names)s",
                "files: %(count)d stored files no document holds (a crash between a write and "
                "its file, or an upload in progress): %(names)s", len(orphans))
                % {"count": len(orphans), "names": names})
