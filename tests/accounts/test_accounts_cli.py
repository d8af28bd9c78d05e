"""Every accounts command through ``manage.py`` in a subprocess, on an embedded database.

Failures must be one ``error: ...`` line, exit 1 (2 for bad usage), and leave
the database exactly as it was.
"""
import json
from pathlib import Path

import pytest

PASSWORD = "plum-harbour-velvet"          # passes every validator
NEW_PASSWORD = "copper-lantern-meadow"

ACCOUNT_COMMANDS = ("createsuperuser", "createuser", "changepassword", "grant", "revoke",
                    "createrole", "deleterole", "assignrole", "unassignrole", "perms", "users",
                    "roles", "deactivate", "activate")


def create(cli, username, *extra, password=PASSWORD):
    return cli.ok("createuser", username, "--email", f"{username}@example.com",
                  "--password-stdin", *extra, input=password + "\n")


async def assert_unchanged(cli, before):
    assert await cli.state() == before


# -- discovery ---------------------------------------------------------------------------------

def test_help_lists_the_accounts_commands_and_each_has_help(cli):
    listing = cli.ok("help").stdout
    for name in ACCOUNT_COMMANDS:
        assert f"\n  {name} " in listing, name
    for name in ("grant", "createuser", "perms"):
        assert cli.ok(name, "--help").stdout.startswith(f"usage: manage.py {name}")


# -- creating users ----------------------------------------------------------------------------

async def test_createsuperuser(cli):
    result = cli.ok("createsuperuser", "--username", "root", "--email", "root@example.com",
                    "--password-stdin", input=PASSWORD + "\n")
    assert result.stdout == "created superuser root\n"
    root = await cli.user("root")
    assert root["is_superuser"] is True and root["is_active"] is True
    assert root["password"].startswith("$2b$04$") and PASSWORD not in str(root)


def test_createsuperuser_needs_username_and_email(cli):
    result = cli("createsuperuser", "--email", "root@example.com", "--password-stdin",
                 input=PASSWORD + "\n")
    assert result.returncode == 2 and "--username" in result.stderr


async def test_createuser_with_repeated_perms(cli):
    result = create(cli, "alice", "--perm", "shop.product=read,write", "--perm",
                    "accounts.user=read", "--perm", "shop.product=publish")
    assert result.stdout.startswith("created user alice")
    alice = await cli.user("alice")
    assert alice["is_superuser"] is False
    assert alice["permissions"] == {"shop": {"product": ["publish", "read", "write"]},
                                    "accounts": {"user": ["read"]}}


async def test_createuser_without_perm_gets_default_permissions(cli):
    create(cli, "plain")
    assert (await cli.user("plain"))["permissions"] == {}
    cli.ok("createuser", "dora", "--email", "dora@example.com", "--password-stdin",
           input=PASSWORD + "\n", settings="acl_settings_defaults")
    assert (await cli.user("dora"))["permissions"] == {"shop": {"product": ["read"]}}


async def test_default_permissions_naming_an_unknown_model_is_an_error(cli):
    line = cli.fails("createuser", "dora", "--email", "dora@example.com", "--password-stdin",
                     input=PASSWORD + "\n", settings="acl_settings_bad_defaults")
    assert line.startswith("error: settings.DEFAULT_PERMISSIONS: unknown model 'blog.article'")
    assert (await cli.state())["users"] == []


async def test_the_created_password_works(cli):
    create(cli, "alice")
    check = ("from apps.accounts.models import User\n"
             f"print(bool(await User.authenticate('alice', {PASSWORD!r})),"
             f" bool(await User.authenticate('alice', 'wrong-password-here')))")
    assert cli.ok("shell", "-c", check).stdout == "True False\n"


@pytest.mark.parametrize("args, stdin, message", [
    (["--perm", "blog.article=read"], PASSWORD,
     "error: unknown model 'blog.article' (installed models: accounts.role, accounts.user, "
     "shop.product)"),
    (["--perm", "shop.product=read,fly"], PASSWORD,
     "error: model shop.product has no action 'fly' (its actions: read, write, delete, "
     "export, publish)"),
    ([], "short", "error: password rejected: This password is too short: it must contain "
                  "at least 10 characters."),
    ([], "1234567890", "error: password rejected: This password is entirely numeric. "
                       "This password is too common."),
    ([], "Bobby-Example", "error: password rejected: This password is too similar to the "
                          "email address."),
    ([], "x" * 80, "error: password rejected: This password is too long: at most 72 bytes "
                   "(UTF-8) are allowed."),
    ([], "", "error: password rejected: This password is too short: it must contain at "
             "least 10 characters."),
])
async def test_createuser_refusals_change_nothing(cli, args, stdin, message):
    before = await cli.state()
    line = cli.fails("createuser", "bobby", "--email", "bobby@example.com", "--password-stdin",
                     *args, input=stdin + "\n")
    assert line == message
    await assert_unchanged(cli, before)


