"""Logging in and out, password changes and registration leave entries (HTTP), and the
accounts commands record who changed what (``manage.py`` in a subprocess)."""
from audit_kit import contains, make_settings
from support import NEW_PASSWORD, PASSWORD

WRONG = "not-the-password-42x"


async def test_login_failure_success_and_logout_are_recorded(site):
    alice = await site.create_user("alice")
    browser = site.browser()
    failed = await browser.login("alice", WRONG)
    assert failed.code == 200
    unknown = await browser.login("nobody-here", WRONG)
    assert unknown.code == 200
    ok = await browser.login("alice")
    assert ok.code == 303
    out = await browser.post("/admin/logout/")
    assert out.code == 303
    entries = await site.entries()
    assert [(e["action"], e["actor"], e["actor_id"]) for e in entries] == [
        ("login_failed", "alice", None),
        # an unknown name may be a mistyped password: it is not stored
        ("login_failed", "(unknown user)", None),
        ("login", "alice", alice.id),
        ("logout", "alice", alice.id),
    ]
    assert all(e["ip"] == "127.0.0.1" for e in entries)
    assert not any(contains(e, WRONG) or contains(e, PASSWORD) or contains(e, "nobody-here")
                   for e in entries)


async def test_an_anonymous_logout_records_nothing(site):
    response = await site.browser().post("/admin/logout/")
    assert response.code == 303
    assert await site.entries() == []


async def test_a_throttled_login_is_refused_without_an_entry_per_attempt(server, tmp_path):
    site = await server(make_settings(tmp_path, LOGIN_THROTTLE_USER_LIMIT=2))
    await site.create_user("alice")
    browser = site.browser()
    codes = [(await browser.login("alice", WRONG)).code for _ in range(4)]
    assert codes == [200, 200, 429, 429]
    assert [e["action"] for e in await site.entries()] == ["login_failed", "login_failed"]


async def test_a_password_change_is_recorded_without_the_passwords(site):
    alice = await site.create_user("alice")
    browser = site.browser()
    await browser.login("alice")
    wrong = await browser.post("/admin/password_change/", {
        "old_password": WRONG, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert wrong.code == 200
    changed = await browser.post("/admin/password_change/", {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD})
    assert changed.code == 303
    [entry] = await site.entries(action="password_change")
    assert (entry["actor"], entry["actor_id"]) == ("alice", alice.id)
    assert (entry["model_key"], entry["object_id"]) == ("accounts.user", str(alice.id))
    assert entry["changes"] == {"password": {"before": "••••", "after": "••••"}}
    stored_hash = (await site.model("accounts.user").get(alice.id, db=site.db)).password
    for doc in await site.entries():
        for secret in (PASSWORD, NEW_PASSWORD, WRONG, stored_hash, alice.password):
            assert not contains(doc, secret)
    page = await browser.get(f"/admin/accounts/user/{alice.id}/history/")
    assert page.code == 403                 # alice may not read accounts.user
    root = site.browser()
    await site.create_user("root", is_superuser=True)
    await root.login("root")
    history = await root.get(f"/admin/accounts/user/{alice.id}/history/")
    assert history.code == 200 and "Password change" in history.text


async def test_registration_is_recorded_as_a_create_by_the_new_user(server, tmp_path):
    site = await server(make_settings(tmp_path, ALLOW_REGISTRATION=True))
    browser = site.browser()
    response = await browser.post("/admin/register/", {
        "username": "newbie", "email": "newbie@example.com", "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD})
    assert response.code == 303
    user = await site.model("accounts.user").find_one({"username": "newbie"}, db=site.db)
    [entry] = await site.entries(action="create")
    assert (entry["actor"], entry["actor_id"], entry["object_id"]) == (
        "newbie", user.id, str(user.id))
    assert entry["changes"]["username"] == {"before": None, "after": "newbie"}
    assert "password" not in entry["changes"]     # hidden fields are left out, as in the admin
    assert not contains(entry, NEW_PASSWORD) and not contains(entry, user.password)


# -- manage.py --------------------------------------------------------------------------------

async def test_cli_grant_and_revoke_are_permission_changes_by_manage_py(cli):
    cli.ok("createuser", "alice", "--email", "alice@example.com", "--password-stdin",
           input=PASSWORD + "\n")
    cli.ok("grant", "alice", "vault.box", "read", "write")
    cli.ok("revoke", "alice", "vault.box", "write")
    failed = cli("grant", "alice", "vault.box", "fly")          # unknown action: nothing
    assert failed.returncode == 1
    entries = await cli.entries()
    assert [(e["action"], e["detail"]) for e in entries] == [
        ("create", "manage.py createuser"),
        ("permission_change", "manage.py grant"),
        ("permission_change", "manage.py revoke"),
    ]
    assert all(e["actor"] == "manage.py" and e["actor_id"] is None and e["ip"] is None
               for e in entries)
    assert {e["model_key"] for e in entries} == {"accounts.user"}
    assert entries[0]["object_label"] == "alice"
    assert entries[1]["changes"] == {"permissions": {
        "before": {}, "after": {"vault\\dbox": ["read", "write"]}}}      # dot escaped
    assert entries[2]["changes"] == {"permissions": {
        "before": {"vault\\dbox": ["read", "write"]}, "after": {"vault\\dbox": ["read"]}}}
    assert not any(contains(e, PASSWORD) for e in entries)


async def test_cli_role_password_and_activation_commands_are_recorded(cli):
    cli.ok("createsuperuser", "--username", "root", "--email", "root@example.com",
           "--password-stdin", input=PASSWORD + "\n")
    # root may be deactivated below only while another superuser stays active
    cli.ok("createsuperuser", "--username", "spare", "--email", "spare@example.com",
           "--password-stdin", input=PASSWORD + "\n")
    cli.ok("createrole", "editors")
    cli.ok("grant", "--role", "editors", "vault.box", "read")
    cli.ok("assignrole", "root", "editors")
    cli.ok("unassignrole", "root", "editors")
    cli.ok("deleterole", "editors")
    cli.ok("changepassword", "root", "--password-stdin", input=NEW_PASSWORD + "\n")
    cli.ok("deactivate", "root")
    cli.ok("activate", "root")
    entries = await cli.entries()
    assert [(e["action"], e["model_key"], e["detail"].split(" (")[0]) for e in entries] == [
        ("create", "accounts.user", "manage.py createsuperuser"),
        ("create", "accounts.user", "manage.py createsuperuser"),
        ("role_change", "accounts.role", "manage.py createrole"),
        ("permission_change", "accounts.role", "manage.py grant"),
        ("role_change", "accounts.user", "manage.py assignrole"),
        ("role_change", "accounts.user", "manage.py unassignrole"),
        ("role_change", "accounts.role", "manage.py deleterole"),
        ("password_change", "accounts.user", "manage.py changepassword"),
        ("update", "accounts.user", "manage.py deactivate"),
        ("update", "accounts.user", "manage.py activate"),
    ]
    assert entries[4]["changes"] == {"roles": {"before": [], "after": ["editors"]}}
    assert entries[8]["changes"] == {"is_active": {"before": True, "after": False}}
    assert entries[7]["changes"] == {"password": {"before": "••••", "after": "••••"}}
    assert entries[0]["changes"]["is_superuser"] == {"before": None, "after": True}
    for entry in entries:
        assert entry["actor"] == "manage.py"
        assert not contains(entry, PASSWORD) and not contains(entry, NEW_PASSWORD)
        assert not contains(entry, "$2b$")
