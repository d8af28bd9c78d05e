"""``manage.py loaddata FILE``: load a ``dumpdata`` file, all of it or nothing.

Validates every line through its model first (one pass, nothing written); the
first bad line is one error naming it. Then inserts in batches, keeping the
``_id``s; an insert that fails (an ``_id`` already there, a unique index)
removes everything this run inserted. See ``core.management.serialization``.
"""
import argparse

from core.management.base import Command
from core.management.serialization import describe_counts, load, validate_file


class LoaddataCommand(Command):
    name = "loaddata"
    help = ("Load a dumpdata file (JSON lines): every document is validated first, and "
            "nothing is kept unless all of it loads.")

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="a file written by dumpdata")
        parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                            help="show a progress bar on stderr (default: when stderr is a "
                                 "terminal and the file is large)")

    async def handle(self, args):
        total = validate_file(args.file, self.registry, self.stderr, args.progress)
        if not total:
            self.write(f"loaded 0 documents: {args.file} holds none")
            return 0
        async with self.database(bind=False) as db:
            counts = await load(db, args.file, self.registry, self.stderr, total,
                                args.progress)
        self.write(f"loaded {describe_counts(counts)}")
        return 0