async def test_duplicate_username_or_email_and_bad_email_are_refused(cli):
    create(cli, "alice")
    before = await cli.state()
    assert cli.fails("createuser", "alice", "--email", "new@example.com", "--password-stdin",
                     input=PASSWORD + "\n") == "error: a user named 'alice' already exists"
    assert cli.fails("createuser", "alicia", "--email", "alice@example.com",
                     "--password-stdin", input=PASSWORD + "\n") == (
        "error: a user with the email 'alice@example.com' already exists")
    assert cli.fails("createuser", "alicia", "--email", "not-an-email", "--password-stdin",
                     input=PASSWORD + "\n").startswith("error: email: ")
    assert cli.fails("createuser", "al ice", "--email", "x@example.com", "--password-stdin",
                     input=PASSWORD + "\n").startswith("error: username: Enter a valid")
    await assert_unchanged(cli, before)


async def test_password_is_never_taken_from_argv_and_needs_a_terminal_or_stdin(cli):
    result = cli("createuser", "alice", "--email", "a@example.com", "--password", PASSWORD)
    assert result.returncode == 2 and "unrecognized arguments" in result.stderr
    assert cli.fails("createuser", "alice", "--email", "a@example.com") == (
        "error: no terminal to prompt for the password; pipe it in with --password-stdin")
    assert cli.fails("createuser", "alice", "--email", "a@example.com", "--password-stdin",
                     input="") == ("error: no password on standard input (--password-stdin "
                                   "reads one line)")
    assert (await cli.state())["users"] == []


def test_bad_perm_syntax_is_bad_usage(cli):
    result = cli("createuser", "alice", "--email", "a@example.com", "--perm", "shop.product",
                 "--password-stdin", input=PASSWORD + "\n")
    assert result.returncode == 2
    assert "is not MODEL=ACTION[,ACTION...]" in result.stderr


# -- passwords and sessions --------------------------------------------------------------------

async def test_changepassword_sets_the_password_and_ends_only_that_users_sessions(cli):
    create(cli, "alice")
    create(cli, "bob")
    alice, bob = await cli.user("alice"), await cli.user("bob")
    await cli.insert_sessions(alice["_id"], alice["_id"], bob["_id"])
    result = cli.ok("changepassword", "alice", "--password-stdin", input=NEW_PASSWORD + "\n")
    assert result.stdout == "changed the password of alice; ended 2 sessions, revoked 0 tokens\n"
    state = await cli.state()
    assert [s["user_id"] for s in state["sessions"]] == [bob["_id"]]
    changed = await cli.user("alice")
    assert changed["password"] != alice["password"] and changed["version"] == 2
    check = ("from apps.accounts.models import User\n"
             f"print(bool(await User.authenticate('alice', {NEW_PASSWORD!r})))")
    assert cli.ok("shell", "-c", check).stdout == "True\n"


async def test_changepassword_refusals_change_nothing(cli):
    create(cli, "alice")
    alice = (await cli.state())["users"][0]
    await cli.insert_sessions(alice["_id"])
    before = await cli.state()
    assert cli.fails("changepassword", "nobody", "--password-stdin",
                     input=NEW_PASSWORD + "\n") == "error: unknown user 'nobody'"
    assert cli.fails("changepassword", "alice", "--password-stdin",
                     input="password123\n") == (
        "error: password rejected: This password is too common.")
    await assert_unchanged(cli, before)


