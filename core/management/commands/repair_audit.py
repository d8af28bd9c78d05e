"""``manage.py repair_audit [--min-age SECONDS]``: finish what a crash left half-audited.

An ``audited`` write (``core.audit.audited``) leaves a pending entry behind when the
process dies between the write and its audit entry. This records the entries whose
write happened and drops the others (``core.audit.repair_pending``). The server does
the same at start-up; ``manage.py check`` says how many pending entries wait.
"""
import datetime

from core.i18n import gettext as _
from core.i18n import gettext_lazy as _l
from core.i18n import ngettext
from core.management.base import CommandError, DatabaseCommand

#: pending entries younger than this may belong to a request still in flight
DEFAULT_MIN_AGE = 60.0


class RepairAuditCommand(DatabaseCommand):
    name = "repair_audit"
    help = _l("Record the audit entries of writes a crash interrupted, and drop those of "
              "writes that did not happen (safe to run again).")

    def add_arguments(self, parser):
        parser.add_argument("--min-age", type=float, default=DEFAULT_MIN_AGE,
                            metavar="SECONDS",
                            help=_("leave pending entries younger than this alone: they "
                                   "may belong to a running request (default %(default)s; 0 "
                                   "when no server runs)") % {"default": f"{DEFAULT_MIN_AGE:g}"})

    async def before_open(self, args):
        if not args.min_age >= 0:
            raise CommandError(_("--min-age must be 0 or more"), returncode=2)
        self.before = datetime.datetime.now(datetime.timezone.utc) \
            - datetime.timedelta(seconds=args.min_age)

    async def run(self, args):
        from core.audit import count_pending, repair_pending
        report = await repair_pending(self.db, before=self.before)
        left = await count_pending(self.db)
        recorded, dropped = len(report.committed), len(report.dropped)  # (summary(): the log's)
        self.write(ngettext("audit repair: %(count)d pending audit entry recorded (the write "
                            "happened), %(dropped)d dropped (it did not)",
                            "audit repair: %(count)d pending audit entries recorded (the write "
                            "happened), %(dropped)d dropped (it did not)", recorded)
                   % {"count": recorded, "dropped": dropped})
        if left:
            self.write(ngettext("%(count)d younger pending entry left alone (--min-age); run "
                                "again later, or with --min-age 0 if no server runs",
                                "%(count)d younger pending entries left alone (--min-age); run "
                                "again later, or with --min-age 0 if no server runs", left)
                       % {"count": left})
        return 0
