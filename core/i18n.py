"""Languages: the catalogs, the language of a request, lazy strings, locale formatting.

* ``install(dirs, default, languages)`` — called by ``core.app.make_app`` at start-up:
  compiles every ``<dir>/<lang>/LC_MESSAGES/bastion.po`` in memory (Babel) and hands
  the result to ``tornado.locale``, an app's catalog answering before core's;
* ``choose_language(preference, accept_language, languages, default)`` — the user's
  preference, else the best ``Accept-Language`` match, else ``default``;
* ``activate(locale)`` / ``gettext`` / ``ngettext`` / ``gettext_lazy`` — the
  translation of the request being handled (``BaseHandler`` activates its
  ``self.locale``); a lazy string (model verbose names, field labels) translates
  when it is shown, in the language active then;
* ``format_datetime`` / ``format_date`` / ``format_decimal`` — Babel's CLDR formats
  for a language, in a time zone;
* ``js_catalog(locale)`` — the static scripts' texts (``T("…")``, ``T.n(…)``) in a
  language with its plural rule, as JSON for ``<body data-i18n>``; built once per language.

Compiled ``.mo`` files are never written: the ``.po`` sources are the catalogs.
"""
import contextvars
import datetime
import functools
import gettext as gettext_module
import io
import json
import re
from pathlib import Path

import tornado.locale
from babel import Locale as BabelLocale
from babel import UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages import mofile, pofile

__all__ = ["DOMAIN", "CORE_LOCALE_DIR", "CORE_STATIC_DIR", "LazyString", "activate",
           "build_script_catalog", "choose_language", "compile_catalog",
           "decimal_formatter", "find_script_messages", "format_byte_size", "format_date",
           "format_datetime", "format_decimal",
           "get_locale", "gettext", "gettext_lazy", "install", "install_for_settings",
           "js_catalog", "locale_for", "ngettext", "script_messages"]

DOMAIN = "bastion"
CORE_LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_active = contextvars.ContextVar("bastion_locale", default=None)


def compile_catalog(po_path):
    """The ``.po`` file at ``po_path`` as ``gettext.GNUTranslations`` (fuzzy entries left out)."""
    with open(po_path, "rb") as source:
        catalog = pofile.read_po(source, locale=Path(po_path).parents[1].name, domain=DOMAIN)
    buffer = io.BytesIO()
    mofile.write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)


