"""``manage.py ensure_indexes``: create every index: the models' and core's own."""
from core.app import ensure_all_indexes
from core.management.base import Command


class EnsureIndexesCommand(Command):
    name = "ensure_indexes"
    help = ("Create the indexes every installed model declares, and those of the "
            "sessions and login throttle (safe to run again).")

    async def handle(self, args):
        async with self.database() as db:
            created = await ensure_all_indexes(self.registry, db, self.settings)
        width = max(len(key) for key in created) + 1
        for key, names in created.items():
            self.write(f"{(key + ':').ljust(width)} {', '.join(names) or '(no indexes declared)'}")
        return 0
