"""Navigation: breadcrumbs the same on every admin page kind (Home › app › model ›
object › page), the pages apps add (``App.admin_pages`` / ``AdminSite.register_page``:
the accounts permission matrix) in the menu only for those who may see them, and the site
title, header and logo from the ``SITE_*`` settings."""
import html
import re

import pytest

from admin_kit import DEMO_APPS, make_settings
from core.admin.sites import AdminSite
from desk_kit import POSTS, add_posts

MATRIX = "/admin/accounts/matrix/"


def crumbs(text):
    """The breadcrumbs as text: ``"Home › Desk › Posts"``."""
    found = re.search(r'<nav class="breadcrumbs"[^>]*>(.*?)</nav>', text, re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


def menu(text):
    """``{app: [link labels]}`` of the navigation menu."""
    found = re.search(r'<nav class="admin-nav"[^>]*>(.*?)</nav>', text, re.S)
    if not found:
        return {}
    groups = {}
    for section in re.findall(r'<section class="nav-app">(.*?)</section>', found.group(1), re.S):
        label = re.search(r'<h2 class="nav-app-name">([^<]*)</h2>', section).group(1)
        groups[label] = re.findall(r'<a href="[^"]*"[^>]*>([^<]*)</a>', section)
    return groups


async def test_every_admin_page_kind_has_the_same_breadcrumbs(desk):
    root = await desk.user_browser("root", is_superuser=True)
    [post_id] = await add_posts(desk, [{"title": "Crumbs"}])
    user = await desk.create_user("ann")
    pages = {
        f"{POSTS}": "Home › Desk › Posts",
        f"{POSTS}add/": "Home › Desk › Posts › Add",
        f"{POSTS}{post_id}/": "Home › Desk › Posts › Crumbs",
        f"{POSTS}{post_id}/change/": "Home › Desk › Posts › Crumbs › Change",
        f"{POSTS}{post_id}/delete/": "Home › Desk › Posts › Crumbs › Delete",
        f"{POSTS}{post_id}/history/": "Home › Desk › Posts › Crumbs › History",
        f"{POSTS}import/": "Home › Desk › Posts › Import",
        f"/admin/accounts/user/{user.id}/password/": "Home › Accounts › Users › ann › "
                                                     "Set password",
        MATRIX: "Home › Accounts › Permission matrix",
        "/admin/account/": "Home › Your account",
        "/admin/password_change/": "Home › Your account › Change password",
    }
    for path, expected in pages.items():
        page = await root.get(path)
        assert page.code == 200, path
        assert crumbs(page.text) == expected, path
    confirm = await root.post(POSTS, [("action", "delete_selected"),
                                      ("_selected_action", str(post_id))])
    assert confirm.code == 200
    assert crumbs(confirm.text) == "Home › Desk › Posts › Delete selected"
    assert crumbs((await root.get("/admin/")).text) == ""                  # the home itself


async def test_the_matrix_page_is_in_the_menu_only_for_those_who_may_read_users(desk):
    root = await desk.user_browser("root", is_superuser=True)
    assert menu((await root.get("/admin/")).text)["Accounts"][-1] == "Permission matrix"
    reader = await desk.user_browser("user-reader", {"accounts.user": ["read"]})
    page = await reader.get(MATRIX)
    assert menu(page.text)["Accounts"] == ["Users", "Permission matrix"]
    assert f'<a href="{MATRIX}" aria-current="page" class="current">' in page.text
    posts_only = await desk.user_browser("poster", {"desk.post": ["read"]})
    page = await posts_only.get(POSTS)
    assert "Accounts" not in menu(page.text) and "Permission matrix" not in page.text
    assert (await posts_only.get(MATRIX)).code == 403                  # the page checks too


async def test_register_page_checks_the_path_and_the_permission(desk):
    site = AdminSite(desk.app.registry)
    assert [page.path for page in site.pages] == [MATRIX]          # App.admin_pages
    with pytest.raises(ValueError, match="starts with /admin/"):
        site.register_page("desk", "Stats", "/stats/", object)
    with pytest.raises(ValueError, match="two admin pages"):
        site.register_page("desk", "Again", MATRIX, object)
    page = site.register_page("desk", "Stats", "/admin/desk/stats/", object,
                              permission=lambda handler: handler.current_user == "ann")

    class Asking:
        current_user = "ann"
    assert page.may_see(Asking()) and page.name == "admin_desk_stats"
    Asking.current_user = "bob"
    assert not page.may_see(Asking())
    Asking.current_user = None
    assert not site.register_page("desk", "All", "/admin/desk/all/", object).may_see(Asking())


async def test_site_title_header_and_logo_come_from_the_settings(server, tmp_path):
    site = await server(settings=make_settings(
        tmp_path, INSTALLED_APPS=DEMO_APPS + ["desk_demo"], SITE_TITLE="Newsroom",
        SITE_HEADER="Newsroom desk", SITE_LOGO_URL="/static/newsroom.svg"))
    login = await site.browser().get("/admin/login/")
    assert "<title>Log in · Newsroom</title>" in login.text
    assert re.search(r'<a class="brand" href="/admin/"><img class="brand-logo" '
                     r'src="/static/newsroom.svg" alt="" height="28">Newsroom desk</a>',
                     login.text)
    root = await site.user_browser("root", is_superuser=True)
    page = await root.get(POSTS)
    assert "<title>Posts · Newsroom</title>" in page.text and "Bastion" not in page.text
    assert "Newsroom desk</a>" in page.text


async def test_without_the_settings_the_site_is_called_bastion(desk):
    login = await desk.browser().get("/admin/login/")
    assert "<title>Log in · Bastion</title>" in login.text
    assert '<a class="brand" href="/admin/">Bastion</a>' in login.text


def without_tokens(text):
    """``text`` with its XSRF tokens (masked afresh for every response) left out."""
    return re.sub(r"2\|[0-9a-f]{8}\|[0-9a-f]+\|\d+", "TOKEN", text)


async def test_a_page_served_from_the_caches_is_the_page_worked_out_afresh(desk):
    """The menu (the auth-cache entry's readable models), the static URLs (the
    application's memo) and the route found through the route index change no byte of a
    page: each page is fetched once worked out afresh and once from what was kept."""
    [post_id] = await add_posts(desk, [{"title": "Same"}])
    browser = await desk.user_browser("same", {"desk.post": ["read"],
                                               "accounts.user": ["read"]})
    assert (await browser.get("/admin/")).code == 200            # the cache exists now
    readable = ("readable admins", desk.app.admin_site)          # the entry's menu memo
    for path in (POSTS, f"{POSTS}{post_id}/", "/admin/", MATRIX, "/admin/account/"):
        desk.app.auth_cache._entries.clear()
        desk.app.static_urls.clear()
        fresh = await browser.get(path)
        entry = next(iter(desk.app.auth_cache._entries.values()))
        assert readable not in entry.shared, path               # worked out afresh
        kept = await browser.get(path)
        assert readable in entry.shared, path                   # and now from the entry
        assert fresh.code == kept.code == 200, path
        assert "Posts" in menu(kept.text)["Desk"]
        assert without_tokens(fresh.text) == without_tokens(kept.text), path
