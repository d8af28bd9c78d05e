"""The admin in the user's language: every page kind rendered for a French and a German
user shows no English msgid of the catalogs and says ``<html lang="fr">`` / ``"de"``; the
language comes from the user's preference, else ``Accept-Language``, else ``LANGUAGE``;
form errors, flash messages and plurals follow it."""
import datetime
import html
import json
import re

import pyotp
import pytest

from i18n_kit import english_left, html_lang
from support import CheckedBrowser
from support.pages import error_for

NOTES = "/admin/notes/note/"
ALL = {"notes.note": ["read", "write", "delete"], "notes.category": ["read", "write"]}


async def a_note(site, title="Call", owner="writer"):
    return await site.model("notes.note").create(title=title, owner=owner, db=site.db)


def assert_in_language(response, language, path):
    assert response.code in (200, 403, 404), (path, response.code, response.text[:500])
    assert html_lang(response.text) == language, path
    assert english_left(response.text, language) == [], path


@pytest.mark.parametrize("language", ["fr", "de"])
async def test_every_page_kind_is_in_the_users_language(site, language):
    browser = await site.user_browser("writer", ALL, language=language)
    note = await a_note(site)
    await browser.post(f"{NOTES}{note.id}/change/", {"title": "Call back", "kind": "memo",
                                                     "_version": "1"})
    pages = ["/admin/", NOTES, f"{NOTES}{note.id}/", f"{NOTES}add/",
             f"{NOTES}{note.id}/change/", f"{NOTES}{note.id}/delete/",
             f"{NOTES}{note.id}/history/", f"{NOTES}import/", "/admin/account/",
             "/admin/account/totp/", "/admin/password_change/",
             "/admin/accounts/user/",                                    # 403: no permission
             "/admin/no/such/page/", f"{NOTES}{'0' * 24}/"]              # 404s
    for path in pages:
        assert_in_language(await browser.get(path), language, path)
    # the add form with a field error (a required title left empty)
    invalid = await browser.post(f"{NOTES}add/", {"title": "", "kind": "memo"})
    assert invalid.code == 200
    assert_in_language(invalid, language, "add with an error")
    assert error_for(invalid.text, "title") == {"fr": "Ce champ est obligatoire.",
                                                "de": "Dieses Feld ist erforderlich."}[language]


@pytest.mark.parametrize("language", ["fr", "de"])
async def test_the_matrix_page_and_the_users_admin_are_translated(site, language):
    await site.create_user("boss", language=language, is_superuser=True)
    browser = site.browser()
    await browser.login("boss")
    user = await site.create_user("other1")
    for path in ("/admin/accounts/matrix/", "/admin/accounts/user/",
                 f"/admin/accounts/user/{user.id}/", f"/admin/accounts/user/{user.id}/password/"):
        assert_in_language(await browser.get(path), language, path)


@pytest.mark.parametrize("language", ["fr", "de"])
async def test_login_second_step_and_password_reset_pages(site, language):
    browser = await site.user_browser("twofa", ALL, language=language)
    enrol = await browser.get("/admin/account/totp/")
    secret = re.search(r'id="totp_secret">([A-Z2-7 ]+)</code>', enrol.text).group(1)
    secret = secret.replace(" ", "")
    done = await browser.post("/admin/account/totp/", {"code": pyotp.TOTP(secret).now()})
    assert_in_language(done, language, "recovery codes")
    headers = {"Accept-Language": language}                  # anonymous: the browser's
    anonymous = site.browser(remote_headers=headers)
    for path in ("/admin/login/", "/admin/password_reset/", "/admin/password_reset/done/",
                 "/admin/reset/000000000000000000000000/bad-token/"):
        assert_in_language(await anonymous.get(path), language, path)
    step = await anonymous.login("twofa")
    assert step.code == 303
    verify = await anonymous.get(step.location)
    assert "/verify/" in step.location
    assert_in_language(verify, language, "the second step")


async def test_accept_language_without_a_preference_gives_french(site):
    browser = site.browser(remote_headers={"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.8"})
    page = await browser.get("/admin/login/")
    assert html_lang(page.text) == "fr"
    assert ">Se connecter</button>" in page.text
    assert "Nom d'utilisateur" in html.unescape(page.text)
    unknown = await site.browser(remote_headers={"Accept-Language": "es, ja"}).get(
        "/admin/login/")
    assert html_lang(unknown.text) == "en" and ">Log in</button>" in unknown.text


