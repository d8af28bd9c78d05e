"""``manage.py loaddata FILE [--rollback]``: load a ``dumpdata`` file, all of it or nothing.

Into the embedded store, one transaction: worker processes validate the lines while the
store inserts those already validated; the first bad line (invalid, or refused: an
``_id`` already there, a unique index) is one error naming it, and rolls everything
back, as does a kill (see ``core.management.atomic_load``).

Into MongoDB: validates every line through its model first (one pass, nothing written;
the validated documents wait in a temporary file), then inserts them in batches,
keeping the ``_id``s; an insert that fails removes everything this load inserted.
Progress is journaled: a load that was killed is finished by running the same command
again, or undone with ``--rollback``. See ``core.management.serialization``.
"""
import argparse

from core.i18n import gettext as _
from core.i18n import gettext_lazy as _l
from core.i18n import ngettext
from core.management.atomic_load import (ValidatingChunks, holds_lines, in_one_transaction,
                                         load_atomically)
from core.management.base import DatabaseCommand
from core.management.serialization import (Spool, describe_counts, file_digest,
                                           interrupted_load, load, rollback_interrupted,
                                           validate_file)


class LoaddataCommand(DatabaseCommand):
    name = "loaddata"
    help = _l("Load a dumpdata file (JSON lines): every document is validated, and "
              "nothing is kept unless all of it loads.")
    bind_models = False

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help=_("a file written by dumpdata"))
        parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                            help=_("show a progress bar on stderr (default: when stderr is a "
                                   "terminal and the file is large)"))
        parser.add_argument("--rollback", action="store_true",
                            help=_("instead of loading: remove what an interrupted load of "
                                   "FILE inserted"))

    async def handle(self, args):
        """``DatabaseCommand.handle``, and the validating workers stopped afterwards, also
        when the database cannot be opened (they start before it opens)."""
        self.chunks = None
        try:
            return await super().handle(args)
        finally:
            if self.chunks is not None:
                self.chunks.close()

    async def before_open(self, args):
        """Into the embedded store: the workers start validating (forked before the
        database opens). Else every line validated (nothing written yet) and the file's
        digest. An empty file is loaded without opening the database."""
        self.spool = self.chunks = None
        if not args.rollback and in_one_transaction(self.settings.DATABASE_URL):
            if not holds_lines(args.file):
                return self.loaded_none(args)
            self.chunks = ValidatingChunks(args.file, self.registry).start()
            return None
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
            return self.loaded_none(args)

    def loaded_none(self, args):
        self.write(_("loaded 0 documents: %(file)s holds none") % {"file": args.file})
        return 0

    def close_spool(self):
        if self.spool is not None:
            self.spool.close()
            self.spool = None

    async def run(self, args):
        if args.rollback:
            removed = await rollback_interrupted(self.db, args.file, self.registry, self.digest)
            self.write(ngettext("rolled back the interrupted load of %(file)s: removed "
                                "%(count)d document",
                                "rolled back the interrupted load of %(file)s: removed "
                                "%(count)d documents", removed) % {"file": args.file,
                                                                   "count": removed})
            return 0
        if self.chunks is not None:
            try:
                self.digest = await interrupted_load(self.db, args.file)
                if self.digest is None:
                    counts = await load_atomically(self.db, args.file, self.registry,
                                                   self.chunks, self.stderr, args.progress)
                    if not counts:
                        return self.loaded_none(args)
                    self.write(_("loaded %(counts)s") % {"counts": describe_counts(counts)})
                    return 0
            finally:
                self.chunks.close()         # (again in handle: closing twice is harmless)
            # an interrupted load of this file (an earlier version's) is finished the resumable
            # way, its documents inserted as into MongoDB; validated here, in this process: the
            # database is open (no worker may fork with its connections and threads)
            self.spool = Spool()
            self.total = validate_file(args.file, self.registry, self.stderr, args.progress,
                                       spool=self.spool, workers=1)
        try:
            counts = await load(self.db, args.file, self.registry, self.stderr, self.total,
                                args.progress, digest=self.digest, spool=self.spool)
        finally:
            self.close_spool()
        resumed = getattr(counts, "resumed", 0)
        line = _("loaded %(counts)s") % {"counts": describe_counts(counts)}
        if resumed:
            line += " " + _("(finished an interrupted load: %(count)d of them were in "
                            "already)") % {"count": resumed}
        self.write(line)
        return 0
