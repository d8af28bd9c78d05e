"""``manage.py dumpdata [MODEL...] [--output FILE]``: documents as JSON lines.

One line per stored document, ``{"model": KEY, "document": {...}}`` in relaxed
Extended JSON (see ``core.management.serialization`` and docs/deploy.md).
Streams each collection; a progress bar goes to stderr, never to the data.
"""
import argparse
import os
import tempfile
from pathlib import Path

from core.i18n import gettext as _
from core.i18n import gettext_lazy as _l
from core.management.base import CommandError, DatabaseCommand
from core.management.serialization import describe_counts, dump, select_models


class DumpdataCommand(DatabaseCommand):
    name = "dumpdata"
    help = _l("Write the documents of every installed model (or of the MODELs / apps named) "
              "as JSON lines to stdout or --output.")
    bind_models = False

    def add_arguments(self, parser):
        parser.add_argument("models", nargs="*", metavar="MODEL",
                            help=_("a model key (blog.article) or an app label (blog); "
                                   "default: every installed model"))
        parser.add_argument("--output", "-o", metavar="FILE",
                            help=_("write to FILE (replaced only once the dump is complete) "
                                   "instead of stdout"))
        parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                            help=_("show a progress bar on stderr (default: when stderr is a "
                                   "terminal and there are 1,000 documents or more)"))

    async def before_open(self, args):
        """The models to dump, and the --output folder exists."""
        self.models = select_models(self.registry, args.models)
        if args.output:
            path = Path(args.output)
            folder = path.parent if str(path.parent) else Path(".")
            if not folder.is_dir():
                raise CommandError(_("cannot write %(path)s: folder %(folder)s does not "
                                     "exist") % {"path": path, "folder": folder})

    async def run(self, args):
        if args.output:
            return await self.dump_to_file(self.models, Path(args.output), args.progress)
        counts = await dump(self.db, self.models, self.stdout.write, self.stderr, args.progress)
        self.stdout.flush()
        self.warn(_("dumped %(counts)s") % {"counts": describe_counts(counts)})
        return 0

    async def dump_to_file(self, models, path, progress):
        """Dump into a temporary file beside ``path``, renamed to it once complete."""
        folder = path.parent if str(path.parent) else Path(".")
        try:
            fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
        except OSError as exc:
            raise CommandError(_("cannot write %(path)s: %(reason)s") % {
                "path": path, "reason": exc.strerror or exc}) from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
                counts = await dump(self.db, models, out.write, self.stderr, progress)
            os.replace(temp, path)
        except BaseException:
            os.unlink(temp)
            raise
        self.warn(_("dumped %(counts)s to %(path)s") % {
            "counts": describe_counts(counts), "path": path})
        return 0
