"""The escalation matrix on roles: editing a role's grants through the form and the API.

A role-write editor (``accounts.role: read, write``, ``accounts.user: read``) may add a
grant they hold and remove one they hold; adding one they lack is refused (form: field
error, 200; API: 422) and nothing changes; one they lack is kept as stored whatever the
form or body says. A superuser may do all of it; a user-write editor (no role grants)
none of it.
"""
import itertools

import pytest

from escalation_kit import (ALLOWED, API_ROLES, DENIED, KEPT, PROFILES, ROLES_PATH, Spec,
                            api, describe, flashes_after, form_error_shown, from_pairs, holds,
                            minus, pairs, plus, reference, role_form, tokens)

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROLE_PROFILES = ("role_write", "superuser", "user_write")
START = {"accounts.user": ["read"], "blog.article": ["delete"]}    # blog.article:delete unheld
OPS = ("add_held", "add_unheld", "remove_held", "remove_unheld", "strip")
CHANNELS = ("form", "api_session", "api_token")
_names = itertools.count(1)


def wanted(profile, op):
    """The permissions the request asks the role to have."""
    if op == "add_held":
        return plus(START, next(p for p in pairs(reference(profile)) if p not in pairs(START)))
    if op == "add_unheld":
        return plus(START, ("blog.article", "publish"))
    if op == "remove_held":
        return minus(START, ("accounts.user", "read"))
    if op == "remove_unheld":
        return minus(START, ("blog.article", "delete"))
    return {}


def expected_role(profile, op):
    """``(verdict, stored permissions afterwards)`` by the rules."""
    grants = PROFILES[profile]
    if grants is None:
        return ALLOWED, wanted(profile, op)
    if not holds(grants, {"accounts.role": ["read", "write"]}):
        return DENIED, START
    if op == "add_unheld":
        return DENIED, START
    if op == "remove_unheld":
        return KEPT, START
    if op == "strip":      # only what the editor holds goes
        return ALLOWED, from_pairs(p for p in pairs(START) if p not in pairs(grants))
    return ALLOWED, wanted(profile, op)


CELLS = list(itertools.product(ROLE_PROFILES, OPS, CHANNELS))


@pytest.mark.parametrize("profile,op,channel", CELLS, ids=["-".join(c) for c in CELLS])
async def test_role_cell(site, matrix, profile, op, channel):
    Role = site.model("accounts.role")
    role = await Role.create(name=f"r{next(_names)}", description="matrix", permissions=START,
                             db=site.db)
    editor = await matrix.editor(profile)
    asked = wanted(profile, op)
    verdict, stored = expected_role(profile, op)

    if channel == "form":
        response = await editor.browser.post(f"{ROLES_PATH}{role.id}/change/",
                                             role_form(role, asked))
    elif channel == "api_session":
        response = await api(editor, "PATCH", f"{API_ROLES}{role.id}", {"permissions": asked})
    else:
        shown = await api(editor, "GET", f"{API_ROLES}{role.id}", token=True)
        body = shown.json() if shown.code == 200 else {
            "name": role.name, "description": role.description, "version": role.version}
        body["permissions"] = asked
        response = await api(editor, "PUT", f"{API_ROLES}{role.id}", body, token=True)
    seen = describe(response)
    after = await Role.get(role.id, db=site.db)

    assert response.code < 500, seen
    if verdict in (ALLOWED, KEPT):
        assert response.code == (303 if channel == "form" else 200), (verdict, seen)
    elif channel == "form" and response.code == 200:
        assert form_error_shown(response.text), seen
    else:
        assert 400 <= response.code < 500, seen
        assert after.version == role.version, seen
    assert after.permissions == stored, (verdict, seen)
    assert (after.name, after.description) == (role.name, role.description)
    if channel != "form" and response.code == 200:
        assert response.json()["permissions"] == after.permissions     # what is stored


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_role_you_hold_cannot_widen_you(site, matrix, channel):
    """Escalation through your own role: the role-write editor holds ``own``; adding a
    grant they lack to it is refused like on any role, and they still lack it after."""
    Role = site.model("accounts.role")
    name = f"own{next(_names)}"
    role = await Role.create(name=name, permissions={"accounts.user": ["read"]}, db=site.db)
    editor = await matrix.editor("role_write", fresh=True)
    editor.user.roles = list(editor.user.roles) + [name]
    await editor.user.save(db=site.db)
    asked = {"accounts.user": ["read"], "blog.article": ["delete", "read"]}
    if channel == "form":
        response = await editor.browser.post(f"{ROLES_PATH}{role.id}/change/",
                                             role_form(role, asked))
        assert response.code == 200 and form_error_shown(response.text), describe(response)
    else:
        response = await api(editor, "PATCH", f"{API_ROLES}{role.id}", {"permissions": asked},
                             token=channel == "api_token")
        assert response.code == 422, describe(response)
    after = await Role.get(role.id, db=site.db)
    assert after.permissions == {"accounts.user": ["read"]} and after.version == role.version
    articles = await api(editor, "GET", "/api/blog/article/", token=channel == "api_token")
    assert articles.code == 403, describe(articles)


ROLE_DELETER = {"accounts.role": ["delete", "read"], "accounts.user": ["read"]}
DELETE_CELLS = list(itertools.product(("held", "unheld"),
                                      ("form", "bulk", "api_session", "api_token")))


@pytest.mark.parametrize("grants,channel", DELETE_CELLS, ids=["-".join(c) for c in DELETE_CELLS])
async def test_role_delete_cell(site, matrix, grants, channel):
    """A non-superuser deletes a role only when they hold all it grants (its holders would
    lose the rest): else 403 on the page and the API, skipped by the bulk action."""
    Role = site.model("accounts.role")
    perms = {"accounts.user": ["read"]} if grants == "held" else START
    role = await Role.create(name=f"d{next(_names)}", permissions=perms, db=site.db)
    holder = await matrix.make_user("holder", Spec({}, (role.name,)))
    name = f"deleter{next(_names)}"
    await site.create_user(name, ROLE_DELETER)
    browser = site.browser()
    assert (await browser.login(name)).code == 303
    if channel == "form":
        response = await browser.post(f"{ROLES_PATH}{role.id}/delete/", {})
    elif channel == "bulk":
        response = await browser.post(ROLES_PATH, [("action", "delete_selected"), (
            "_selected_action", str(role.id)), ("post", "yes")])
    else:
        user = await site.model("accounts.user").get_by_username(name, db=site.db)
        raw, _doc = await tokens(site).create(user.id, name="deleter")
        headers = ({"Authorization": f"Bearer {raw}"} if channel == "api_token" else
                   {"X-XSRFToken": await browser.xsrf()})
        client = site.browser() if channel == "api_token" else browser
        response = await client.fetch(f"{API_ROLES}{role.id}", method="DELETE",
                                      headers=dict(headers, Accept="application/json"))
    seen = describe(response)
    assert response.code < 500, seen
    gone = await Role.get(role.id, db=site.db) is None
    holder = await site.model("accounts.user").get(holder.id, db=site.db)
    if grants == "held":
        assert response.code == (204 if channel.startswith("api") else 303), seen
        assert gone and role.name not in holder.roles, seen
    else:
        if channel == "bulk":
            assert response.code == 303, seen
            assert "Skipped 1" in await flashes_after(browser, response)
        else:
            assert response.code == 403, seen
        assert not gone and role.name in holder.roles, seen