async def test_deactivate_ends_sessions_and_activate_restores(cli):
    create(cli, "alice", "--perm", "shop.product=read")
    alice = await cli.user("alice")
    await cli.insert_sessions(alice["_id"])
    assert cli.ok("deactivate", "alice").stdout == (
        "deactivated alice; ended 1 session, revoked 0 tokens\n")
    state = await cli.state()
    assert state["sessions"] == [] and state["users"][0]["is_active"] is False
    perms = json.loads(cli.ok("perms", "alice", "--json").stdout)
    assert perms["is_active"] is False and perms["effective"] == {}
    assert cli.ok("activate", "alice").stdout == "activated alice\n"
    assert (await cli.user("alice"))["is_active"] is True
    assert json.loads(cli.ok("perms", "alice", "--json").stdout)["effective"] == {
        "shop.product": ["read"]}
    assert cli.fails("deactivate", "nobody") == "error: unknown user 'nobody'"
    assert cli.fails("activate", "nobody") == "error: unknown user 'nobody'"


# -- grants ------------------------------------------------------------------------------------

async def test_grant_and_revoke_on_a_user(cli):
    create(cli, "alice")
    assert cli.ok("grant", "alice", "shop.product", "read", "publish").stdout == (
        "alice: shop.product: publish, read\n")
    cli.ok("grant", "alice", "Shop.Product", "write")
    cli.ok("grant", "alice", "accounts.user", "read")
    assert (await cli.user("alice"))["permissions"] == {
        "shop": {"product": ["publish", "read", "write"]}, "accounts": {"user": ["read"]}}
    assert cli.ok("revoke", "alice", "shop.product", "publish").stdout == (
        "alice: shop.product: read, write\n")
    assert cli.ok("revoke", "alice", "accounts.user").stdout == "alice: accounts.user: nothing\n"
    assert (await cli.user("alice"))["permissions"] == {"shop": {"product": ["read", "write"]}}


async def test_grant_and_revoke_refusals_change_nothing(cli):
    create(cli, "alice", "--perm", "shop.product=read")
    cli.ok("createrole", "editors")
    before = await cli.state()
    assert cli.fails("grant", "nobody", "shop.product", "read") == "error: unknown user 'nobody'"
    assert cli.fails("grant", "alice", "blog.article", "read").startswith(
        "error: unknown model 'blog.article'")
    assert cli.fails("grant", "alice", "shop.product", "read", "fly") == (
        "error: model shop.product has no action 'fly' (its actions: read, write, delete, "
        "export, publish)")
    assert cli.fails("grant", "--role", "ghosts", "shop.product", "read") == (
        "error: unknown role 'ghosts'")
    assert cli.fails("grant", "--role", "editors", "shop.product", "fly").startswith(
        "error: model shop.product has no action 'fly'")
    assert cli.fails("revoke", "alice", "shop.product", "fly").startswith(
        "error: model shop.product has no action 'fly'")
    assert cli.fails("revoke", "alice", "nope.model").startswith(
        "error: unknown model 'nope.model'")
    assert cli.fails("revoke", "nobody", "shop.product") == "error: unknown user 'nobody'"
    await assert_unchanged(cli, before)


def test_grant_without_actions_is_bad_usage(cli):
    create(cli, "alice")
    result = cli("grant", "alice", "shop.product")
    assert result.returncode == 2
    assert result.stderr.startswith("error: missing arguments; usage: manage.py grant")
    assert cli("grant", "--role", "editors", "shop.product").returncode == 2
    assert cli("grant").returncode == 2


async def test_grant_and_revoke_on_a_role(cli):
    cli.ok("createrole", "editors")
    assert cli.ok("grant", "--role", "editors", "shop.product", "write", "publish").stdout == (
        "role editors: shop.product: publish, write\n")
    cli.ok("revoke", "--role", "editors", "shop.product", "write")
    roles = json.loads(cli.ok("roles", "--json").stdout)
    assert roles == [{"name": "editors", "description": "",
                      "permissions": {"shop.product": ["publish"]}, "users": []}]


# -- roles -------------------------------------------------------------------------------------

async def test_createrole_refusals(cli):
    cli.ok("createrole", "editors", "--description", "They edit.")
    before = await cli.state()
    assert cli.fails("createrole", "editors") == "error: a role named 'editors' already exists"
    assert cli.fails("createrole", "two words").startswith("error: name: Role names use")
    await assert_unchanged(cli, before)
    assert before["roles"][0]["description"] == "They edit."


