"""``manage.py help [COMMAND]``: list the commands, or show one command's options."""
from core.i18n import gettext
from core.management.base import Command, CommandError

USAGE = "usage: manage.py <command> [options]    ('manage.py <command> --help' for its options)"


class HelpCommand(Command):
    name = "help"
    help = "List the commands with a line about each, or show one command's options."
    requires_settings = False

    def add_arguments(self, parser):
        parser.add_argument("command", nargs="?", help="a command to describe")

    def handle(self, args):
        if args.command:
            info = self.commands.get(args.command)
            if info is None:
                raise CommandError(f"unknown command {args.command!r}", returncode=2)
            parser = info.command_class(settings=self.settings, registry=self.registry,
                                        commands=self.commands).create_parser(
                f"manage.py {args.command}")
            parser.print_help(self.stdout)
            return 0
        self.write(USAGE)
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
            self.warn(f"warning: app commands are not listed: {error}")
        return 0
