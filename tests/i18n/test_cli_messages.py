"""The command line in the ``LANGUAGE`` setting's language: confirmations, one-line errors,
listings, ``--help`` (argparse's own words too) and usage errors, for French and German;
``--json`` output keeps its English keys. And extract → compare for the commands: every
message of core's and the apps' commands goes through a translation call (so it is
extracted into the catalogs that ``test_catalogs`` checks)."""
import json
from pathlib import Path

import pytest

from core.i18n_extract import unmarked_cli_messages
from support.cli import manage, manage_env, one_error_line

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple 9"

EXPECTED = {
    "fr": {"created": "utilisateur bob créé",
           "listing": "bob  bob@example.com  [superutilisateur]",
           "unknown_user": "error: utilisateur inconnu 'nobody'",
           "unreadable": "error: impossible de lire nothing.jsonl\u00a0: ",
           "help": ["arguments positionnels:", "afficher cette aide et quitter",
                    "l'adresse e-mail du nouvel utilisateur", "Crée un utilisateur\u00a0;"],
           "usage": "manage.py createuser\u00a0: erreur\u00a0: les arguments suivants sont "
                    "obligatoires\u00a0: USERNAME, --email",
           "roles": "aucun rôle",
           "deactivated": "bob désactivé\u00a0; 0 session terminée(s), 0 jeton révoqué(s)"},
    "de": {"created": "Benutzer bob erstellt",
           "listing": "bob  bob@example.com  [Superuser]",
           "unknown_user": "error: unbekannter Benutzer 'nobody'",
           "unreadable": "error: nothing.jsonl kann nicht gelesen werden: ",
           "help": ["Optionen:", "diese Hilfe anzeigen und beenden",
                    "die E-Mail-Adresse des neuen Benutzers", "Erstellt einen Benutzer;"],
           "usage": "manage.py createuser: Fehler: folgende Argumente sind erforderlich: "
                    "USERNAME, --email",
           "roles": "keine Rollen",
           "deactivated": "bob deaktiviert; 0 Sitzungen beendet, 0 Tokens widerrufen"},
}


@pytest.mark.parametrize("language", ["fr", "de"])
def test_the_commands_speak_the_language_setting(tmp_path, language):
    env = manage_env(tmp_path, LANGUAGE=language)
    expected = EXPECTED[language]
    created = manage(["createsuperuser", "--username", "bob", "--email", "bob@example.com",
                      "--password-stdin"], env, input=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == {"fr": "superutilisateur bob créé",
                                      "de": "Superuser bob erstellt"}[language]
    listing = manage(["users"], env)
    assert listing.stdout.strip() == expected["listing"]
    as_json = json.loads(manage(["users", "--json"], env).stdout)    # for scripts: English
    assert as_json[0]["username"] == "bob" and as_json[0]["is_superuser"] is True
    assert manage(["roles"], env).stdout.strip() == expected["roles"]
    unknown = manage(["perms", "nobody"], env)
    assert unknown.returncode == 1 and one_error_line(unknown) == expected["unknown_user"]
    no_model = manage(["grant", "bob", "nope.model", "read"], env)     # the engine's refusal
    assert no_model.returncode == 1
    assert one_error_line(no_model).startswith({
        "fr": "error: modèle inconnu 'nope.model' (modèles installés\u00a0: ",
        "de": "error: unbekanntes Modell 'nope.model' (installierte Modelle: "}[language])
    unreadable = manage(["loaddata", "nothing.jsonl"], env)
    assert unreadable.returncode == 1
    assert one_error_line(unreadable).startswith(expected["unreadable"])
    described = manage(["createuser", "--help"], env)
    assert described.returncode == 0
    for text in expected["help"]:
        assert text in described.stdout, (text, described.stdout)
    bad_usage = manage(["createuser"], env)
    assert bad_usage.returncode == 2
    assert expected["usage"] in bad_usage.stderr
    # deactivating the last superuser is refused, in the language
    refused = manage(["deactivate", "bob"], env)
    assert refused.returncode == 1
    assert one_error_line(refused) == {
        "fr": "error: bob est le dernier superutilisateur actif\u00a0; créez ou activez "
              "d'abord un autre superutilisateur",
        "de": "error: bob ist der letzte aktive Superuser; erstellen oder aktivieren Sie "
              "zuerst einen anderen Superuser"}[language]


def test_english_stays_the_default(tmp_path):
    env = manage_env(tmp_path)
    created = manage(["createuser", "bob", "--email", "bob@example.com", "--password-stdin"],
                     env, input=PASSWORD + "\n")
    assert created.stdout.startswith("created user bob")
    assert one_error_line(manage(["perms", "nobody"], env)) == "error: unknown user 'nobody'"
    described = manage(["createuser", "--help"], env).stdout
    assert "show this help message and exit" in described and "options:" in described


def command_modules():
    files = sorted((REPO / "core" / "management").rglob("*.py")) + \
        sorted((REPO / "apps").glob("*/commands/*.py"))
    return [path for path in files if "app_template" not in path.parts]


def test_every_command_message_goes_through_a_translation_call():
    modules = command_modules()
    assert len(modules) > 20
    left = {path.relative_to(REPO).as_posix(): unmarked_cli_messages(path.read_text("utf-8"))
            for path in modules}
    assert {name: found for name, found in left.items() if found} == {}


def test_the_unmarked_message_check_catches_plain_english():
    source = '''
class Command:
    help = "Do things."

    def add_arguments(self, parser):
        parser.add_argument("--x", help="an option")
        parser.add_argument("--y", help=_("fine"))

    def run(self, args):
        self.write(f"{key}: {value}")
        self.write("  2. python manage.py ensure_indexes")
        self.write(_("created %(name)s") % {"name": args.name})
        self.write("done" if args.ok else _("failed"))
        raise CommandError(f"unknown user {args.name!r}")
'''
    assert unmarked_cli_messages(source) == [(3, "Do things."), (6, "an option"),
                                             (13, "done"), (14, "unknown user ")]
