"""``manage.py startapp NAME``: scaffold a working app in ``apps/NAME/``.

The files come from ``core/management/app_template/``: in paths, ``app_name``
becomes NAME; in the text, ``%%app_name%%`` becomes NAME, ``%%AppName%%`` its
class-name form (``book_club`` → ``BookClub``) and ``%%verbose_name%%`` its label
for people (``Book club``); a ``-tpl`` suffix is dropped. The app is not turned
on: the command says which line to add to ``INSTALLED_APPS``.
"""
import keyword
import re
import shutil
from pathlib import Path

from core.i18n import gettext as _
from core.i18n import gettext_lazy as _l
from core.management.base import Command, CommandError

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "app_template"
SKIPPED = {"README.md", "__pycache__"}
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def class_name(name):
    """``book_club`` → ``BookClub``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def render_template_tree(template_dir, target, name):
    """Copy ``template_dir`` to ``target`` with NAME filled in; returns the files written."""
    replacements = {"%%app_name%%": name, "%%AppName%%": class_name(name),
                    "%%verbose_name%%": name.replace("_", " ").capitalize()}
    written = []
    for source in sorted(template_dir.rglob("*")):
        relative = source.relative_to(template_dir)
        if source.is_dir() or SKIPPED.intersection(relative.parts) or source.suffix == ".pyc":
            continue
        parts = [name if part == "app_name" else part for part in relative.parts]
        parts[-1] = parts[-1].replace("test_app_name", f"test_{name}")
        if parts[-1].endswith("-tpl"):
            parts[-1] = parts[-1][:-len("-tpl")]
        destination = target.joinpath(*parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        text = source.read_text(encoding="utf-8")
        for token, value in replacements.items():
            text = text.replace(token, value)
        destination.write_text(text, encoding="utf-8")
        written.append(destination)
    return written


class StartappCommand(Command):
    name = "startapp"
    help = _l("Scaffold a working app in apps/NAME/ (model, admin, form, handler, template, "
              "test).")

    def add_arguments(self, parser):
        parser.add_argument("name", help=_("the app's name: a lower-case Python identifier "
                                           "(e.g. shop), also its label and URL prefix"))

    def handle(self, args):
        name = args.name
        if not NAME_RE.match(name) or keyword.iskeyword(name):
            raise CommandError(_("%(name)s is not a valid app name: use a lower-case Python "
                                 "identifier (letters, digits, _; starting with a letter) "
                                 "that is not a keyword") % {"name": repr(name)})
        apps_dir = Path(self.settings.BASE_DIR) / "apps"
        if not apps_dir.is_dir():
            raise CommandError(_("%(folder)s does not exist (run startapp in a Bastion "
                                 "checkout)") % {"folder": apps_dir})
        target = apps_dir / name
        if target.exists():
            raise CommandError(_("%(folder)s already exists; choose another name") % {
                "folder": f"apps/{name}"})
        installed = {entry.rsplit(".", 1)[-1] for entry in self.settings.INSTALLED_APPS}
        if name in installed:
            raise CommandError(_("an installed app already uses the label %(name)s") % {
                "name": repr(name)})
        target.mkdir()
        try:
            written = render_template_tree(TEMPLATE_DIR, target, name)
        except Exception:
            shutil.rmtree(target, ignore_errors=True)
            raise
        self.write(_("Created %(folder)s (%(count)d files):") % {
            "folder": f"apps/{name}/", "count": len(written)})
        for path in written:
            self.write(f"  {path.relative_to(apps_dir.parent).as_posix()}")
        self.write("")
        self.write(_("Next:"))
        self.write("  1. " + _("add %(entry)s to INSTALLED_APPS in settings/base.py") % {
            "entry": f'"apps.{name}"'})
        self.write("  2. python manage.py ensure_indexes")
        self.write(f"  3. python -m pytest apps/{name}/tests -q")
        self.write("  4. " + _("python manage.py runserver, then open %(admin)s and "
                               "%(page)s") % {"admin": f"/admin/{name}/item/",
                                              "page": f"/{name}/"})
        return 0
