"""``manage.py loaddata FILE [--rollback]``: load a ``dumpdata`` file, all of it or nothing.

Validates every line through its model first (one pass, nothing written; the
validated documents wait in a temporary file); the first bad line is one error
naming it. Then inserts them in batches, keeping the
``_id``s; an insert that fails (an ``_id`` already there, a unique index)
removes everything this load inserted. Progress is journaled: a load that was
killed is finished by running the same command again, or undone with
``--rollback``. See ``core.management.serialization``.
"""
import argparse

from core.management.base import DatabaseCommand
from core.management.serialization import (Spool, describe_counts, file_digest, load,
                                           rollback_interrupted, validate_file)


class LoaddataCommand(DatabaseCommand):
    name = "loaddata"
    help = ("Load a dumpdata file (JSON lines): every document is validated first, and "
            "nothing is kept unless all of it loads; an interrupted load is finished by "
            "running it again.")
    bind_models = False

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="a file written by dumpdata")
        parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                            help="show a progress bar on stderr (default: when stderr is a "
                                 "terminal and the file is large)")
        parser.add_argument("--rollback", action="store_true",
                            help="instead of loading: remove what an interrupted load of "
                                 "FILE inserted")

    async def before_open(self, args):
        """Every line validated (nothing written yet) and the file's digest; an empty file
        is loaded without opening the database."""
        self.spool = None if args.rollback else Spool()
        try:
            self.total = validate_file(args.file, self.registry, self.stderr, args.progress,
                                       spool=self.spool)
            self.digest = file_digest(args.file)
        except BaseException:
            self.close_spool()
            raise
        if not self.total and not args.rollback:
            self.close_spool()
            self.write(f"loaded 0 documents: {args.file} holds none")
            return 0

    def close_spool(self):
        if self.spool is not None:
            self.spool.close()
            self.spool = None

    async def run(self, args):
        if args.rollback:
            removed = await rollback_interrupted(self.db, args.file, self.registry, self.digest)
            self.write(f"rolled back the interrupted load of {args.file}: removed {removed} "
                       f"document{'' if removed == 1 else 's'}")
            return 0
        try:
            counts = await load(self.db, args.file, self.registry, self.stderr, self.total,
                                args.progress, digest=self.digest, spool=self.spool)
        finally:
            self.close_spool()
        resumed = getattr(counts, "resumed", 0)
        note = (f" (finished an interrupted load: {resumed} of them were in already)"
                if resumed else "")
        self.write(f"loaded {describe_counts(counts)}{note}")
        return 0