async def test_the_users_preference_beats_accept_language(site):
    await site.create_user("hans", ALL, language="de")
    browser = CheckedBrowser(site, remote_headers={"Accept-Language": "fr"})
    await browser.login("hans")
    page = await browser.get("/admin/")
    assert html_lang(page.text) == "de"
    assert "Website-Verwaltung" in page.text and "Administration du site" not in page.text
    await site.create_user("plain", ALL)                 # no preference: the browser's
    other = CheckedBrowser(site, remote_headers={"Accept-Language": "fr"})
    await other.login("plain")
    assert html_lang((await other.get("/admin/")).text) == "fr"


async def test_form_errors_and_flash_messages_in_french(site):
    browser = await site.user_browser("writer", ALL, language="fr")
    # a WTForms built-in message (WTForms' own French catalog): a number that is not one
    invalid = await browser.post(f"{NOTES}add/", {"title": "x", "kind": "memo", "rank": "abc"})
    assert invalid.code == 200
    assert "Veuillez corriger l" in invalid.text                 # the page's summary
    rank_error = html.unescape(error_for(invalid.text, "rank"))
    assert "N'est pas un entier valide." in rank_error and "Not a valid" not in rank_error
    created = await browser.post(f"{NOTES}add/", {"title": "Appel", "kind": "memo"})
    assert created.code == 303
    listing = await browser.get(NOTES)
    assert "a été ajouté" in listing.text and "was added" not in listing.text
    login = site.browser(remote_headers={"Accept-Language": "fr"})
    refused = await login.post("/admin/login/", {"username": "writer", "password": "wrong"})
    assert "Saisissez un nom d'utilisateur et un mot de passe corrects" in \
        html.unescape(refused.text)


async def test_plurals_follow_the_count(site):
    browser = await site.user_browser("writer", ALL, language="fr")
    page = await browser.post(f"{NOTES}add/", {"title": "", "kind": "memo", "rank": "abc"})
    assert "Veuillez corriger les erreurs ci-dessous." in page.text          # two errors
    page = await browser.post(f"{NOTES}add/", {"title": "", "kind": "memo"})
    assert "Veuillez corriger l'erreur ci-dessous." in html.unescape(page.text)     # one
    first, second = await a_note(site, "A"), await a_note(site, "B")
    bulk = await browser.post(NOTES, {"action": "delete_selected",
                                      "_selected_action": [str(first.id), str(second.id)]})
    assert bulk.code == 200
    assert "2 notes seront supprimés" in bulk.text


async def test_a_german_page_shows_dates_the_german_way(site):
    browser = await site.user_browser("writer", ALL, language="de", time_zone="Europe/Berlin")
    note = await site.model("notes.note").create(
        title="Anruf", owner="writer", db=site.db,
        due=datetime.datetime(2024, 7, 1, 12, 30, tzinfo=datetime.timezone.utc))
    detail = await browser.get(f"{NOTES}{note.id}/")
    assert "01.07.2024 14:30 CEST" in detail.text


async def test_the_scripts_get_their_texts_in_the_page_language(site):
    browser = await site.user_browser("writer", ALL, language="fr")
    page = await browser.get(NOTES)
    raw = re.search(r'<body[^>]* data-i18n="([^"]*)"', page.text).group(1)
    catalog = json.loads(html.unescape(raw))
    texts = catalog["messages"]
    assert catalog["plural"] == "(n == 0 || n == 1) ? 0 : n != 0 && n % 1000000 == 0 ? 1 : 2"
    assert texts["%(count)s new %(name)s"] == ["%(count)s nouveau : %(name)s",
                                               "%(count)s nouveaux : %(name)s",
                                               "%(count)s nouveaux : %(name)s"]
    assert texts["Select some items first."] == "Sélectionnez d'abord des éléments."
    assert texts["“%(label)s” was changed by %(who)s."] == "«\u00a0%(label)s\u00a0» a été " \
        "modifié par %(who)s."
    assert re.search(r'<script src="/static/i18n\.js\?v=\w+" defer></script>', page.text)
    script = await browser.get("/static/i18n.js")
    assert script.code == 200 and "bastionText" in script.text
    english = await (await site.user_browser("plain", ALL)).get(NOTES)
    raw = re.search(r'<body[^>]* data-i18n="([^"]*)"', english.text).group(1)
    assert json.loads(html.unescape(raw)) == {"plural": "(n != 1)", "messages": {}}
