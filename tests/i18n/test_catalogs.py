"""Extract → compare: every message of the code and templates is in the French and German
catalogs, translated (no fuzzy, no empty entry, the same placeholders), and no template
has English left outside ``_()``."""
from pathlib import Path

import pytest

from core.i18n import CORE_LOCALE_DIR, compile_catalog
from core.i18n_extract import (extract_tree, missing_or_untranslated, po_path, read_catalog,
                               unmarked_text)
from core.management.commands.makemessages import CORE_SOURCES

REPO = Path(__file__).resolve().parents[2]
LANGUAGES = ["fr", "de"]
#: (what is extracted, relative to REPO; where its catalogs live)
CATALOGS = [(CORE_SOURCES, CORE_LOCALE_DIR)] + [
    ([f"apps/{app}"], REPO / "apps" / app / "locale") for app in ("accounts", "blog", "shop")]


@pytest.fixture(scope="module", params=CATALOGS, ids=["core", "accounts", "blog", "shop"])
def extracted(request):
    folders, locale_dir = request.param
    return extract_tree(REPO, folders), locale_dir


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_in_the_catalog_and_translated(extracted, language):
    template, locale_dir = extracted
    assert len([m for m in template if m.id]) > 10
    missing, untranslated = missing_or_untranslated(template, locale_dir, language)
    assert missing == [], f"run manage.py makemessages, then translate: {missing}"
    assert untranslated == [], f"translate (and unmark fuzzy) in {language}: {untranslated}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders_and_compile(extracted, language):
    _template, locale_dir = extracted
    catalog = read_catalog(po_path(locale_dir, language), language)
    assert catalog.num_plurals >= 2
    problems = [(message.id, [str(e) for e in errors]) for message, errors in catalog.check()]
    assert problems == []
    translations = compile_catalog(po_path(locale_dir, language))
    assert translations.gettext("Save") != "Save" or locale_dir != CORE_LOCALE_DIR


def test_the_extraction_sees_templates_plurals_and_lazy_strings():
    template = extract_tree(REPO, CORE_SOURCES)
    plural = template.get(("Please correct the error below.", "Please correct the errors below."))
    assert template.get("Save") is not None and plural is not None
    assert ("templates/admin/submit_row.html" in
            [location for location, _line in template.get("Save").locations])
    assert template.get("This field is required.") is not None          # gettext_lazy in .py
    assert template.get("Reset your Bastion password") is not None


def template_files():
    roots = [REPO / "templates", REPO / "core", REPO / "apps"]
    found = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix in (".html", ".txt") and "templates" in path.parts \
                    and "app_template" not in path.parts and "tests" not in path.parts:
                found.append(path)
    return found


def test_no_template_has_english_outside_translation_calls():
    assert len(template_files()) > 30
    left = {path.relative_to(REPO).as_posix(): unmarked_text(path.read_text(encoding="utf-8"))
            for path in template_files()}
    assert {name: found for name, found in left.items() if found} == {}


def test_the_unmarked_text_check_catches_plain_english():
    source = ('{% extends "base.html" %}{% block body_class %}login{% end %}\n'
              '<h1>{{ _("Log in") }}</h1>\n<p>Forgot it? <a href="/x">Ask</a></p>\n'
              '<input placeholder="Search">{# a comment #}<td>{{ value }}</td> CSV · OK')
    assert unmarked_text(source) == [(4, "Search"), (3, "Forgot it? Ask")]
