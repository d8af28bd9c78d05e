"""The static scripts' texts: every ``T("…")`` / ``T.n("…", "…", n)`` is found (by
``makemessages`` and by the pages' script catalog, from the scripts themselves), translated,
built once per language, and ``static/i18n.js`` picks plural forms with the catalog's own
rule (run in Node against Python's ``gettext``)."""
import json
import shutil
import subprocess

import pytest

from core import i18n
from core.i18n_extract import extract_tree
from core.management.commands.makemessages import CORE_SOURCES

REPO = i18n.CORE_LOCALE_DIR.parent
SCRIPTS = sorted(i18n.CORE_STATIC_DIR.glob("*.js"))
NOTES = "/admin/notes/note/"
ALL = {"notes.note": ["read", "write", "delete"], "notes.category": ["read", "write"]}


@pytest.mark.parametrize("script", SCRIPTS, ids=[path.name for path in SCRIPTS])
def test_every_call_of_T_has_literal_texts(script):
    """A ``T(name)`` or ``T("a" + b)`` could not be found, so never translated."""
    source = script.read_text(encoding="utf-8")
    calls = [source.count("\n", 0, match.start()) + 1
             for match in i18n.SCRIPT_CALL.finditer(source)]
    found = [line for line, _message in i18n.find_script_messages(source)]
    assert calls == found


def test_the_scripts_texts_are_extracted_with_their_plurals():
    messages = i18n.script_messages()
    assert ("%(count)s new %(name)s", "%(count)s new %(name)s") in messages
    assert {"Select some items first.", "Type to search", "has errors",
            "The passkey request was cancelled or timed out."} <= set(messages)
    template = extract_tree(REPO, CORE_SOURCES)
    for message in messages:
        entry = template.get(message)
        assert entry is not None, message
        assert any(location.startswith("static/") for location, _line in entry.locations)
    plural = template.get(("%(count)s new %(name)s", "%(count)s new %(name)s"))
    assert plural.pluralizable


def test_the_script_catalog_is_built_once_per_language(monkeypatch):
    i18n.install([i18n.CORE_LOCALE_DIR], default="en", languages=["en", "fr", "de"])
    builds = []
    real = i18n.build_script_catalog
    monkeypatch.setattr(i18n, "build_script_catalog",
                        lambda locale: builds.append(locale.code) or real(locale))
    french = [i18n.js_catalog(i18n.locale_for("fr")) for _ in range(3)]
    german = i18n.js_catalog(i18n.locale_for("de"))
    assert builds == ["fr", "de"] and len(set(french)) == 1 and german != french[0]
    assert json.loads(german)["messages"]["Clear"] == "Leeren"
    i18n.install([i18n.CORE_LOCALE_DIR], default="en", languages=["en", "fr", "de"])
    assert i18n.js_catalog(i18n.locale_for("fr")) == french[0]       # the catalogs again
    assert builds == ["fr", "de", "fr"]


async def test_pages_share_one_build_per_language(site, monkeypatch):
    builds = []
    real = i18n.build_script_catalog
    monkeypatch.setattr(i18n, "build_script_catalog",
                        lambda locale: builds.append(locale.code) or real(locale))
    french = await site.user_browser("writer", ALL, language="fr")
    german = await site.user_browser("hans", ALL, language="de")
    for browser in (french, german, french, german, french):
        page = await browser.get(NOTES)
        assert page.code == 200 and "data-i18n=" in page.text
    assert builds.count("fr") == 1 and builds.count("de") == 1, builds


NODE = shutil.which("node")
HARNESS = """
const fs = require("fs");
global.window = {};
const [script, catalog, numbers] = process.argv.slice(2);
global.document = {body: {getAttribute: () => catalog}};
eval(fs.readFileSync(script, "utf8"));
const T = window.bastionText, rule = T.pluralRule(JSON.parse(catalog).plural);
process.stdout.write(JSON.stringify({
  indexes: JSON.parse(numbers).map(rule),
  texts: JSON.parse(numbers).map(n => T.n("%(count)s new %(name)s", "%(count)s new %(name)s", n,
                              {count: n, name: "x"})),
  plain: T("Clear"), missing: T("Not in the catalog %(a)s", {a: 1}),
  broken: T.pluralRule("n ? (")(5)}));
"""


