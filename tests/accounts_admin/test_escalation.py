"""Nobody raises their own (or anyone's) permissions through the admin unless superuser."""
import pytest

from accounts_admin_kit import audit_entries
from support.accounts import ROLES, USERS, role_form, user_form
from support.pages import errors_in, form_errors

STAFF = {"accounts.user": ["read", "write"], "accounts.role": ["read", "write"],
         "blog.article": ["read"]}


async def get_user(site, username):
    return await site.model("accounts.user").get_by_username(username, db=site.db)


@pytest.fixture
async def staff(site):
    return await site.user_browser("staff", STAFF)


async def test_a_non_superuser_cannot_grant_themselves_what_they_lack(site, staff):
    me = await get_user(site, "staff")
    wanted = dict(STAFF, **{"blog.article": ["delete", "read"]})
    response = await staff.post(f"{USERS}{me.id}/change/", user_form(me, wanted))
    assert response.code == 200
    assert "You cannot grant permissions you do not hold: blog.article: delete" in \
        errors_in(response.text, "permissions")
    after = await get_user(site, "staff")
    assert after.permissions == STAFF and after.version == me.version
    assert await audit_entries(site, "permission_change", me.id) == []
    # the next request still may not delete articles
    article_admin = await staff.get("/admin/blog/article/")
    assert article_admin.code == 200 and "delete_selected" not in article_admin.text


async def test_the_matrix_locks_what_the_editor_does_not_hold(site, staff):
    me = await get_user(site, "staff")
    page = await staff.get(f"{USERS}{me.id}/change/")
    assert 'value="blog.article:delete" id="id_permissions_blog_article_delete" disabled' \
        in page.text
    assert 'value="blog.article:read" id="id_permissions_blog_article_read" checked>' \
        in page.text


async def test_granting_what_you_hold_works_and_locked_grants_are_kept(site, staff):
    bob = await site.create_user("bob", {"blog.article": ["publish"]})
    # staff holds blog.article read but not publish: a save without the (disabled)
    # publish box keeps it, and read is granted
    response = await staff.post(f"{USERS}{bob.id}/change/",
                                user_form(bob, {"blog.article": ["read"]}))
    assert response.code == 303, errors_in(response.text, "permissions")
    assert (await get_user(site, "bob")).permissions == {"blog.article": ["publish", "read"]}


async def test_a_non_superuser_cannot_make_anyone_a_superuser(site, staff):
    me = await get_user(site, "staff")
    page = await staff.get(f"{USERS}{me.id}/change/")
    assert 'name="is_superuser"' not in page.text
    response = await staff.post(f"{USERS}{me.id}/change/", user_form(me, is_superuser="y"))
    assert response.code == 200
    assert "Only superusers may make someone a superuser" in form_errors(response.text)
    assert (await get_user(site, "staff")).is_superuser is False

    created = await staff.post(USERS + "add/", {
        "username": "mallory", "email": "mallory@example.com", "is_superuser": "y",
        "password1": "quiet-lantern-orchard", "password2": "quiet-lantern-orchard"})
    assert created.code == 200
    assert "Only superusers may make someone a superuser" in form_errors(created.text)
    assert await get_user(site, "mallory") is None


async def test_only_superusers_change_delete_or_set_the_password_of_a_superuser(site, staff):
    boss = await site.create_user("boss", is_superuser=True)
    assert (await staff.get(f"{USERS}{boss.id}/")).code == 200
    for suffix in ("change/", "delete/", "password/"):
        assert (await staff.get(f"{USERS}{boss.id}/{suffix}")).code == 403, suffix
    response = await staff.post(f"{USERS}{boss.id}/change/",
                                user_form(boss, is_active=None))
    assert response.code == 403
    response = await staff.post(f"{USERS}{boss.id}/password/",
                                {"password1": "quiet-lantern-orchard",
                                 "password2": "quiet-lantern-orchard"})
    assert response.code == 403
    after = await get_user(site, "boss")
    assert after.is_active and after.version == boss.version
    assert await after.check_password("plum-harbour-velvet")


async def test_a_non_superuser_cannot_add_a_role_granting_more_than_they_hold(site, staff):
    Role = site.model("accounts.role")
    await Role.create(name="deleters", permissions={"blog.article": ["delete", "read"]},
                      db=site.db)
    await Role.create(name="readers", permissions={"blog.article": ["read"]}, db=site.db)
    me = await get_user(site, "staff")
    page = await staff.get(f"{USERS}{me.id}/change/")
    assert 'value="deleters" id="id_roles_0" disabled' in page.text
    response = await staff.post(f"{USERS}{me.id}/change/", user_form(me, roles=["deleters"]))
    assert response.code == 200
    assert "the role 'deleters' grants permissions you do not hold (blog.article: delete)" \
        in errors_in(response.text, "roles")
    assert (await get_user(site, "staff")).roles == []
    ok = await staff.post(f"{USERS}{me.id}/change/", user_form(me, roles=["readers"]))
    assert ok.code == 303
    assert (await get_user(site, "staff")).roles == ["readers"]


async def test_a_non_superuser_cannot_widen_a_role_beyond_their_own_grants(site, staff):
    Role = site.model("accounts.role")
    role = await Role.create(name="mine", permissions={"blog.article": ["read"]}, db=site.db)
    response = await staff.post(f"{ROLES}{role.id}/change/",
                                role_form(role, {"blog.article": ["read", "write"]}))
    assert response.code == 200
    assert "You cannot grant permissions you do not hold: blog.article: write" in \
        errors_in(response.text, "permissions")
    assert (await Role.get(role.id, db=site.db)).permissions == {"blog.article": ["read"]}


async def test_setting_the_password_of_a_more_powerful_user_is_refused(site, staff):
    bob = await site.create_user("bob", {"blog.article": ["read", "delete"]})
    assert (await staff.get(f"{USERS}{bob.id}/password/")).code == 403
    peer = await site.create_user("peer", {"blog.article": ["read"]})
    assert (await staff.get(f"{USERS}{peer.id}/password/")).code == 200


async def test_a_reader_cannot_open_the_forms_or_the_password_page(site):
    reader = await site.user_browser("reader", {"accounts.user": ["read"]})
    bob = await site.create_user("bob")
    assert (await reader.get(f"{USERS}{bob.id}/")).code == 200
    for path in (USERS + "add/", f"{USERS}{bob.id}/change/", f"{USERS}{bob.id}/password/"):
        assert (await reader.get(path)).code == 403, path
    anonymous = site.browser()
    response = await anonymous.get(f"{USERS}{bob.id}/password/")
    assert response.code == 302 and response.location.startswith("/admin/login/")
