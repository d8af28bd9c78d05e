"""``manage.py ensure_indexes``: create every index: the models' and core's own."""
from core.app import ensure_all_indexes
from core.i18n import gettext as _
from core.i18n import gettext_lazy as _l
from core.management.base import DatabaseCommand


class EnsureIndexesCommand(DatabaseCommand):
    name = "ensure_indexes"
    help = _l("Create the indexes every installed model declares, and those of the "
              "sessions and login throttle (safe to run again).")

    async def run(self, args):
        created = await ensure_all_indexes(self.registry, self.db, self.settings)
        width = max(len(key) for key in created) + 1
        for key, names in created.items():
            listed = ", ".join(names) or _("(no indexes declared)")
            self.write(f"{(key + ':').ljust(width)} {listed}")
        return 0
