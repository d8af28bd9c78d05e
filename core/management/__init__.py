"""``manage.py``'s command runner: ``main(argv) -> exit status``.

Commands come from ``core/management/commands/*.py`` and from each installed
app's commands module or package. ``help`` lists them; each has ``--help``.
Exit status: 0 success, 1 a failure (one line ``error: ...`` on stderr),
2 bad usage (an unknown command or wrong arguments). Everything but ``--json`` output
and data (``dumpdata``) is in the ``LANGUAGE`` setting's language; the ``error:``
prefix stays as it is for scripts.
"""
import asyncio
import importlib
import importlib.util
import inspect
import pkgutil
import re
import sys
from dataclasses import dataclass

from core import i18n
from core.conf import ImproperlyConfigured
from core.conf import settings as lazy_settings
from core.registry import Registry

from .base import Command, CommandError, DatabaseCommand, argparse_speaks_language

__all__ = ["Command", "CommandError", "CommandInfo", "DatabaseCommand", "discover_commands",
           "find_command", "main"]

PROG = "manage.py"


@dataclass
class CommandInfo:
    """A discovered command: its class and where it came from (``core`` or an app label)."""

    name: str
    command_class: type
    source: str

    @property
    def help(self):
        return (self.command_class.help or "").strip().splitlines()[0] if \
            self.command_class.help else ""


def commands_in_module(module):
    """The ``Command`` subclasses defined in ``module`` → ``{name: class}``.

    A class without a ``name`` takes the module's last component (Django-style
    ``createuser.py`` holding ``class Command``).
    """
    found = {}
    classes = [obj for obj in vars(module).values()
               if inspect.isclass(obj) and issubclass(obj, Command) and obj is not Command
               and obj.__module__ == module.__name__]
    for cls in classes:
        name = cls.name or (module.__name__.rsplit(".", 1)[-1] if len(classes) == 1 else None)
        if not name:
            continue
        cls.name = name
        found[name] = cls
    return found


def _commands_in(module):
    found = {}
    if hasattr(module, "__path__"):  # a package: every submodule
        for info in sorted(pkgutil.iter_modules(module.__path__), key=lambda i: i.name):
            if info.name.startswith("_"):
                continue
            found.update(commands_in_module(importlib.import_module(
                f"{module.__name__}.{info.name}")))
    else:
        found.update(commands_in_module(module))
    return found


def discover_commands(registry=None):
    """``{name: CommandInfo}``: core's commands, then each installed app's.

    An app's command replaces a core command of the same name; among apps, the
    one listed first in ``INSTALLED_APPS`` wins.
    """
    from . import commands as core_commands
    found = {name: CommandInfo(name, cls, "core")
             for name, cls in _commands_in(core_commands).items()}
    if registry is not None:
        claimed = set()
        for app, module in registry.command_modules():
            for name, cls in _commands_in(module).items():
                if name not in claimed:
                    claimed.add(name)
                    found[name] = CommandInfo(name, cls, app.label)
    return dict(sorted(found.items()))


def find_command(registry, name):
    """The ``CommandInfo`` ``discover_commands(registry)`` gives for ``name``, importing
    only the modules that may define it: the installed apps' commands (an app's replaces
    core's; the first app listed wins), then core's module of that name (core names each
    command module after its command). ``None`` when they do not define it; then
    ``discover_commands``, which imports every command module, has the last word."""
    if registry is not None:
        for app, module in registry.command_modules():
            cls = _commands_in(module).get(name)
            if cls is not None:
                return CommandInfo(name, cls, app.label)
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        return None
    from . import commands as core_commands
    module_name = f"{core_commands.__name__}.{name}"
    if importlib.util.find_spec(module_name) is None:
        return None
    cls = commands_in_module(importlib.import_module(module_name)).get(name)
    return None if cls is None else CommandInfo(name, cls, "core")


def _one_line(text):
    """``text`` on one line; a no-break space (French ``\u00a0;``) is kept."""
    return re.sub(r"[ \t\r\n\f\v]+", " ", str(text)).strip()


def _load():
    """Settings and registry, or the error that stopped them loading."""
    try:
        settings = lazy_settings._setup()
        registry = Registry(settings).load()
        return settings, registry, None
    except ImproperlyConfigured as exc:
        return None, None, exc


def main(argv=None, stdout=None, stderr=None):
    """Run one command from ``argv`` (without the program name); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    if not argv or argv[0] in ("-h", "--help"):
        argv = ["help"]
    name, rest = argv[0], argv[1:]

    settings, registry, setup_error = _load()
    if setup_error is None:                  # messages in the LANGUAGE setting's language
        i18n.activate(i18n.install_for_settings(settings, registry.locale_dirs()))
    try:
        # a command that names itself needs only its own module (start-up is part of
        # every command's time: core's modules import the server, the mailer, babel)
        info = None if name == "help" else find_command(registry, name)
        commands = None if info is not None else discover_commands(registry)
    except ImproperlyConfigured as exc:
        print(f"error: {_one_line(exc)}", file=stderr)
        return 1
    if info is None:
        info = commands.get(name)
    if info is None:
        if setup_error is not None:
            print(f"error: {_one_line(setup_error)}", file=stderr)
            return 1
        print("error: " + i18n.gettext("unknown command %(name)s; run '%(prog)s help' to list "
                                       "the commands") % {"name": repr(name), "prog": PROG},
              file=stderr)
        return 2
    if setup_error is not None and info.command_class.requires_settings:
        print(f"error: {_one_line(setup_error)}", file=stderr)
        return 1

    command = info.command_class(settings=settings, registry=registry, stdout=stdout,
                                 stderr=stderr, commands=commands)
    if setup_error is not None:
        command.setup_error = setup_error
    parser = command.create_parser(f"{PROG} {name}")
    try:
        with argparse_speaks_language():
            args = parser.parse_args(rest)
    except SystemExit as exc:  # --help (0) or bad usage (2); argparse printed the message
        return exc.code if isinstance(exc.code, int) else 2
    return run_command(command, args, stderr)


def run_command(command, args, stderr=None):
    """Call ``command.handle(args)`` (through ``asyncio.run`` when it is async)."""
    stderr = stderr or sys.stderr
    try:
        result = command.handle(args)
        if inspect.isawaitable(result):
            result = asyncio.run(_await(result))
    except (CommandError, ImproperlyConfigured) as exc:
        print(f"error: {_one_line(exc)}", file=stderr)
        return getattr(exc, "returncode", 1)
    except KeyboardInterrupt:
        print(i18n.gettext("interrupted"), file=stderr)
        return 130
    except Exception as exc:
        if getattr(args, "traceback", False):
            raise
        print("error: " + i18n.gettext("%(error)s (run with --traceback for details)") % {
            "error": f"{type(exc).__name__}: {_one_line(exc)}"}, file=stderr)
        return 1
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


async def _await(awaitable):
    return await awaitable
