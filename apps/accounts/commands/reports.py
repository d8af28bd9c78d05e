"""``manage.py whocan`` / ``permmatrix`` / ``sweepgrants``: who may do what and why, and the
removal of grants that have expired.

``whocan`` and ``permmatrix`` print rows of ``apps.accounts.permtable`` (the engine's
own answers); ``sweepgrants`` is housekeeping only — an expired grant already stops
applying at once, the sweep just removes it from the stored dicts, with an audit
entry per user or role.
"""
from core.i18n import gettext as _
from core.i18n import gettext_lazy as _l
from core.i18n import ngettext
from core.permissions import GRANT, normalize_permissions, parse_entry

from ..models import Role, User
from ..permtable import load_subjects, matrix_rows, reach_text, rows_as, sources_text
from ._base import AccountsCommand


class WhocanCommand(AccountsCommand):
    name = "whocan"
    help = _l("List every user who may do ACTION on MODEL, with where each grant comes from.")

    def add_arguments(self, parser):
        parser.add_argument("model", metavar="MODEL", help="app_label.model_name")
        parser.add_argument("action", metavar="ACTION", help=_("read, write, delete, ..."))
        parser.add_argument("--json", action="store_true", help=_("print JSON"))

    async def run(self, args):
        key, actions = self.check_grant(args.model, [args.action])
        action = parse_entry(actions[0]).action
        subjects = await load_subjects(self.registry, roles=False)
        rows = matrix_rows(subjects, key, action)
        if args.json:
            self.write_json({"model": key, "action": action, "users": [
                {"username": row["name"], "reach": row["reach"], "sources": row["sources"]}
                for row in rows]})
            return
        if not rows:
            self.write(_("nobody may %(action)s %(model)s") % {"action": action, "model": key})
            return
        self.write(_("who may %(action)s %(model)s:") % {"action": action, "model": key})
        width = max(len(row["name"]) for row in rows)
        for row in rows:
            self.write(f"  {row['name'].ljust(width)}  {reach_text(row['reach'])}: "
                       f"{sources_text(row['sources'], translate=_)}")


class PermmatrixCommand(AccountsCommand):
    name = "permmatrix"
    help = _l("Export users (and roles) x models x actions with the source of each grant.")

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=("csv", "json", "md"), default="csv",
                            help=_("csv (default), json or md"))
        parser.add_argument("--role-only", action="store_true",
                            help=_("only the roles, not the users"))

    async def run(self, args):
        subjects = await load_subjects(self.registry, users=not args.role_only)
        self.write(rows_as(matrix_rows(subjects), args.format))


def without_expired(permissions, now):
    """``(kept dict, {key: [expired entries]})``."""
    kept, removed = {}, {}
    for key, texts in normalize_permissions(permissions).items():
        for text in texts:
            entry = parse_entry(text)
            if entry.kind == GRANT and not entry.active(now):
                removed.setdefault(key, []).append(text)
            else:
                kept.setdefault(key, []).append(text)
    return kept, removed


class SweepgrantsCommand(AccountsCommand):
    name = "sweepgrants"
    help = _l("Remove grants that have expired from every user and role (audited).")
    writes = True

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help=_("list what would be removed, change nothing"))
        parser.add_argument("--json", action="store_true", help=_("print JSON"))

    async def run(self, args):
        import datetime
        now = datetime.datetime.now(datetime.timezone.utc)
        report = []
        for model, label in ((User, "username"), (Role, "name")):
            for obj in await model.find({"permissions": {"$exists": True}}).to_list(None):
                kept, removed = without_expired(obj.permissions or {}, now)
                if not removed:
                    continue
                report.append({"kind": "user" if model is User else "role",
                               "name": getattr(obj, label), "removed": removed})
                if not args.dry_run:
                    await self.change_field(obj, "permissions", kept, "permission_change")
        if args.json:
            self.write_json({"dry_run": args.dry_run, "swept": report})
            return
        for item in report:
            listed = "; ".join(f"{key}: {', '.join(texts)}"
                               for key, texts in item["removed"].items())
            subject = (_("user %(name)s") if item["kind"] == "user" else
                       _("role %(name)s")) % {"name": item["name"]}
            self.write((_("%(subject)s: would remove %(grants)s") if args.dry_run else
                        _("%(subject)s: removed %(grants)s")) % {"subject": subject,
                                                                 "grants": listed})
        count = sum(len(texts) for item in report for texts in item["removed"].values())
        if args.dry_run:
            self.write(ngettext("would remove %(count)d expired grant",
                                "would remove %(count)d expired grants", count) % {"count": count})
        else:
            self.write(ngettext("removed %(count)d expired grant", "removed %(count)d expired "
                                "grants", count) % {"count": count})
