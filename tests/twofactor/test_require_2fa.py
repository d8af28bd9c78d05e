"""``REQUIRE_2FA``: a user it covers who has no factor enrols before any session exists."""
import pytest

from core.auth.twofactor import requires_second_factor
from core.conf import ImproperlyConfigured
from core.permissions import Permissions
from support import BLOG_APPS, make_settings
from twofactor_kit import ENROL, VERIFY, code_for, recovery_codes_in, secret_in


ARTICLES = "/admin/blog/article/"


@pytest.fixture
async def staff_site(server, tmp_path):
    return await server(make_settings(tmp_path, BLOG_APPS, REQUIRE_2FA="staff"))


async def test_staff_without_a_factor_enrol_at_login_before_any_admin_page(staff_site):
    site = staff_site
    await site.create_user("alice", {"blog.article": ["read"]})
    browser = site.browser()
    response = await browser.login("alice", next=ARTICLES)
    assert response.location == ENROL
    assert "bastion_session" not in browser.cookies
    assert (await browser.get(ARTICLES)).code == 302           # still not logged in
    page = await browser.get(ENROL)
    assert "must use a second factor" in page.text
    secret = secret_in(page.text)
    wrong = await browser.post(ENROL, {"code": "000000" if code_for(secret) != "000000"
                                       else "111111"})
    assert "That code is not right" in wrong.text and "bastion_session" not in browser.cookies
    done = await browser.post(ENROL, {"code": code_for(secret)})
    assert done.code == 200 and len(recovery_codes_in(done.text)) == 10
    assert f'href="{ARTICLES}"' in done.text                   # "Continue" goes on
    assert "bastion_session" in browser.cookies
    assert (await browser.get(ARTICLES)).code == 200
    assert len(await site.audit(action="twofactor_enrol")) == 1
    # from then on the login asks for a code
    again = site.browser()
    assert (await again.login("alice")).location == VERIFY
    assert (await again.post(VERIFY, {"code": code_for(secret, 1)})).code == 303


async def test_staff_means_superusers_and_anyone_holding_a_grant(staff_site):
    site = staff_site
    await site.create_user("nobody", {})
    await site.create_user("root", {}, is_superuser=True)
    assert (await site.browser().login("nobody")).location == "/admin/"
    assert (await site.browser().login("root")).location == ENROL


async def test_superusers_policy_leaves_other_users_alone(server, tmp_path):
    site = await server(make_settings(tmp_path, BLOG_APPS, REQUIRE_2FA="superusers"))
    await site.create_user("alice", {"blog.article": ["read", "write"]})
    await site.create_user("root", {}, is_superuser=True)
    assert (await site.browser().login("alice")).location == "/admin/"
    assert (await site.browser().login("root")).location == ENROL


def test_the_policy_rule():
    reader = Permissions({"permissions": {"blog.article": ["read"]}, "is_active": True})
    empty = Permissions({"permissions": {}, "is_active": True})
    root = Permissions({"is_superuser": True, "is_active": True})
    inactive_root = Permissions({"is_superuser": True, "is_active": False})
    assert [requires_second_factor("off", p) for p in (reader, root)] == [False, False]
    assert [requires_second_factor("staff", p) for p in (reader, empty, root, inactive_root)] \
        == [True, False, True, False]
    assert [requires_second_factor("superusers", p) for p in (reader, root)] == [False, True]


def test_an_unknown_policy_stops_start_up(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="REQUIRE_2FA must be one of"):
        make_settings(tmp_path, BLOG_APPS, REQUIRE_2FA="everyone")
