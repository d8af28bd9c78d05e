"""Reading a page for English left in it: ``english_left(html, language)`` lists the
English msgids of the catalogs (core's and the apps', by default accounts') that a page
shows untranslated.

A msgid counts when its translation differs from it ("Version" is French and German
too). A one-word msgid counts when a whole text node (or a label attribute) is exactly
it, or it capitalised (column and filter titles); a longer one when a run of two or more
of its words (between placeholders) is in the page's visible text.
"""
import datetime
import re
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

from core.i18n import CORE_LOCALE_DIR
from core.i18n_extract import po_path, read_catalog

REPO = Path(__file__).resolve().parents[2]
APPS_DIR = REPO / "apps"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]")
LABEL_ATTRIBUTES = {"title", "placeholder", "alt", "aria-label"}


class VisibleText(HTMLParser):
    """Text nodes and label attributes of a page (scripts and styles left out)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.nodes, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        self.nodes.extend(value.strip() for name, value in attrs
                          if name in LABEL_ATTRIBUTES and value and value.strip())

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.nodes.append(" ".join(data.split()))


def visible_text(html):
    parser = VisibleText()
    parser.feed(html)
    return parser.nodes


@lru_cache(maxsize=None)
def english_msgids(language, apps=("accounts",)):
    """The msgids (singular and plural) whose ``language`` translation differs from them
    and from every translation ("Filter" is the German for "Filters"), also once capitalised
    ("name" is "Name" in German, and a column title says "Name")."""
    found, translations = set(), set()
    for folder in [CORE_LOCALE_DIR] + [APPS_DIR / app / "locale" for app in apps]:
        path = po_path(folder, language)
        for message in read_catalog(path, language):
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            found.update(msgid for msgid in ids if msgid not in strings)
            translations.update(strings)
    capitalised = {capital(text) for text in translations}
    return frozenset(msgid for msgid in found - translations
                     if capital(msgid) not in capitalised)       # "name" → "Name" (de)


def capital(text):
    return text[:1].upper() + text[1:]


def english_left(html, language, apps=("accounts",)):
    """The English msgids of core's and ``apps``' catalogs ``html`` shows (see the module
    docstring)."""
    nodes = visible_text(html)
    exact = set(nodes)
    text = " ".join(nodes)
    left = []
    for msgid in english_msgids(language, tuple(apps)):
        pieces = [p.strip(" .,:;()?") for p in PLACEHOLDER.split(msgid)]
        if len(msgid.split()) == 1:
            if msgid in exact or capital(msgid) in exact:
                left.append(msgid)
        elif any(len(piece.split()) >= 2 and re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", text)
                 for piece in pieces):
            left.append(msgid)
    return sorted(left)


def html_lang(html):
    match = re.search(r'<html lang="([^"]*)"', html)
    return match.group(1) if match else None


def english_left_in_json(body, language, apps=("accounts",)):
    """``english_left`` for a JSON error body: its ``error`` and ``fields`` texts."""
    from html import escape
    texts = [body.get("error") or ""] + [str(v) for v in (body.get("fields") or {}).values()]
    return english_left("".join(f"<p>{escape(text)}</p>" for text in texts), language, apps)


# -- the demo apps' pages -------------------------------------------------------------------
DEMO_APPS = ["core.audit", "apps.accounts", "apps.blog", "apps.shop"]
DEMO_CATALOGS = ("accounts", "blog", "shop")


def assert_in_language(response, language, where):
    """A 200 page in ``language`` (``<html lang>``) with no English message of the demo
    apps' catalogs left."""
    assert response.code == 200, (where, response.code, response.text[:500])
    assert html_lang(response.text) == language, where
    assert english_left(response.text, language, DEMO_CATALOGS) == [], where


async def demo_objects(site, author=None):
    """One object of each demo model (a category, an article, a customer with an address,
    an order with a line), by model key."""
    news = await site.model("blog.category").create(name="News", db=site.db)
    article = await site.model("blog.article").create(
        title="Hello", category=news.id, author=author.id if author else None, db=site.db)
    ada = await site.model("shop.customer").create(
        name="Ada", email="ada@example.com", address={"city": "Paris", "country": "FR"},
        db=site.db)
    order = await site.model("shop.order").create(
        customer=ada.id, placed=datetime.date(2026, 11, 30), status="paid",
        lines=[{"sku": "pen", "quantity": 2, "unit_price": "24.90"}], db=site.db)
    return {"blog.category": news, "blog.article": article, "shop.customer": ada,
            "shop.order": order}
