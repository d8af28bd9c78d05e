"""Issue 13's "done when": a browser with ``Accept-Language: fr`` (or ``de``) sees the
whole admin in its language. A staff user with no language preference logs in and walks
everything they see — the index, every model of the demo apps (list, add, change, delete,
history), the users and roles, the audit log, their account page, the password change,
a form with errors, a bulk action's confirmation and flash, an import refused row by row —
and the API's 404 and 422; no page or body shows an English msgid of the catalogs."""
import html

import pytest

import support
from core import i18n
from i18n_kit import (DEMO_APPS, DEMO_CATALOGS as CATALOGS, assert_in_language, demo_objects,
                      english_left, english_left_in_json, html_lang)
from support import CheckedBrowser
from support.api import ApiSite, Client
from support.multipart import multipart
from support.pages import error_for
from support.server import server_fixture

MODELS = ["blog.category", "blog.article", "shop.customer", "shop.order"]
EVERY_ACTION = ["read", "write", "delete", "export", "import"]
STAFF = {**{key: EVERY_ACTION for key in MODELS},
         "blog.article": EVERY_ACTION + ["publish"],
         "accounts.user": ["read", "write"], "accounts.role": ["read", "write"],
         "audit.entry": ["read"]}


class DoneWhenSite(ApiSite):
    browser_class = CheckedBrowser


@pytest.fixture
def i18n_settings(tmp_path):
    return support.make_settings(tmp_path, DEMO_APPS)


server = server_fixture("i18n_settings", DoneWhenSite)


@pytest.mark.parametrize("language", ["fr", "de"])
async def test_a_browser_asking_for_the_language_sees_the_whole_admin_in_it(site, language):
    headers = {"Accept-Language": f"{language}, en;q=0.8"}
    staff = await site.create_user("staff", STAFF)            # no language preference
    role = await site.model("accounts.role").create(
        name="editors", permissions={"blog.article": ["read"]}, db=site.db)
    objects = await demo_objects(site, staff)
    browser = CheckedBrowser(site, remote_headers=headers)
    login = await browser.get("/admin/login/")
    assert_in_language(login, language, "the login page")
    await browser.login("staff")
    pages = ["/admin/", "/admin/account/", "/admin/password_change/",
             "/admin/accounts/user/", f"/admin/accounts/user/{staff.id}/",
             "/admin/accounts/role/", f"/admin/accounts/role/{role.id}/",
             "/admin/audit/entry/"]
    for key in MODELS:
        app, model = key.split(".")
        base, obj = f"/admin/{app}/{model}/", objects[key]
        pages += [base, f"{base}add/", f"{base}{obj.id}/change/", f"{base}{obj.id}/delete/",
                  f"{base}{obj.id}/history/", f"{base}import/"]
    for path in pages:
        assert_in_language(await browser.get(path), language, path)

    # a form with errors, the password change refused, a bulk action's confirmation and flash
    invalid = await browser.post("/admin/blog/category/add/", {"name": ""})
    assert error_for(invalid.text, "name") == translated(language, "This field is required.")
    assert_in_language(invalid, language, "a form with an error")
    refused = await browser.post("/admin/password_change/", {
        "old_password": "wrong", "new_password1": "x", "new_password2": "y"})
    assert_in_language(refused, language, "the password change refused")
    extra = await site.model("blog.category").create(name="Old", db=site.db)
    confirm = await browser.post("/admin/blog/category/", {
        "action": "delete_selected", "_selected_action": [str(extra.id)]})
    assert_in_language(confirm, language, "the bulk delete's confirmation")
    published = await browser.post("/admin/blog/article/", {
        "action": "publish", "_selected_action": [str(objects["blog.article"].id)]})
    assert published.code == 303
    flash = await browser.get("/admin/blog/article/")
    assert {"fr": "1 article publié.", "de": "1 Artikel veröffentlicht."}[language] in \
        html.unescape(flash.text)
    assert_in_language(flash, language, "an action's flash")

    # an import refused: an unknown column, rows that break a unique name, a line that is
    # not an object (read in a worker thread: the language goes along)
    for content, expected in [
            ("name,colour\r\nx,red\r\n", {
                "fr": "Colonne inconnue 'colour'\u00a0; les colonnes sont id, name, description.",
                "de": "Unbekannte Spalte 'colour'; die Spalten sind id, name, description."}),
            ("name\r\nNews\r\nNews\r\n", {
                "fr": "<li>Nom: Catégorie",            # the field's label, not the column
                "de": "<li>Name: Kategorie mit diesem Wert für Name existiert bereits."}),
            ('{"name": "x"}\n[1]\n', {"fr": "La ligne 2 n'est pas un objet JSON.",
                                      "de": "Zeile 2 ist kein JSON-Objekt."})]:
        kind = "jsonl" if content.startswith("{") else "csv"
        body, content_type = multipart({"format": kind, "_xsrf": await browser.xsrf()},
                                       [("file", f"rows.{kind}", "text/plain",
                                         content.encode())])
        page = await browser.fetch("/admin/blog/category/import/", "POST", body=body,
                                   headers={"Content-Type": content_type})
        assert page.code in (200, 400), page.text[:300]
        assert expected[language] in html.unescape(page.text), content
        assert html_lang(page.text) == language
        assert english_left(page.text, language, CATALOGS) == [], content
    # the API, with the same session: a 404 and a 422
    api = Client(site, cookies=dict(browser.cookies))
    missing = await api.request("GET", f"/api/blog/category/{'0' * 24}", headers=headers)
    assert missing.code == 404
    invalid = await api.request("POST", "/api/blog/category/", body={"name": "", "x": 1},
                                headers=headers)
    assert invalid.code == 422
    assert invalid.json["error"] == translated(language, "The body has invalid fields.")
    assert invalid.json["fields"]["x"] == translated(language, "Unknown field.")
    for reply in (missing, invalid):
        assert english_left_in_json(reply.json, language, CATALOGS) == [], reply.json


def translated(language, msgid):
    text = i18n.locale_for(language).translate(msgid)
    assert text != msgid
    return text
