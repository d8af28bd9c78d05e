"""What a management command is: ``Command`` and ``CommandError``.

A command is a class with a ``name``, a one-line ``help``, ``add_arguments(parser)``
and ``handle(args)``. ``handle`` may be a plain function or a coroutine function
(the runner runs it with ``asyncio.run``). It returns nothing (exit 0) or an int
exit status, and raises ``CommandError("...")`` for a one-line ``error: ...`` and
exit 1. Commands are found in ``core/management/commands/*.py`` and in each
installed app's commands module (see ``core.registry.App.commands``)::

    from core.management import Command, CommandError

    class Command(Command):          # in apps/blog/management/commands/publish.py
        help = "Publish an article by its slug."

        def add_arguments(self, parser):
            parser.add_argument("slug")

        async def handle(self, args):
            async with self.database():
                ...
"""
import argparse
import contextlib
import sys

from core.conf import ImproperlyConfigured


class CommandError(Exception):
    """A failure the user can act on: printed as ``error: <message>``, exit ``returncode``."""

    def __init__(self, message, returncode=1):
        super().__init__(message)
        self.returncode = returncode


class Command:
    """Base class of management commands.

    ``settings``  the loaded ``core.conf.Settings``
    ``registry``  the loaded ``core.registry.Registry``
    ``stdout`` / ``stderr``  where to write (``self.write`` / ``self.warn``)
    ``commands``  every discovered command, ``{name: CommandInfo}`` (for ``help``)
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
        parser = argparse.ArgumentParser(prog=prog, description=self.help or None)
        self.add_arguments(parser)
        parser.add_argument("--traceback", action="store_true",
                            help="show the full traceback when the command fails unexpectedly")
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
