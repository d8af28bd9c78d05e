"""The demo apps (blog, shop) in the user's language: their list and change pages, a form
with field errors (required, a duplicate name, a bad e-mail and country) and an action's
flash, for a French and a German user, show no English msgid of any loaded catalog (core,
accounts, blog, shop)."""
import html
import re

import pytest

import support
from i18n_kit import (DEMO_APPS, DEMO_CATALOGS as CATALOGS, assert_in_language, demo_objects,
                      english_left)
from support.pages import error_for


@pytest.fixture
def i18n_settings(tmp_path):
    return support.make_settings(tmp_path, DEMO_APPS)


BLOG = {"blog.article": ["read", "write", "delete", "publish", "export"],
        "blog.category": ["read", "write"]}
SHOP = {"shop.order": ["read", "write"], "shop.customer": ["read", "write"]}


@pytest.mark.parametrize("language", ["fr", "de"])
async def test_the_demo_apps_are_in_the_users_language(site, language):
    browser = await site.user_browser("editor", {**BLOG, **SHOP}, language=language)
    made = await demo_objects(site)
    news, article = made["blog.category"], made["blog.article"]
    ada, order = made["shop.customer"], made["shop.order"]
    pages = ["/admin/", "/admin/blog/article/", "/admin/blog/article/add/",
             f"/admin/blog/article/{article.id}/change/", "/admin/blog/category/",
             f"/admin/blog/category/{news.id}/change/", "/admin/shop/customer/",
             f"/admin/shop/customer/{ada.id}/change/", "/admin/shop/order/",
             f"/admin/shop/order/{order.id}/change/", "/admin/shop/order/add/"]
    for path in pages:
        assert_in_language(await browser.get(path), language, path)
    # form errors: a required field left empty, a duplicate name, a bad e-mail and country
    invalid = await browser.post("/admin/blog/article/add/", {"title": "", "body": "x"})
    assert invalid.code == 200 and error_for(invalid.text, "title")
    assert_in_language(invalid, language, "article with an error")
    duplicate = await browser.post("/admin/blog/category/add/", {"name": "News"})
    assert duplicate.code == 200
    assert error_for(duplicate.text, "name") == {
        "fr": "Catégorie : cette valeur de nom existe déjà.",
        "de": "Kategorie mit diesem Wert für Name existiert bereits."}[language]
    assert_in_language(duplicate, language, "a duplicate category")
    customer = await browser.post("/admin/shop/customer/add/", {
        "name": "", "email": "nope", "address-city": "", "address-country": "XX"})
    assert customer.code == 200
    assert_in_language(customer, language, "customer with errors")
    # an action's flash
    done = await browser.post("/admin/blog/article/", {
        "action": "publish", "_selected_action": [str(article.id)]})
    assert done.code == 303, done.text[:500]
    listing = await browser.get("/admin/blog/article/")
    assert {"fr": "1 article publié.", "de": "1 Artikel veröffentlicht."}[language] in \
        html.unescape(listing.text)
    assert_in_language(listing, language, "the flash of an action")


@pytest.mark.parametrize("language", ["fr", "de"])
async def test_refusals_of_bad_requests_are_in_the_users_language(site, language):
    browser = await site.user_browser("editor", {**BLOG, **SHOP}, language=language)
    nothing = await browser.post("/admin/blog/article/export/", {"format": "csv"})
    assert nothing.code == 400
    assert {"fr": "Sélectionnez d'abord des éléments à exporter.",
            "de": "Wählen Sie zuerst Einträge zum Exportieren aus."}[language] in \
        html.unescape(nothing.text)
    bad_filter = await browser.get("/admin/shop/order/?status=lost")
    assert bad_filter.code == 400
    assert {"fr": "Filtre invalide status='lost' : Sélectionnez un choix valide ; 'lost' "
                  "n'en fait pas partie.",
            "de": "Ungültiger Filter status='lost': Wählen Sie eine gültige Option; 'lost' "
                  "ist keine davon."}[language] in \
        html.unescape(bad_filter.text)
    for response in (nothing, bad_filter):
        assert english_left(response.text, language, CATALOGS) == []


def test_list_counts_use_the_languages_digits(site):
    from core import i18n
    from core.admin import pagination
    try:
        for code, capped, plain in (("en", "1,000+", "1,234,567"), ("de", "1.000+", "1.234.567"),
                                    ("fr", "1\u202f000+", "1\u202f234\u202f567")):
            i18n.activate(i18n.locale_for(code))
            assert pagination.format_count(5000, capped=True) == capped
            assert pagination.format_count(1234567, capped=False) == plain
    finally:
        i18n.activate(None)


