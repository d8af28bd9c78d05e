"""The escalation rules for scoped, field and expiring grants (docs/permissions.md, "No
escalation"): through the JSON API on a role (the form and the API share
``AccountsAdmin.check_granted_permissions``), a non-superuser editor

* cannot grant an unscoped action holding only a scoped one (nor widen a scope);
* cannot grant a scope the model's admin does not declare (nobody can);
* cannot unhide a field they cannot see: grant ``read`` without the hiding, remove the
  hiding from a role, or grant ``write`` on a field they may not write;
* cannot grant an action for longer than they hold it.
"""
import datetime
import itertools

import pytest
import pytest_asyncio

from core.auth.tokens import TokenStore
from support.api import Client

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROLES = ["read", "write"]
NUMBERS = itertools.count(1)
SOON = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)) \
    .strftime("%Y-%m-%dT%H:%MZ")
SOONER = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)) \
    .strftime("%Y-%m-%dT%H:%MZ")
LATER = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=9)) \
    .strftime("%Y-%m-%dT%H:%MZ")

EDITOR = {"accounts.role": ROLES,
          "blog.article": ["read", "write:own", "-read:body"],
          "blog.category": [f"write@{SOON}", "read"]}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def editor(site):
    user = await site.create_user("scoped-editor", EDITOR)
    raw, _ = await TokenStore(site.db).create(user.id, name="test")
    return Client(site, token=raw)


async def role_with(site, permissions, name):
    Role = site.model("accounts.role")
    return await Role.create(name=name, permissions=permissions, db=site.db)


async def stored(site, role):
    Role = site.model("accounts.role")
    return (await Role.get(role.id, db=site.db)).permissions


@pytest.mark.parametrize("grant, allowed", [
    (["write:own", "-write:body"], True),    # what the editor holds
    (["write:own"], False),                  # would write body, which the editor cannot
    (["write", "-write:body"], False),       # unscoped, holding only the scoped one
    (["read", "-read:body"], True),          # read with the field the editor cannot see
    (["read"], False),                       # unhides body
    (["delete:own"], False),                 # not held at all
])
async def test_granting_on_articles(site, editor, grant, allowed):
    role = await role_with(site, {}, f"r-{next(NUMBERS)}")
    reply = await editor.patch(f"/api/accounts/role/{role.id}",
                               {"permissions": {"blog.article": grant}})
    assert reply.code == (200 if allowed else 422), reply
    assert await stored(site, role) == ({"blog.article": sorted(grant)} if allowed else {})


async def test_an_unknown_scope_is_refused_for_everyone(site, editor):
    role = await role_with(site, {}, "r-unknown-scope")
    reply = await editor.patch(f"/api/accounts/role/{role.id}",
                               {"permissions": {"blog.article": ["write:team"]}})
    assert reply.code == 422 and "has no scope 'team'" in reply.json["fields"]["permissions"]
    assert await stored(site, role) == {}


async def test_removing_a_hiding_is_unhiding(site, editor):
    role = await role_with(site, {"blog.article": ["-read:body", "read"]}, "r-hidden-body")
    reply = await editor.patch(f"/api/accounts/role/{role.id}",
                               {"permissions": {"blog.article": ["read"]}})
    assert reply.code == 422, reply
    assert await stored(site, role) == {"blog.article": ["-read:body", "read"]}


@pytest.mark.parametrize("grant, allowed", [
    ([f"write@{SOONER}"], True),             # within the editor's own expiry
    ([f"write@{SOON}"], True),               # the same instant
    ([f"write@{LATER}"], False),             # beyond it
    (["write"], False),                      # for ever
])
async def test_an_expiry_cannot_outlast_the_editors(site, editor, grant, allowed):
    role = await role_with(site, {}, f"r-{next(NUMBERS)}")
    reply = await editor.patch(f"/api/accounts/role/{role.id}",
                               {"permissions": {"blog.category": grant}})
    assert reply.code == (200 if allowed else 422), reply
    assert await stored(site, role) == ({"blog.category": grant} if allowed else {})
