"""Users in the admin: the list, the permission matrix, roles, add with a password."""
import json

import pytest

from accounts_admin_kit import audit_entries
from support.accounts import HASH_RE, USERS, user_form
from support.pages import errors_in, form_errors


@pytest.fixture
async def root(site):
    return await site.user_browser("root", is_superuser=True)


async def get_user(site, username):
    return await site.model("accounts.user").get_by_username(username, db=site.db)


async def test_list_searches_and_filters_users(site, root):
    await site.create_user("alice")
    await site.create_user("bob", is_active=False)
    listing = await root.get(USERS)
    assert listing.code == 200
    for header in ("Username", "Email", "Is active", "Is superuser", "Last login"):
        assert f">{header}<" in listing.text or header in listing.text
    assert "alice@example.com" in listing.text and "bob@example.com" in listing.text
    found = await root.get(USERS + "?q=alice%40exa")
    assert "alice@example.com" in found.text and "bob@example.com" not in found.text
    inactive = await root.get(USERS + "?is_active=0")
    assert "bob@example.com" in inactive.text and "alice@example.com" not in inactive.text
    supers = await root.get(USERS + "?is_superuser=1")
    assert "root@example.com" in supers.text and "alice@example.com" not in supers.text


async def test_change_form_draws_an_accessible_matrix_with_each_models_own_actions(site, root):
    alice = await site.create_user("alice", {"blog.article": ["publish"]})
    page = await root.get(f"{USERS}{alice.id}/change/")
    assert page.code == 200
    text = page.text
    assert '<table class="permission-matrix"' in text and "<caption" in text
    assert '<th scope="col">Read</th>' in text and '<th scope="rowgroup"' in text
    assert '<th scope="row" id="id_permissions_blog_article">' in text
    # publish exists for articles only, and is ticked; every box has a label
    assert 'value="blog.article:publish" id="id_permissions_blog_article_publish" checked' \
        in text
    assert "blog.category:publish" not in text
    assert '<label for="id_permissions_blog_category_write"' in text
    # no password on the change form, a link to its own page instead
    assert 'type="password"' not in text
    assert f'href="{USERS}{alice.id}/password/"' in text


async def test_superuser_edits_the_matrix_and_the_stored_dict_is_exact(site, root):
    alice = await site.create_user("alice", {"blog.category": ["read"]})
    wanted = {"accounts.user": ["read"], "blog.article": ["publish", "read", "write"]}
    response = await root.post(f"{USERS}{alice.id}/change/", user_form(alice, wanted))
    assert response.code == 303, errors_in(response.text, "permissions") or response.text[-2000:]
    stored = await get_user(site, "alice")
    assert stored.permissions == wanted
    entries = await audit_entries(site, "permission_change", alice.id)
    assert len(entries) == 1
    change = entries[0].changes["permissions"]
    assert change["before"] == {"blog.category": ["read"]}
    assert change["after"] == wanted
    assert entries[0].actor == "root"

    # unticking everything revokes everything
    response = await root.post(f"{USERS}{alice.id}/change/", user_form(stored, {}))
    assert response.code == 303
    assert (await get_user(site, "alice")).permissions == {}


@pytest.mark.parametrize("value, message", [
    ("blog.article:fly", "no action 'fly'"),
    ("blog.comment:read", "Unknown model 'blog.comment'"),
    ('{"blog.article": ["delete"]}', "is not a permission"),
    ('["blog.article:delete"]', "is not a permission"),
    ("blog.article:read:delete", "has no scope 'delete'"),   # read:<scope>, unknown
    ("blog.article", "is not a permission"),
])
async def test_unknown_or_injected_grants_are_field_errors_and_change_nothing(
        site, root, value, message):
    alice = await site.create_user("alice", {"blog.category": ["read"]})
    form = user_form(alice, {"blog.article": ["read"]}) + [("permissions", value)]
    response = await root.post(f"{USERS}{alice.id}/change/", form)
    assert response.code == 200
    assert message in errors_in(response.text, "permissions")
    stored = await get_user(site, "alice")
    assert stored.permissions == {"blog.category": ["read"]}
    assert stored.version == alice.version
    assert await audit_entries(site, "permission_change", alice.id) == []


async def test_roles_are_checkboxes_and_assigning_one_is_audited(site, root):
    Role = site.model("accounts.role")
    await Role.create(name="editors", permissions={"blog.article": ["read", "write"]},
                      db=site.db)
    alice = await site.create_user("alice")
    page = await root.get(f"{USERS}{alice.id}/change/")
    assert 'type="checkbox" name="roles" value="editors"' in page.text
    response = await root.post(f"{USERS}{alice.id}/change/", user_form(alice, roles=["editors"]))
    assert response.code == 303
    assert (await get_user(site, "alice")).roles == ["editors"]
    entries = await audit_entries(site, "role_change", alice.id)
    assert [e.changes["roles"] for e in entries] == [{"before": [], "after": ["editors"]}]

    bad = await root.post(f"{USERS}{alice.id}/change/",
                          user_form(await get_user(site, "alice"), roles=["editors", "ghosts"]))
    assert bad.code == 200 and "ghosts" in errors_in(bad.text, "roles")
    assert (await get_user(site, "alice")).roles == ["editors"]