def load_catalogs(dirs):
    """``{lang: translations}`` from the locale folders ``dirs``, the first folder's
    entry winning (apps' folders come before core's)."""
    merged = {}
    for folder in dirs:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for po_path in sorted(folder.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            lang = po_path.parents[1].name
            translations = compile_catalog(po_path)
            if lang in merged:
                merged[lang].add_fallback(translations)
            else:
                merged[lang] = translations
    return merged


def install(dirs, default="en", languages=()):
    """Give ``tornado.locale`` the catalogs of ``dirs`` (see ``load_catalogs``); the
    languages it may choose are ``languages`` plus ``default``. Called at start-up."""
    translations = load_catalogs(dirs)
    tornado.locale._translations = translations
    tornado.locale._supported_locales = frozenset(list(languages) + [default])
    tornado.locale._use_gettext = True
    tornado.locale._default_locale = default
    tornado.locale.Locale._cache = {}
    _script_catalogs.clear()
    return translations


def install_for_settings(settings, app_locale_dirs=()):
    """``install`` with the apps' folders then core's, ``LANGUAGE`` and ``LANGUAGES``; returns
    the default language's ``Locale`` (what the command line speaks)."""
    default = settings.get("LANGUAGE") or "en"
    install(list(app_locale_dirs) + [CORE_LOCALE_DIR], default=default,
            languages=[code for code, _name in settings.get("LANGUAGES") or ()])
    return locale_for(default)


def locale_for(code):
    """The ``tornado.locale.Locale`` for ``code`` (the default one when not supported)."""
    return tornado.locale.get(code)


def parse_accept_language(header):
    """The language tags of an ``Accept-Language`` header, best first (q=0 left out)."""
    tags = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if tag.strip() and quality > 0:
            tags.append((-quality, position, tag.strip()))
    return [tag for _q, _p, tag in sorted(tags)]


def choose_language(preference, accept_language, languages, default="en"):
    """The language code of a request: ``preference`` (the user's) when it is one of
    ``languages``, else the first ``Accept-Language`` tag matching one (``fr-CH`` →
    ``fr``), else ``default``."""
    codes = list(languages)
    if preference and preference in codes:
        return preference
    lowered = {code.lower().replace("_", "-"): code for code in codes}
    for tag in parse_accept_language(accept_language):
        tag = tag.lower().replace("_", "-")
        if tag in lowered:
            return lowered[tag]
        base = tag.split("-")[0]
        if base in lowered:
            return lowered[base]
    return default


def activate(locale):
    """Make ``locale`` (a ``tornado.locale.Locale``) the one lazy strings and ``gettext``
    use in this context (a request's coroutine). Returns it."""
    _active.set(locale)
    return locale


def get_locale():
    """The active ``tornado.locale.Locale`` (the default language's when none is)."""
    locale = _active.get()
    if locale is None:
        locale = tornado.locale.get(tornado.locale._default_locale)
    return locale


def gettext(message):
    """``message`` in the active language."""
    return get_locale().translate(message)


def ngettext(singular, plural, count):
    """``singular`` or ``plural`` (as ``count`` asks) in the active language."""
    return get_locale().translate(singular, plural, count)


class LazyString:
    """A message translated only when shown (``str()``), in the language active then.

    For texts fixed when a module is imported — model verbose names, field labels,
    form error messages — which are shown in each request's language. It behaves
    as the translated ``str`` for formatting, concatenation and ``str`` methods;
    ``msgid`` is the untranslated text.
    """

    __slots__ = ("msgid",)

    def __init__(self, msgid):
        self.msgid = msgid

    def __str__(self):
        return gettext(self.msgid)

    def __repr__(self):
        return f"gettext_lazy({self.msgid!r})"

    def __html__(self):
        from markupsafe import escape
        return str(escape(str(self)))

    def __format__(self, spec):
        return format(str(self), spec)

    def __getattr__(self, name):
        return getattr(str(self), name)

    def __len__(self):
        return len(str(self))

    def __getitem__(self, key):
        return str(self)[key]

    def __iter__(self):
        return iter(str(self))

    def __contains__(self, item):
        return item in str(self)

    def __add__(self, other):
        return str(self) + str(other)

    def __radd__(self, other):
        return str(other) + str(self)

    def __mod__(self, values):
        return str(self) % values

    def __eq__(self, other):
        if isinstance(other, LazyString):
            return self.msgid == other.msgid
        return str(self) == other or self.msgid == other

    def __lt__(self, other):
        return str(self) < str(other)

    def __hash__(self):
        return hash(self.msgid)

    def __bool__(self):
        return bool(self.msgid)


def gettext_lazy(message):
    """Mark ``message`` for translation, translated when shown (``LazyString``)."""
    return LazyString(message)


#: the folder of core's static scripts, whose ``T("…")`` / ``T.n("…", "…", n)`` texts are
#: core's messages (``script_messages``)
CORE_STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

#: a script's message: ``T("text"`` or ``T.n("singular", "plural"``, double-quoted literals
SCRIPT_MESSAGE = re.compile(r'\bT(\.n)?\(\s*("(?:[^"\\\n]|\\.)*")'
                            r'(?:\s*,\s*("(?:[^"\\\n]|\\.)*"))?')
#: any call of ``T`` or ``T.n`` (to find one whose text is not a literal)
SCRIPT_CALL = re.compile(r"\bT(\.n)?\(")


def find_script_messages(source):
    """``[(line, msgid)]`` of a script's ``source``: ``T("…")`` gives the text, ``T.n("…",
    "…", n)`` the ``(singular, plural)`` pair. Only these calls with literal texts count."""
    found = []
    for match in SCRIPT_MESSAGE.finditer(source):
        line = source.count("\n", 0, match.start()) + 1
        singular = json.loads(match.group(2))
        if match.group(1):
            if match.group(3) is None:
                continue
            found.append((line, (singular, json.loads(match.group(3)))))
        else:
            found.append((line, singular))
    return found


@functools.cache
def script_messages(folder=CORE_STATIC_DIR):
    """The messages of the scripts ``folder/*.js`` (``find_script_messages``), read once:
    the scripts are the one place they are written; ``makemessages`` extracts them too."""
    found = []
    for path in sorted(Path(folder).glob("*.js")):
        for _line, message in find_script_messages(path.read_text(encoding="utf-8")):
            if message not in found:
                found.append(message)
    return tuple(found)


_script_catalogs = {}


def _plural_samples(rule, count):
    """One ``n`` for each of the ``count`` plural forms ``rule`` picks (first found)."""
    samples = {}
    for n in [*range(0, 1001), 10 ** 6, 2 * 10 ** 6, 10 ** 9]:
        samples.setdefault(rule(n), n)
        if len(samples) == count:
            break
    return [samples.get(index) for index in range(count)]


def build_script_catalog(locale):
    """The JSON text ``{"plural": rule, "messages": {msgid: text or [forms]}}`` of
    ``script_messages()`` in ``locale``: the texts that differ from English, every plural
    form of a ``T.n`` message, and the catalog's plural rule (a C expression that
    ``static/i18n.js`` reads)."""
    translations = getattr(getattr(locale, "ngettext", None), "__self__", None)  # gettext's
    info = translations.info() if hasattr(translations, "info") else {}
    header = info.get("plural-forms", "nplurals=2; plural=(n != 1);")
    count = int(re.search(r"nplurals\s*=\s*(\d+)", header).group(1))
    expression = re.search(r"\bplural\s*=\s*([^;]+)", header).group(1).strip()
    samples = _plural_samples(gettext_module.c2py(expression), count)
    messages = {}
    for message in script_messages():
        if isinstance(message, tuple):
            singular, plural = message
            forms = [locale.translate(singular, plural, n) if n is not None else plural
                     for n in samples]
            if forms != [singular if n == 1 else plural for n in samples]:
                messages[singular] = forms
        else:
            text = locale.translate(message)
            if text != message:
                messages[message] = text
    return json.dumps({"plural": expression, "messages": messages}, ensure_ascii=False)


def js_catalog(locale):
    """``build_script_catalog(locale)``, built once per language (until ``install`` loads
    the catalogs again): ``base.html`` puts it in every page's ``<body data-i18n>``."""
    code = _code(locale)
    found = _script_catalogs.get(code)
    if found is None:
        found = _script_catalogs[code] = build_script_catalog(locale)
    return found


def _babel_locale(code):
    try:
        return BabelLocale.parse(code.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return BabelLocale.parse("en")


def _code(locale):
    return getattr(locale, "code", None) or str(locale or "en")


def format_datetime(value, locale=None, zone=None, seconds=False):
    """``value`` (aware, or naive meaning UTC) in ``zone``, with the zone's abbreviation:
    the medium CLDR date and the short time of ``locale`` (a code or a
    ``tornado.locale.Locale``; the active one by default). English keeps the ISO-like
    ``2026-12-02 14:30 CET`` the admin has always shown."""
    return datetime_formatter(locale, zone, seconds)(value)


def datetime_formatter(locale=None, zone=None, seconds=False):
    """``format(value)``: what ``format_datetime(value, locale, zone, seconds)`` writes,
    with the language's choices made once (a list's column formats fifty moments)."""
    code = _code(locale if locale is not None else get_locale())
    fallback = getattr(zone, "key", "")
    utc = datetime.timezone.utc
    if code.split("_")[0] == "en":
        pattern = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
        spec, width = ("seconds", 19) if seconds else ("minutes", 16)

        def text_of(value):
            # ISO's text up to the minute (second) is the pattern's for a four-digit year,
            # in half strftime's time; strftime writes a shorter year unpadded
            if value.year >= 1000:
                return value.isoformat(" ", spec)[:width]
            return value.strftime(pattern)
    else:
        babel_locale = _babel_locale(code)
        time_format = "medium" if seconds else "short"

        def text_of(value):
            date_part = babel_dates.format_date(value, "medium", locale=babel_locale)
            time_part = babel_dates.format_time(value, time_format, tzinfo=value.tzinfo,
                                                locale=babel_locale)
            return f"{date_part} {time_part}"

    # a moment in UTC shown in the zone "UTC" needs no conversion: the same wall time and
    # the same name ("UTC"), without the zone's look-up
    in_utc = fallback in ("UTC", "Etc/UTC")

    def format_moment(value):
        if value.tzinfo is None:
            value = value.replace(tzinfo=utc)
        if zone is not None and not (in_utc and value.tzinfo is utc):
            value = value.astimezone(zone)
        return f"{text_of(value)} {value.tzname() or fallback}".strip()
    if in_utc and code.split("_")[0] == "en":
        return _english_utc(format_moment, spec, width)
    return format_moment


def _english_utc(format_moment, spec, width):
    """``format_moment`` for English in UTC, with its common case written at once: a
    moment in UTC (or naive, meaning UTC) of a four-digit year is its ISO text and "UTC"
    (a list's column of moments, every page); the rest asks ``format_moment``."""
    utc = datetime.timezone.utc

    def format_utc(value):
        zone = value.tzinfo
        if (zone is utc or zone is None) and value.year >= 1000:
            return value.isoformat(" ", spec)[:width] + " UTC"
        return format_moment(value)
    return format_utc


def format_date(value, locale=None):
    """``value`` (a date or datetime) in the medium CLDR date format of ``locale``
    (English: ISO, ``2026-12-02``)."""
    locale = locale if locale is not None else get_locale()
    if _code(locale).split("_")[0] == "en":
        return value.strftime("%Y-%m-%d")
    return babel_dates.format_date(value, "medium", locale=_babel_locale(_code(locale)))


def format_decimal(number, locale=None):
    """``number`` with the decimal and grouping signs of ``locale``."""
    return decimal_formatter(locale)(number)


def decimal_formatter(locale=None):
    """``format(number)``: what ``format_decimal(number, locale)`` writes (the active
    language by default), made once per language (a list's count, every page)."""
    return _decimal_formatter(_code(locale if locale is not None else get_locale()))


@functools.lru_cache(maxsize=256)
def _decimal_formatter(code):
    """Babel's ``format_decimal`` in language ``code``; for a whole number not below zero,
    when the language groups its ten digits as Python's ``{:,}`` does (English, French,
    German...), ``{:,}`` with the language's group sign: what Babel writes, without
    parsing its pattern on every call."""
    babel_locale = _babel_locale(code)

    def babel(number):
        return babel_numbers.format_decimal(number, locale=babel_locale)
    group = babel_numbers.get_group_symbol(babel_locale)
    if babel(9081234567) != f"{9081234567:,}".replace(",", group):
        return babel                # other digits, or other groups (Indian: 9,08,12,34,567)

    def grouped(number):
        if type(number) is int and number >= 0:
            return f"{number:,}".replace(",", group)
        return babel(number)        # a fraction's decimal sign, a minus sign: Babel's
    return grouped


def format_byte_size(size, locale=None, exact=False):
    """``size`` bytes as ``locale`` writes a file's size, in CLDR's units (Babel): under
    1024 (or ``exact``) ``"1,000 bytes"`` / ``"1 000 octets"``, else whole kilobytes and
    megabytes of 1024 (``"48 kB"``, ``"48 ko"``)."""
    code = _code(locale if locale is not None else get_locale())
    if size < 1024 or exact:
        return _format_unit(code, size, "digital-byte", "long")
    size /= 1024
    unit = "digital-kilobyte"
    if size >= 1024:
        size, unit = size / 1024, "digital-megabyte"
    return _format_unit(code, round(size), unit, "short")


@functools.lru_cache(maxsize=4096)
def _format_unit(code, value, unit, length):
    """Babel's ``format_unit`` (about 60 µs a call), kept: a list of files repeats sizes
    (whole kB and MB, bytes under 1024), and each language writes a size one way."""
    from babel.units import format_unit           # only pages with a file size need it
    return format_unit(value, unit, length=length, locale=_babel_locale(code))