@pytest.mark.parametrize("language", ["fr", "de"])
async def test_scoped_permission_sources_are_in_the_users_language(site, language):
    scoped = {"blog.article": ["read", "write:own"]}
    author = await site.user_browser("author", scoped, language=language)
    await site.create_user("boss", language=language, is_superuser=True)
    boss = site.browser()
    await boss.login("boss")
    word = {"fr": "portée own", "de": "Bereich own"}[language]
    for browser, path in ((author, "/admin/account/"), (boss, "/admin/accounts/matrix/")):
        page = await browser.get(path)
        assert page.code == 200
        assert word in html.unescape(page.text) and "scope own" not in page.text, path


@pytest.mark.parametrize("language", ["fr", "de"])
async def test_an_import_without_a_file_is_refused_in_the_users_language(site, language):
    browser = await site.user_browser("editor", {"blog.category": ["read", "write", "import"]},
                                      language=language)
    page = await browser.post("/admin/blog/category/import/", {"format": "csv"})
    assert {"fr": "Choisissez un fichier à importer.",
            "de": "Wählen Sie eine Datei zum Importieren."}[language] in html.unescape(page.text)
    assert english_left(page.text, language, CATALOGS) == []


@pytest.mark.parametrize("language", ["fr", "de"])
async def test_a_roles_expiring_grant_reads_in_the_users_language(site, language):
    """``source_label`` on the account page: the role, the scope and the expiry in words
    of the page's language; the English form stays for machines (``--json``, exports)."""
    from core.permissions import source_label
    await site.model("accounts.role").create(
        name="editors", permissions={"blog.article": ["read@2099-12-31T18:00Z",
                                                      "write:own"]}, db=site.db)
    author = await site.user_browser("author", {}, roles=["editors"], language=language)
    page = html.unescape((await author.get("/admin/account/")).text)
    expected = {"fr": ["rôle editors (jusqu'au 2099-12-31T18:00Z)",
                       "rôle editors (portée own)"],
                "de": ["Rolle editors (bis 2099-12-31T18:00Z)",
                       "Rolle editors (Bereich own)"]}[language]
    for text in expected:
        assert text in page, text
    assert "role:editors" not in page
    assert source_label("role:editors", "own", "2099-12-31T18:00Z") == \
        "role:editors (scope own, until 2099-12-31T18:00Z)"


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_a_scoped_expiring_grant_has_one_label_on_the_user_pages(site, language):
    """The matrix labels a source with ``source_label`` alone: scope and expiry in one
    parenthesis, never a second "(scope …)" of its own after the expiry's."""
    from core.permissions import source_label
    from core import i18n
    translate = i18n.locale_for(language).translate
    await site.model("accounts.role").create(
        name="editors", permissions={"blog.article": ["read", "write:own@2099-12-31T18:00Z"]},
        db=site.db)
    author = await site.user_browser("author", {"blog.article": ["delete:own"]},
                                     roles=["editors"], language=language)
    await site.create_user("boss", language=language, is_superuser=True)
    boss = site.browser()
    await boss.login("boss")
    expected = [source_label("role:editors", "own", "2099-12-31T18:00Z", translate),
                source_label("user", "own", None, translate)]
    assert expected[0] == {"en": "role:editors (scope own, until 2099-12-31T18:00Z)",
                           "fr": "rôle editors (portée own, jusqu'au 2099-12-31T18:00Z)"
                           }[language]
    found = await site.model("accounts.user").find_one({"username": "author"}, db=site.db)
    user_page = f"/admin/accounts/user/{found.id}/"
    for browser, path in ((author, "/admin/account/"), (boss, user_page)):
        page = await browser.get(path)
        text = html.unescape(page.text)
        assert page.code == 200 and all(label in text for label in expected), (path, text)
        sources = re.findall(r'<span class="sources">([^<]*)</span>', text)
        assert sources and all(text.count("(") == 1 for text in sources if "(" in text), sources
    role = await site.model("accounts.role").find_one({"name": "editors"}, db=site.db)
    page = html.unescape((await boss.get(f"/admin/accounts/role/{role.id}/")).text)
    assert expected[0] in page
