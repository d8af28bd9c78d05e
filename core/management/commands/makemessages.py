"""``manage.py makemessages``: bring the translation catalogs in step with the code."""
from pathlib import Path

from core import i18n
from core.i18n import gettext
from core.i18n import gettext_lazy as _l
from core.i18n_extract import extract_tree, missing_or_untranslated, update_catalogs
from core.management import Command, CommandError

#: what core's catalog (``locale/``) covers, relative to the project root
CORE_SOURCES = ["core", "templates", "static"]


class MakeMessagesCommand(Command):
    name = "makemessages"
    help = _l("Extract the messages of core (or of --app LABEL) and update the catalogs "
              "locale/<lang>/LC_MESSAGES/bastion.po of every language of LANGUAGES but the "
              "source one; --check only reports (exit 1 when a catalog is behind or has "
              "untranslated entries).")

    def add_arguments(self, parser):
        parser.add_argument("--app", metavar="LABEL",
                            help=gettext("an installed app: its files, its own locale/ "
                                         "folder"))
        parser.add_argument("--locale", "-l", action="append", metavar="LANG",
                            help=gettext("only this language (repeat for more); default: "
                                         "LANGUAGES"))
        parser.add_argument("--check", action="store_true",
                            help=gettext("change nothing; exit 1 if a message is missing or "
                                         "untranslated"))

    def sources(self, args):
        """``(root, [folders], locale_dir)`` of what is extracted."""
        if args.app:
            app = self.registry.apps.get(args.app)
            if app is None:
                raise CommandError(gettext("no installed app %(app)s (installed: "
                                           "%(installed)s)") % {
                    "app": repr(args.app),
                    "installed": ", ".join(self.registry.apps) or gettext("none")})
            path = Path(app.path)
            return path.parent, [path.name], path / "locale"
        root = i18n.CORE_LOCALE_DIR.parent
        return root, CORE_SOURCES, i18n.CORE_LOCALE_DIR

    def languages(self, args):
        codes = [code for code, _name in self.settings.get("LANGUAGES") or ()]
        if args.locale:
            unknown = [code for code in args.locale if code not in codes]
            if unknown:
                raise CommandError(gettext("%(unknown)s not in LANGUAGES (%(codes)s)") % {
                    "unknown": ", ".join(unknown), "codes": ", ".join(codes)})
            return args.locale
        return [code for code in codes if code != "en"]

    def handle(self, args):
        root, folders, locale_dir = self.sources(args)
        languages = self.languages(args)
        template = extract_tree(root, folders)
        count = len([m for m in template if m.id])
        if args.check:
            problems = []
            for language in languages:
                missing, untranslated = missing_or_untranslated(template, locale_dir, language)
                if missing or untranslated:
                    problems.append(gettext("%(language)s: %(missing)d missing, "
                                            "%(untranslated)d untranslated") % {
                        "language": language, "missing": len(missing),
                        "untranslated": len(untranslated)})
            if problems:
                raise CommandError(gettext("catalogs behind the code: %(problems)s (run "
                                           "manage.py makemessages, then translate)") % {
                    "problems": "; ".join(problems)})
            self.write(gettext("%(count)d messages, every catalog complete (%(languages)s)") % {
                "count": count, "languages": ", ".join(languages)})
            return 0
        report = update_catalogs(template, locale_dir, languages)
        for language, (added, obsolete) in report.items():
            _missing, untranslated = missing_or_untranslated(template, locale_dir, language)
            self.write(gettext("%(language)s: %(count)d messages, %(added)d new, %(dropped)d "
                               "dropped, %(left)d to translate") % {
                "language": language, "count": count, "added": added, "dropped": obsolete,
                "left": len(untranslated)})
        return 0
