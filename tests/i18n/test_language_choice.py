"""The pieces: which language a request gets, lazy strings, dates and numbers formatted for
a locale (Babel), the LANGUAGE setting, and the command line speaking it."""
import datetime
import zoneinfo

import pytest

from core import i18n
from core.conf import ImproperlyConfigured, load_settings
from support.cli import manage, manage_env, one_error_line

LANGUAGES = ["en", "fr", "de"]
UTC = datetime.timezone.utc


@pytest.fixture(autouse=True)
def catalogs():
    """Core's catalogs installed, the active language put back afterwards."""
    i18n.install([i18n.CORE_LOCALE_DIR], default="en", languages=LANGUAGES)
    token = i18n._active.set(None)
    yield
    i18n._active.reset(token)


@pytest.mark.parametrize("preference, header, expected", [
    ("de", "fr", "de"),                          # the user's preference wins
    ("", "fr-CH, fr;q=0.9, en;q=0.8", "fr"),     # else the browser's, by region's language
    (None, "es, de;q=0.5", "de"),                # the first one we have
    ("", "en;q=0, fr;q=0.1", "fr"),              # q=0 means "not this"
    ("it", "es, ja", "en"),                      # else LANGUAGE
    ("", "", "en"),
    ("", "xx-;;q=abc, ,", "en"),                 # a broken header is no header
])
def test_choose_language(preference, header, expected):
    assert i18n.choose_language(preference, header, LANGUAGES, "en") == expected


def test_only_languages_of_the_setting_are_chosen():
    assert i18n.choose_language("fr", "fr", ["en", "de"], "de") == "de"


def test_a_lazy_string_translates_when_shown():
    label = i18n.gettext_lazy("Save")
    assert str(label) == "Save"
    i18n.activate(i18n.locale_for("fr"))
    assert str(label) == "Enregistrer" and f"[{label}]" == "[Enregistrer]"
    assert label + "!" == "Enregistrer!" and label.upper() == "ENREGISTRER"
    i18n.activate(i18n.locale_for("de"))
    assert str(label) == "Speichern" and label == i18n.gettext_lazy("Save")
    assert i18n.ngettext("The link works once, for %(count)d minute.",
                         "The link works once, for %(count)d minutes.", 5) % {"count": 5} == \
        "Der Link funktioniert einmal, 5 Minuten lang."


def test_dates_and_numbers_for_german_in_the_users_zone():
    moment = datetime.datetime(2026, 3, 5, 13, 7, tzinfo=UTC)
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    assert i18n.format_datetime(moment, "de", berlin) == "05.03.2026 14:07 CET"
    assert i18n.format_date(moment, "de") == "05.03.2026"
    assert i18n.format_decimal(1234567.891, "de") == "1.234.567,891"
    assert i18n.format_decimal(1234567.891, "fr") == "1\u202f234\u202f567,891"
    # English keeps the admin's ISO-like form
    assert i18n.format_datetime(moment, "en", berlin) == "2026-03-05 14:07 CET"


@pytest.mark.parametrize("language", ["en", "fr", "de"])
@pytest.mark.parametrize("name", ["UTC", "Etc/UTC", "Europe/Paris"])
def test_a_moment_shown_in_a_zone_is_the_moment_converted_to_it(language, name):
    """A moment shown in a zone reads as the moment converted to that zone does (a UTC
    moment shown in UTC is left unconverted), in every language, aware or naive."""
    zone = zoneinfo.ZoneInfo(name)
    formatted, as_given = i18n.datetime_formatter(language, zone), \
        i18n.datetime_formatter(language, None)
    for moment in (datetime.datetime(2026, 3, 5, 13, 7, tzinfo=UTC),
                   datetime.datetime(2026, 7, 5, 23, 59, 59)):
        converted = moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(zone)
        assert formatted(moment) == as_given(converted), (formatted(moment), converted)


@pytest.mark.parametrize("year", [1, 999, 1000, 2026, 9999])
def test_english_moments_are_strftime_s_text_in_any_year(year):
    """English moments are ``strftime``'s ``%Y-%m-%d %H:%M`` (``:%S`` with seconds),
    whichever way they are written: a year below 1000 stays unpadded, as strftime
    writes it."""
    kolkata = zoneinfo.ZoneInfo("Asia/Kolkata")
    moment = datetime.datetime(year, 6, 30, 23, 59, 58, 999999, tzinfo=kolkata)
    for seconds, pattern in ((False, "%Y-%m-%d %H:%M"), (True, "%Y-%m-%d %H:%M:%S")):
        text = i18n.datetime_formatter("en", kolkata, seconds)(moment)
        assert text == f"{moment.strftime(pattern)} {moment.tzname()}", text


@pytest.mark.parametrize("language, sizes", [
    ("en", ["1,023 bytes", "48 kB", "1 MB"]),
    ("fr", ["1\u202f023\u00a0octets", "48\u202fko", "1\u202fMo"]),
])
def test_file_sizes_from_bytes_to_kilobytes_and_megabytes(language, sizes):
    assert [i18n.format_byte_size(size, language)
            for size in (1023, 48 * 1024, 1024 * 1024)] == sizes


def test_the_language_setting_must_be_one_of_languages():
    assert load_settings("settings.test", environ={"LANGUAGE": "fr"}).LANGUAGE == "fr"
    with pytest.raises(ImproperlyConfigured, match="LANGUAGE must be one of the codes"):
        load_settings("settings.test", environ={}, LANGUAGE="xx")


def test_the_command_line_speaks_the_language_setting(tmp_path):
    result = manage(["nosuchcommand"], manage_env(tmp_path, LANGUAGE="fr"))
    assert result.returncode == 2
    assert one_error_line(result) == ("error: commande inconnue 'nosuchcommand'\u00a0; lancez "
                                      "«\u00a0manage.py help\u00a0» pour lister les commandes")
    german = manage(["help"], manage_env(tmp_path, LANGUAGE="de"))
    assert german.returncode == 0 and "Befehle des Kerns:" in german.stdout
    english = manage(["nosuchcommand"], manage_env(tmp_path))
    assert "unknown command 'nosuchcommand'" in one_error_line(english)
