"""The set-password page, and role edits reaching their users on the next request."""
from accounts_admin_kit import audit_entries
from support import PASSWORD
from support.accounts import ROLES, USERS, role_form, user_form
from support.pages import errors_in

NEW = "copper-meadow-lantern"


async def get_user(site, username):
    return await site.model("accounts.user").get_by_username(username, db=site.db)


async def test_set_password_page_sets_it_and_ends_that_users_sessions(site):
    root = await site.user_browser("root", is_superuser=True)
    bob = await site.create_user("bob", {"blog.article": ["read"]})
    phone, laptop = site.browser(), site.browser()
    await phone.login("bob")
    await laptop.login("bob")
    assert (await phone.get("/admin/")).code == 200

    page = await root.get(f"{USERS}{bob.id}/password/")
    assert page.code == 200 and page.text.count('type="password"') == 2
    assert 'autocomplete="new-password"' in page.text
    response = await root.post(f"{USERS}{bob.id}/password/",
                               {"password1": NEW, "password2": NEW})
    assert response.code == 303 and response.location == f"{USERS}{bob.id}/change/"

    stored = await get_user(site, "bob")
    assert await stored.check_password(NEW) and not await stored.check_password(PASSWORD)
    assert await site.db["sessions"].count_documents({"user_id": bob.id}) == 0
    for browser in (phone, laptop):
        response = await browser.get("/admin/")
        assert response.code == 302 and response.location.startswith("/admin/login/")
    assert (await root.get("/admin/")).code == 200       # the editor stays logged in
    fresh = site.browser()
    await fresh.login("bob", NEW)

    entries = await audit_entries(site, "password_change", bob.id)
    assert len(entries) == 1
    assert entries[0].actor == "root"
    assert entries[0].changes == {"password": {"before": "••••", "after": "••••"}}
    assert "2 session(s) ended" in entries[0].detail


async def test_set_password_refuses_a_mismatch_or_a_weak_password(site):
    root = await site.user_browser("root", is_superuser=True)
    bob = await site.create_user("bob")
    mismatch = await root.post(f"{USERS}{bob.id}/password/",
                               {"password1": NEW, "password2": NEW + "x"})
    assert mismatch.code == 200 and "do not match" in errors_in(mismatch.text, "password2")
    assert NEW not in mismatch.text
    similar = await root.post(f"{USERS}{bob.id}/password/",
                              {"password1": "bob@example.com1", "password2": "bob@example.com1"})
    assert similar.code == 200 and errors_in(similar.text, "password1")
    stored = await get_user(site, "bob")
    assert stored.version == bob.version and await stored.check_password(PASSWORD)
    assert await audit_entries(site, "password_change", bob.id) == []


async def test_your_own_password_is_set_on_the_page_asking_for_the_current_one(site):
    """A stolen session must not be enough to change the password: the admin's set-password
    page sends its own user to /admin/password_change/ and changes nothing."""
    for profile in ({"accounts.user": ["read", "write"]}, None):
        name = "staff" if profile else "root"
        me_browser = await site.user_browser(name, profile or {}, is_superuser=not profile)
        me = await get_user(site, name)
        page = await me_browser.get(f"{USERS}{me.id}/password/")
        assert page.code == 303 and page.location == "/admin/password_change/"
        response = await me_browser.post(f"{USERS}{me.id}/password/",
                                         {"password1": NEW, "password2": NEW})
        assert response.code == 303 and response.location == "/admin/password_change/"
        after = await get_user(site, name)
        assert after.password == me.password and after.version == me.version
        assert await audit_entries(site, "password_change", me.id) == []


async def test_malformed_or_unknown_ids_are_404(site):
    root = await site.user_browser("root", is_superuser=True)
    assert (await root.get(f"{USERS}nope/password/")).code == 404
    assert (await root.get(f"{USERS}{'0' * 24}/password/")).code == 404


async def test_a_role_edit_applies_to_its_users_on_their_next_request(site):
    root = await site.user_browser("root", is_superuser=True)
    Role = site.model("accounts.role")
    role = await Role.create(name="editors", permissions={"blog.article": ["read"]},
                             db=site.db)
    bob = await site.user_browser("bob", roles=["editors"])
    assert (await bob.get("/admin/blog/article/")).code == 200
    assert (await bob.get("/admin/blog/article/add/")).code == 403

    page = await root.get(f"{ROLES}{role.id}/change/")
    assert 'value="blog.article:publish"' in page.text
    wanted = {"blog.article": ["publish", "read", "write"]}
    response = await root.post(f"{ROLES}{role.id}/change/", role_form(role, wanted))
    assert response.code == 303, errors_in(response.text, "permissions")
    assert (await Role.get(role.id, db=site.db)).permissions == wanted
    assert (await bob.get("/admin/blog/article/add/")).code == 200

    entries = await audit_entries(site, "permission_change", role.id)
    assert len(entries) == 1 and entries[0].model_key == "accounts.role"
    assert entries[0].changes["permissions"] == {"before": {"blog.article": ["read"]},
                                                 "after": wanted}

    detail = await root.get(f"{ROLES}{role.id}/")
    assert detail.code == 200 and f'href="{USERS}' in detail.text and ">bob<" in detail.text
    listing = await root.get(ROLES)
    assert "editors" in listing.text and "column-model_count" in listing.text


async def test_a_new_role_and_a_deleted_role_are_audited_and_holders_lose_it(site):
    root = await site.user_browser("root", is_superuser=True)
    response = await root.post(ROLES + "add/", [("name", "auditors"), ("description", ""),
                                                ("permissions", "blog.category:read")])
    assert response.code == 303, errors_in(response.text, "permissions")
    Role = site.model("accounts.role")
    role = await Role.get_by_name("auditors", db=site.db)
    assert role.permissions == {"blog.category": ["read"]}
    created = await audit_entries(site, "role_change", role.id)
    assert created and created[0].changes["name"] == {"before": None, "after": "auditors"}

    bob = await site.user_browser("bob", roles=["auditors"])
    assert (await bob.get("/admin/blog/category/")).code == 200
    deleted = await root.post(f"{ROLES}{role.id}/delete/", {})
    assert deleted.code == 303
    assert (await get_user(site, "bob")).roles == []
    assert (await bob.get("/admin/blog/category/")).code == 403
    bob_user = await get_user(site, "bob")
    changes = [e.changes["roles"] for e in await audit_entries(site, "role_change", bob_user.id)]
    assert changes == [{"before": ["auditors"], "after": []}]


async def test_deactivating_a_user_in_the_admin_ends_their_sessions(site):
    root = await site.user_browser("root", is_superuser=True)
    bob_browser = await site.user_browser("bob")
    bob = await get_user(site, "bob")
    assert await site.db["sessions"].count_documents({"user_id": bob.id}) == 1
    response = await root.post(f"{USERS}{bob.id}/change/", user_form(bob, is_active=None))
    assert response.code == 303
    assert (await get_user(site, "bob")).is_active is False
    assert await site.db["sessions"].count_documents({"user_id": bob.id}) == 0
    assert (await bob_browser.get("/admin/")).code == 302
