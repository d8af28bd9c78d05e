"""Changing a password or deactivating a user revokes their API tokens, over real HTTP.

The server (real Tornado on 127.0.0.1) and ``manage.py`` (a subprocess) share one
embedded database file, so a token made by ``createtoken`` is checked by the
live API before and after ``changepassword`` / ``deactivate``: 200, then 401.
"""
import re

import pytest

from support import make_settings, serving
from support.api import ApiSite, Client

PASSWORD = "plum-harbour-velvet"
NEW_PASSWORD = "copper-lantern-meadow"
PRODUCTS = "/api/shop/product/"


@pytest.fixture
async def shared(cli, tmp_path):
    """A served site on the ``cli`` fixture's database file."""
    settings = make_settings(tmp_path, ["apps.accounts", "acl_shop"], DATABASE_URL=cli.db_url)
    async with serving(ApiSite) as servers:
        yield await servers.serve(settings)


def create_with_token(cli, username, *extra):
    cli.ok("createuser", username, "--email", f"{username}@example.com", "--password-stdin",
           "--perm", "shop.product=read", *extra, input=PASSWORD + "\n")
    return new_token(cli, username)


def new_token(cli, username):
    out = cli.ok("createtoken", username).stdout
    return re.search(r"^(bst_\S+)$", out, re.M).group(1)


async def test_cli_changepassword_revokes_the_users_tokens_only(cli, shared):
    alice = Client(shared, token=create_with_token(cli, "alice"))
    bob = Client(shared, token=create_with_token(cli, "bob"))
    assert (await alice.get(PRODUCTS)).code == 200
    result = cli.ok("changepassword", "alice", "--password-stdin", input=NEW_PASSWORD + "\n")
    assert result.stdout == "changed the password of alice; ended 0 sessions, revoked 1 token\n"
    assert (await alice.get(PRODUCTS)).code == 401
    assert (await bob.get(PRODUCTS)).code == 200                 # another user's token lives
    assert await shared.db["api_tokens"].count_documents({}) == 1


async def test_cli_deactivate_revokes_tokens_and_activate_brings_none_back(cli, shared):
    alice = Client(shared, token=create_with_token(cli, "alice"))
    assert (await alice.get(PRODUCTS)).code == 200
    assert cli.ok("deactivate", "alice").stdout == (
        "deactivated alice; ended 0 sessions, revoked 1 token\n")
    assert (await alice.get(PRODUCTS)).code == 401
    cli.ok("activate", "alice")
    assert (await alice.get(PRODUCTS)).code == 401               # the token is gone for good
    fresh = Client(shared, token=new_token(cli, "alice"))
    assert (await fresh.get(PRODUCTS)).code == 200


async def test_cli_refuses_to_deactivate_the_last_active_superuser(cli, shared):
    cli.ok("createsuperuser", "--username", "root", "--email", "root@example.com",
           "--password-stdin", input=PASSWORD + "\n")
    root = Client(shared, token=new_token(cli, "root"))
    before = await cli.state()
    assert cli.fails("deactivate", "root") == (
        "error: root is the last active superuser; create or activate another superuser "
        "first")
    assert await cli.state() == before
    assert (await root.get(PRODUCTS)).code == 200                # nothing revoked either
    cli.ok("createsuperuser", "--username", "second", "--email", "second@example.com",
           "--password-stdin", input=PASSWORD + "\n")
    assert cli.ok("deactivate", "root").stdout == (
        "deactivated root; ended 0 sessions, revoked 1 token\n")
    assert cli.fails("deactivate", "second").startswith("error: second is the last active")


async def test_the_own_password_page_revokes_the_users_tokens(cli, shared):
    token = create_with_token(cli, "alice")
    api = Client(shared, token=token)
    assert (await api.get(PRODUCTS)).code == 200
    browser = shared.browser()
    assert (await browser.login("alice", PASSWORD)).code == 303
    # a wrong current password changes nothing, the token still works
    wrong = {"old_password": "not-the-password", "new_password1": NEW_PASSWORD,
             "new_password2": NEW_PASSWORD}
    assert (await browser.post("/admin/password_change/", wrong)).code == 200
    assert (await api.get(PRODUCTS)).code == 200
    response = await browser.post("/admin/password_change/", dict(wrong, old_password=PASSWORD))
    assert response.code == 303, response.text[:500]
    assert (await api.get(PRODUCTS)).code == 401
    assert (await browser.get("/admin/")).code == 200            # this session goes on
