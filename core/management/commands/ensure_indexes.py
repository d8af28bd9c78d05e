"""``manage.py ensure_indexes``: create every installed model's declared indexes."""
from core.management.base import Command


class EnsureIndexesCommand(Command):
    name = "ensure_indexes"
    help = "Create the indexes every installed model declares (safe to run again)."

    async def handle(self, args):
        async with self.database():
            created = await self.registry.ensure_indexes()
        if not created:
            self.write("no models installed")
            return 0
        width = max(len(key) for key in created) + 1
        for key, names in created.items():
            self.write(f"{(key + ':').ljust(width)} {', '.join(names) or '(no indexes declared)'}")
        return 0