async def test_detail_page_shows_effective_permissions_with_their_sources(site, root):
    Role = site.model("accounts.role")
    await Role.create(name="editors", permissions={"blog.article": ["read", "write"]},
                      db=site.db)
    alice = await site.create_user("alice", {"blog.article": ["read", "publish"]},
                                   roles=["editors"])
    page = await root.get(f"{USERS}{alice.id}/")
    assert page.code == 200
    text = page.text
    assert "Effective permissions" in text
    assert f'data-live-page="detail" data-live-id="{alice.id}"' in text   # live notices
    row = text[text.index('<tr data-model="blog.article">'):]
    row = row[:row.index("</tr>")]
    assert 'data-action="read"' in row and "user, role:editors" in row
    assert '<td class="granted" data-action="write"><span class="bool bool-yes" ' \
           'aria-hidden="true">✓</span> <span class="sources">role:editors</span>' in row
    assert 'data-action="publish">publish: <span class="sources">user</span>' in row
    assert '<td class="not-granted" data-action="delete">' in row
    assert "blog.category" not in text.split("Effective permissions")[1]


async def test_add_user_with_password_and_confirmation(site, root):
    form = {"username": "carol", "email": "carol@example.com", "is_active": "y",
            "password1": "quiet-lantern-orchard", "password2": "quiet-lantern-orchard"}
    page = await root.get(USERS + "add/")
    assert page.text.count('type="password"') == 2
    mismatch = await root.post(USERS + "add/", dict(form, password2="something-else-1"))
    assert mismatch.code == 200
    assert "do not match" in errors_in(mismatch.text, "password2")
    assert "quiet-lantern-orchard" not in mismatch.text          # never sent back
    weak = await root.post(USERS + "add/",
                           dict(form, password1="1234567890", password2="1234567890"))
    assert weak.code == 200 and "entirely numeric" in errors_in(weak.text, "password1")
    assert await get_user(site, "carol") is None

    created = await root.post(USERS + "add/", list(form.items()) +
                              [("permissions", "blog.article:read")])
    assert created.code == 303, created.text[-2000:]
    carol = await get_user(site, "carol")
    assert carol.password.startswith("$2") and await carol.check_password(
        "quiet-lantern-orchard")
    assert carol.permissions == {"blog.article": ["read"]}
    browser = site.browser()
    await browser.login("carol", "quiet-lantern-orchard")


async def test_the_hash_is_in_no_page_and_no_audit_entry(site, root):
    Role = site.model("accounts.role")
    await Role.create(name="editors", permissions={"blog.article": ["read"]}, db=site.db)
    alice = await site.create_user("alice", {"blog.article": ["read"]}, roles=["editors"])
    assert HASH_RE.search(alice.password)
    await root.post(f"{USERS}{alice.id}/change/", user_form(alice, {"blog.article": ["write"]}))
    new = "brand-new-saddle-77"
    await root.post(f"{USERS}{alice.id}/password/", {"password1": new, "password2": new})
    alice = await get_user(site, "alice")
    pages = [USERS, f"{USERS}?q=alice", f"{USERS}{alice.id}/", f"{USERS}{alice.id}/change/",
             f"{USERS}{alice.id}/password/", f"{USERS}{alice.id}/history/",
             f"{USERS}{alice.id}/delete/", USERS + "add/", "/admin/audit/entry/"]
    for path in pages:
        response = await root.get(path)
        assert response.code == 200, path
        assert not HASH_RE.search(response.text), path
        assert alice.password not in response.text, path
    from core.audit import AuditEntry
    entries = await AuditEntry.find(db=site.db).to_list(None)
    assert any(e.action == "password_change" for e in entries)
    dumped = json.dumps([e.to_json() for e in entries], default=str)
    assert not HASH_RE.search(dumped)


async def test_role_name_is_fixed_once_created(site, root):
    Role = site.model("accounts.role")
    role = await Role.create(name="editors", db=site.db)
    page = await root.get(f"/admin/accounts/role/{role.id}/change/")
    assert 'name="name"' not in page.text and "editors" in page.text
    response = await root.post(f"/admin/accounts/role/{role.id}/change/",
                               [("name", "renamed"), ("description", "x"),
                                ("_version", str(role.version))])
    assert response.code == 303
    assert (await Role.get(role.id, db=site.db)).name == "editors"
    assert form_errors(page.text) == ""
