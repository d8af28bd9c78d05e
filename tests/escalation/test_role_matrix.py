"""The escalation matrix on roles: editing a role's grants through the form and the API.

A role-write editor (``accounts.role: read, write``, ``accounts.user: read``) may add a
grant they hold and remove one they hold; adding one they lack is refused (form: field
error, 200; API: 422) and nothing changes; one they lack is kept as stored whatever the
form or body says. A superuser may do all of it; a user-write editor (no role grants)
none of it.
"""
import itertools

import pytest

from escalation_kit import (ALLOWED, DENIED, KEPT, PROFILES, ROLES_PATH, API_ROLES, api,
                            describe, form_error_shown, from_pairs, holds, minus, pairs,
                            plus, reference, role_form)

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