async def test_assign_unassign_and_perms_with_sources(cli):
    create(cli, "alice", "--perm", "shop.product=read")
    cli.ok("createrole", "editors")
    cli.ok("grant", "--role", "editors", "shop.product", "read", "write")
    assert cli.ok("assignrole", "alice", "editors").stdout == "alice: roles: editors\n"
    assert cli.ok("assignrole", "alice", "editors").stdout == (
        "alice already has role editors\n")
    assert (await cli.user("alice"))["roles"] == ["editors"]
    perms = json.loads(cli.ok("perms", "alice", "--json").stdout)
    assert perms == {"username": "alice", "is_superuser": False, "is_active": True,
                     "effective": {"shop.product": ["read", "write"]},
                     "sources": {"shop.product": {"read": ["user", "role:editors"],
                                                  "write": ["role:editors"]}},
                     "fields": {}, "expired": {}}
    text = cli.ok("perms", "alice").stdout
    assert "shop.product  read (user, role:editors), write (role:editors)" in text
    assert cli.ok("unassignrole", "alice", "editors").stdout == "alice: roles: none\n"
    assert (await cli.user("alice"))["roles"] == []
    assert json.loads(cli.ok("perms", "alice", "--json").stdout)["effective"] == {
        "shop.product": ["read"]}


async def test_role_assignment_refusals_change_nothing(cli):
    create(cli, "alice")
    cli.ok("createrole", "editors")
    before = await cli.state()
    assert cli.fails("assignrole", "alice", "ghosts") == "error: unknown role 'ghosts'"
    assert cli.fails("assignrole", "nobody", "editors") == "error: unknown user 'nobody'"
    assert cli.fails("unassignrole", "alice", "ghosts") == "error: unknown role 'ghosts'"
    assert cli.fails("unassignrole", "nobody", "editors") == "error: unknown user 'nobody'"
    assert cli.fails("deleterole", "ghosts") == "error: unknown role 'ghosts'"
    await assert_unchanged(cli, before)


async def test_deleterole_removes_it_from_every_user(cli):
    create(cli, "alice")
    create(cli, "bob")
    create(cli, "carol")
    cli.ok("createrole", "editors")
    cli.ok("createrole", "viewers")
    for name in ("alice", "bob"):
        cli.ok("assignrole", name, "editors")
    cli.ok("assignrole", "alice", "viewers")
    assert cli.ok("deleterole", "editors").stdout == "deleted role editors (removed from 2 users)\n"
    state = await cli.state()
    assert [r["name"] for r in state["roles"]] == ["viewers"]
    assert {u["username"]: u["roles"] for u in state["users"]} == {
        "alice": ["viewers"], "bob": [], "carol": []}


async def test_roles_listing(cli):
    create(cli, "alice")
    cli.ok("createrole", "editors")
    cli.ok("createrole", "auditors")
    cli.ok("grant", "--role", "editors", "shop.product", "write")
    cli.ok("assignrole", "alice", "editors")
    assert cli.ok("roles").stdout == ("auditors: no permissions (users: none)\n"
                                      "editors: shop.product: write (users: alice)\n")
    listed = json.loads(cli.ok("roles", "--json").stdout)
    assert [(r["name"], r["users"]) for r in listed] == [("auditors", []),
                                                         ("editors", ["alice"])]


def test_empty_listings(cli):
    assert cli.ok("users").stdout == "no users\n"
    assert cli.ok("roles").stdout == "no roles\n"
    assert json.loads(cli.ok("users", "--json").stdout) == []
    assert json.loads(cli.ok("roles", "--json").stdout) == []


# -- listings never show the hash --------------------------------------------------------------

async def test_users_and_perms_output_never_contains_the_password_hash(cli):
    cli.ok("createsuperuser", "--username", "root", "--email", "root@example.com",
           "--password-stdin", input=PASSWORD + "\n")
    create(cli, "alice", "--perm", "shop.product=read")
    cli.ok("deactivate", "alice")
    hashes = [u["password"] for u in (await cli.state())["users"]]
    listings = (["users"], ["users", "--json"], ["perms", "alice", "--json"],
                ["perms", "root", "--json"], ["perms", "root"])
    outputs = [cli.ok(*args).stdout for args in listings]
    for output in outputs:
        assert "$2b$" not in output
        assert not any(h in output for h in hashes)
    users = json.loads(outputs[1])
    assert [u["username"] for u in users] == ["alice", "root"]
    assert all("password" not in u for u in users)
    assert (users[0]["is_active"], users[1]["is_superuser"]) == (False, True)
    assert users[0]["permissions"] == {"shop.product": ["read"]}
    assert "root@example.com" in outputs[0] and "[superuser]" in outputs[0]
    assert "[inactive]" in outputs[0]


