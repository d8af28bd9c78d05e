"""What a management command is: ``Command``, ``DatabaseCommand`` and ``CommandError``.

A command is a class with a ``name``, a one-line ``help``, ``add_arguments(parser)``
and ``handle(args)``. ``handle`` may be a plain function or a coroutine function
(the runner runs it with ``asyncio.run``). It returns nothing (exit 0) or an int
exit status, and raises ``CommandError("...")`` for a one-line ``error: ...`` and
exit 1. Commands are found in ``core/management/commands/*.py`` and in each
installed app's commands module (see ``core.registry.App.commands``)::

    from core.i18n import gettext as _, gettext_lazy as _l
    from core.management import Command, CommandError

    class Command(Command):          # in apps/blog/management/commands/publish.py
        help = _l("Publish an article by its slug.")   # shown in LANGUAGE

        def add_arguments(self, parser):
            parser.add_argument("slug")

        async def handle(self, args):
            async with self.database():
                ...

A command that works on the database subclasses ``DatabaseCommand`` instead and
writes ``run(args)``, called with ``self.db`` open (see its hooks).
"""
import argparse
import contextlib
import sys

from core import i18n
from core.conf import ImproperlyConfigured
from core.i18n import gettext_lazy as _l

#: argparse's own texts (usage, section titles, usage errors), marked so the catalogs
#: hold them; ``argparse_speaks_language`` has argparse show them in ``LANGUAGE``
ARGPARSE_MESSAGES = (
    _l("usage: "), _l("positional arguments"), _l("options"),
    _l("show this help message and exit"), _l("%(prog)s: error: %(message)s\n"),
    _l("the following arguments are required: %s"), _l("unrecognized arguments: %s"),
    _l("argument %(argument_name)s: %(message)s"), _l("expected one argument"),
    _l("expected at least one argument"), _l("expected at most one argument"),
    _l("invalid choice: %(value)r (choose from %(choices)s)"),
    _l("invalid %(type)s value: %(value)r"), _l("ambiguous option: %(option)s could match "
                                                "%(matches)s"),
    _l("not allowed with argument %s"), _l("one of the arguments %s is required"),
    _l("ignored explicit argument %r"),
)


@contextlib.contextmanager
def argparse_speaks_language():
    """While inside, argparse's texts (``usage:``, ``options``, its usage errors) come in
    the active language: its module-level ``_`` / ``ngettext`` are ours, restored after."""
    saved = argparse._, argparse.ngettext
    argparse._, argparse.ngettext = i18n.gettext, i18n.ngettext
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved


class CommandError(Exception):
    """A failure the user can act on: printed as ``error: <message>``, exit ``returncode``.
    The message is in ``LANGUAGE``: build it with ``gettext`` and named placeholders."""

    def __init__(self, message, returncode=1):
        super().__init__(message)
        self.returncode = returncode


class Command:
    """Base class of management commands.

    ``settings``  the loaded ``core.conf.Settings``
    ``registry``  the loaded ``core.registry.Registry``
    ``stdout`` / ``stderr``  where to write (``self.write`` / ``self.warn``)
    ``commands``  every discovered command, ``{name: CommandInfo}`` (for ``help``, which
                  ``run`` gives them; a command found by name alone gets none)
    """

    name = None
    help = ""
    # False for commands that must work even when the settings cannot load (help).
    requires_settings = True

    def __init__(self, settings=None, registry=None, stdout=None, stderr=None, commands=None):
        self.settings = settings
        self.registry = registry
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.commands = commands or {}

    def create_parser(self, prog):
        """The command's ``argparse`` parser; override ``add_arguments`` to add options."""
        with argparse_speaks_language():
            parser = argparse.ArgumentParser(prog=prog, description=str(self.help) or None)
            self.add_arguments(parser)
            parser.add_argument("--traceback", action="store_true",
                                help=i18n.gettext("show the full traceback when the command "
                                                  "fails unexpectedly"))
        return parser

    def add_arguments(self, parser):
        """Add the command's arguments to ``parser`` (an ``argparse.ArgumentParser``)."""

    def handle(self, args):
        """Do the work; ``args`` is the parsed ``argparse.Namespace``."""
        raise NotImplementedError(f"{type(self).__name__} must implement handle()")

    def write(self, text=""):
        print(text, file=self.stdout, flush=True)

    def warn(self, text):
        print(text, file=self.stderr, flush=True)

    @contextlib.asynccontextmanager
    async def database(self, bind=True):
        """Open the settings' database (bound to the models), close it afterwards."""
        from core.db import connect
        try:
            db = connect(self.settings.DATABASE_URL, self.settings.MONGO_DRIVER)
        except ValueError as exc:
            raise ImproperlyConfigured(str(exc)) from None
        try:
            if bind:
                self.registry.bind(db)
            yield db
        finally:
            await db.close()


class DatabaseCommand(Command):
    """A command that works on the settings' database; write ``run(args)``.

    ``handle`` calls, in this order:

    ``before_open(args)``  before the database is opened: check the arguments and do
                           what needs no database, so a bad argument fails (a
                           ``CommandError``) without connecting. Returning an exit status
                           (not ``None``) ends the command there, the database unopened.
                           Does nothing by default.
    ``after_open(args)``   once the database is open (``self.db``), before ``run``: make
                           sure indexes exist, build stores. Does nothing by default.
    ``run(args)``          the work, with ``self.db`` open; its return value is the exit
                           status (``None`` → 0).

    The database is bound to the models unless ``bind_models`` is false (commands
    that address collections by name), and closed after ``run``, also when a hook
    raises; then ``self.db`` is ``None`` again. All three hooks are coroutines.
    """

    #: bind the database to the models (``Model.find`` etc. use it) while it is open
    bind_models = True
    db = None

    async def handle(self, args):
        status = await self.before_open(args)
        if status is not None:
            return status
        async with self.database(bind=self.bind_models) as db:
            self.db = db
            try:
                await self.after_open(args)
                return await self.run(args)
            finally:
                self.db = None

    async def before_open(self, args):
        """Called before the database is opened; raise ``CommandError`` to stop, or return
        an exit status to finish without opening it."""

    async def after_open(self, args):
        """Called with ``self.db`` open, before ``run``."""

    async def run(self, args):
        """Do the work with ``self.db`` open; return the exit status or ``None``."""
        raise NotImplementedError(f"{type(self).__name__} must implement run()")