@pytest.mark.skipif(NODE is None, reason="node is not installed")
@pytest.mark.parametrize("language", ["fr", "de", "en"])
def test_the_script_plural_rule_is_the_catalogs(language, tmp_path):
    i18n.install([i18n.CORE_LOCALE_DIR], default="en", languages=["en", "fr", "de"])
    locale = i18n.locale_for(language)
    catalog = i18n.js_catalog(locale)
    numbers = [*range(0, 130), 1000, 10 ** 6, 2 * 10 ** 6, 3 * 10 ** 6 + 1, 10 ** 9]
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS)
    answer = json.loads(subprocess.run(
        [NODE, str(harness), str(i18n.CORE_STATIC_DIR / "i18n.js"), catalog,
         json.dumps(numbers)], capture_output=True, text=True, timeout=60, check=True).stdout)
    expression = json.loads(catalog)["plural"]
    import gettext
    assert answer["indexes"] == [gettext.c2py(expression)(n) for n in numbers]
    assert answer["texts"] == [locale.translate("%(count)s new %(name)s",
                                                "%(count)s new %(name)s", n)
                               % {"count": n, "name": "x"} for n in numbers]
    assert answer["plain"] == locale.translate("Clear")
    assert answer["missing"] == "Not in the catalog 1"
    assert answer["broken"] == 1                              # English's rule, not an error
    if language == "fr":
        assert answer["texts"][1] == "1 nouveau : x" and answer["texts"][2] == "2 nouveaux : x"


def test_every_script_tag_runs_after_the_catalog():
    """``i18n.js`` is deferred, so a script that is not runs before ``window.bastionText``
    exists and shows its texts in English for the whole page: every template's script
    tag is deferred too."""
    import re
    templates = sorted(REPO.glob("templates/**/*.html")) + \
        sorted(REPO.glob("apps/*/templates/**/*.html"))
    tags = [(path.relative_to(REPO), tag) for path in templates
            for tag in re.findall(r"<script\b[^>]*>", path.read_text())]
    assert any("i18n.js" in tag for _path, tag in tags)
    assert [(str(path), tag) for path, tag in tags if not re.search(r"\bdefer\b", tag)] == []


def test_a_script_text_has_one_owner_the_script():
    """A text a script translates itself (``T("has errors")``) is not also handed to it,
    translated, in a template's ``data-`` attribute: two owners of one text, one of which
    never runs."""
    import re
    handed = re.compile(r"""\bdata-[\w-]+=(["']){{\s*_\((["'])(.*?)\2\)\s*}}\1""")
    scripts = set(i18n.script_messages())
    templates = sorted(REPO.glob("templates/**/*.html")) + \
        sorted(REPO.glob("apps/*/templates/**/*.html"))
    twice = [(str(path.relative_to(REPO)), match.group(3)) for path in templates
             for match in handed.finditer(path.read_text(encoding="utf-8"))
             if match.group(3) in scripts]
    assert twice == []


#: a script writing English where a person reads or hears it: an accessible name, a
#: title, a placeholder or a text node given a literal instead of ``T("…")``
UNTRANSLATED_IN_SCRIPT = (
    r"""setAttribute\(\s*["'](?:aria-label|title|alt|placeholder)["']\s*,\s*["'][^"']*[A-Za-z]"""
    r"""|\.(?:textContent|innerText|placeholder|title|alt)\s*=\s*["'][^"']*[A-Za-z]""")


def test_the_script_check_finds_a_literal_label_and_text():
    import re
    assert re.search(UNTRANSLATED_IN_SCRIPT, 'box.setAttribute("aria-label", "Search")')
    assert re.search(UNTRANSLATED_IN_SCRIPT, 'x.textContent = "Hi"')
    assert not re.search(UNTRANSLATED_IN_SCRIPT, 'box.setAttribute("aria-label", T("Search"))')
    assert not re.search(UNTRANSLATED_IN_SCRIPT, 'x.textContent = T("Search")')


@pytest.mark.parametrize("script", SCRIPTS, ids=[path.name for path in SCRIPTS])
def test_a_script_writes_no_english_a_person_reads(script):
    import re
    source = script.read_text(encoding="utf-8")
    assert [source.count("\n", 0, match.start()) + 1
            for match in re.finditer(UNTRANSLATED_IN_SCRIPT, source)] == []