def test_perms_of_a_superuser_lists_every_model_with_all_actions(cli):
    cli.ok("createsuperuser", "--username", "root", "--email", "root@example.com",
           "--password-stdin", input=PASSWORD + "\n")
    perms = json.loads(cli.ok("perms", "root", "--json").stdout)
    assert perms["is_superuser"] is True
    assert perms["effective"] == {
        "accounts.role": ["delete", "export", "read", "write"],
        "accounts.user": ["delete", "export", "read", "write"],
        "shop.product": ["delete", "export", "publish", "read", "write"]}
    assert perms["sources"]["shop.product"]["publish"] == ["superuser"]
    assert cli.fails("perms", "nobody") == "error: unknown user 'nobody'"


# -- prompting on a terminal -------------------------------------------------------------------

def run_on_terminal(cli, args, answers, timeout=30):
    """Run manage.py with a pseudo-terminal as its controlling tty; type ``answers``
    one per ``Password...:`` prompt. Returns ``(exit status, everything printed)``."""
    import fcntl
    import os
    import pty
    import select
    import subprocess
    import sys
    import termios
    import time

    repo = Path(__file__).resolve().parents[2]
    master, slave = pty.openpty()

    def become_session_leader_with_the_pty():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen([sys.executable, str(repo / "manage.py"), *args], cwd=repo,
                            env=cli.env, stdin=slave, stdout=slave, stderr=slave,
                            preexec_fn=become_session_leader_with_the_pty, close_fds=True)
    os.close(slave)
    output, typed = b"", 0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 1024)
                except OSError:          # the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
                prompted = output.count(b"Password") > typed
                if typed < len(answers) and prompted and output.rstrip().endswith(b":"):
                    os.write(master, answers[typed].encode() + b"\n")
                    typed += 1
            elif proc.poll() is not None:
                break
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        os.close(master)
    return proc.returncode, output.decode().replace("\r\n", "\n")


async def test_terminal_prompts_twice_and_the_entries_must_match(cli):
    status, output = run_on_terminal(cli, ["createuser", "tty", "--email", "tty@example.com"],
                                     [PASSWORD, PASSWORD])
    assert status == 0, output
    assert output == "Password: \nPassword (again): \ncreated user tty\n", output
    assert PASSWORD not in output                      # not echoed
    status, output = run_on_terminal(cli, ["changepassword", "tty"],
                                     [NEW_PASSWORD, NEW_PASSWORD + "x"])
    assert status == 1, output
    assert output.endswith("error: the two passwords do not match; nothing changed\n"), output
    tty = await cli.user("tty")
    assert tty["version"] == 1                         # unchanged


# -- identities --------------------------------------------------------------------------------

async def test_createuser_refuses_look_alikes_and_mixed_scripts_in_one_line(cli):
    create(cli, "alice")
    before = await cli.state()
    assert cli.fails("createuser", "ALICE", "--email", "new@example.com", "--password-stdin",
                     input=PASSWORD + "\n") == (
        "error: the username 'ALICE' is taken: it reads as 'alice' (case and look-alike "
        "letters do not count)")
    assert cli.fails("createuser", "ａｌｉｃｅ", "--email", "new@example.com",
                     "--password-stdin", input=PASSWORD + "\n").startswith(
        "error: the username 'ａｌｉｃｅ' is taken: it reads as 'alice'")
    assert cli.fails("createuser", "carol", "--email", "ALICE@example.com", "--password-stdin",
                     input=PASSWORD + "\n") == (
        "error: the email 'ALICE@example.com' is taken: it reads as 'alice@example.com' "
        "(case and look-alike letters do not count)")
    assert cli.fails("createuser", "аdmin", "--email", "new@example.com", "--password-stdin",
                     input=PASSWORD + "\n") == (
        "error: username: Enter a username in one alphabet: this one mixes Cyrillic and "
        "Latin letters, which can pass for another name.")
    await assert_unchanged(cli, before)
    stored = (await cli.state())["users"][0]
    assert (stored["username_key"], stored["email_key"]) == ("alice", "alice@example.com")
