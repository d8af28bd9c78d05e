"""``manage.py help [COMMAND]``: list the commands, or show one command's options."""
from core.i18n import gettext
from core.i18n import gettext_lazy as _l
from core.management.base import Command, CommandError, argparse_speaks_language

USAGE = _l("usage: manage.py <command> [options]    ('manage.py <command> --help' for its "
           "options)")


class HelpCommand(Command):
    name = "help"
    help = _l("List the commands with a line about each, or show one command's options.")
    requires_settings = False

    def add_arguments(self, parser):
        parser.add_argument("command", nargs="?", help=gettext("a command to describe"))

    def handle(self, args):
        if args.command:
            info = self.commands.get(args.command)
            if info is None:
                raise CommandError(gettext("unknown command %(name)s") % {
                    "name": repr(args.command)}, returncode=2)
            parser = info.command_class(settings=self.settings, registry=self.registry,
                                        commands=self.commands).create_parser(
                f"manage.py {args.command}")
            with argparse_speaks_language():
                parser.print_help(self.stdout)
            return 0
        self.write(str(USAGE))
        width = max((len(name) for name in self.commands), default=10) + 2
        by_source = {}
        for info in self.commands.values():
            by_source.setdefault(info.source, []).append(info)
        for source, infos in by_source.items():
            self.write("")
            self.write(gettext("core commands:") if source == "core" else
                       gettext("[%(app)s] commands:") % {"app": source})
            for info in infos:
                self.write(f"  {info.name.ljust(width)}{info.help}")
        error = getattr(self, "setup_error", None)
        if error is not None:
            self.warn(gettext("warning: app commands are not listed: %(error)s") % {
                "error": error})
        return 0
