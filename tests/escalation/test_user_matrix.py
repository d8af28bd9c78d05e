"""The escalation matrix on users: editor profiles × targets × operations × channels.

Every cell is generated from the tables in ``escalation_kit`` and asserted against the one
rule function ``expected``: an allowed cell answers 2xx/303 and the stored target changed
as asked; a denied cell answers no 5xx (a 4xx, a form page with an error, or a 303 that
changed nothing) and the stored target — is_active, username, email, password hash,
permissions, roles, existence, token count — is exactly as before; a "kept" cell is
accepted but the grants and roles the editor does not hold stay as stored.
"""
import re

import pytest

from escalation_kit import (ALLOWED, CHANGED, DENIAL_RESPONSES, DENIED, KEPT, NEW_PASSWORD,
                            OWN_PASSWORD, cells, change_for, concrete, denial_kind, describe,
                            expected, expected_state, flashes_after, form_error_shown,
                            get_user, judge, perform, snapshot, target_spec)

pytestmark = pytest.mark.asyncio(loop_scope="module")

CELLS = cells()


def cell_id(cell):
    return "-".join(cell)


def success_codes(channel, op):
    if channel in ("form", "bulk"):
        return {303}
    return {204} if op == "delete" else {200}


@pytest.mark.parametrize("profile,kind,op,channel", CELLS, ids=[cell_id(c) for c in CELLS])
async def test_cell(site, matrix, profile, kind, op, channel):
    editor = await matrix.editor(profile, fresh=kind == "self")
    user = editor.user if kind == "self" else await matrix.target(profile, kind, op)
    user = await get_user(site, user.id)
    spec = target_spec(profile, kind)
    change = concrete(change_for(profile, spec, op), user)
    verdict = expected(profile, kind, op)
    before = await snapshot(site, user.id)
    response = await perform(site, editor, user, op, channel, change)
    after = await snapshot(site, user.id)
    want = expected_state(profile, spec, op, verdict, before, change)
    seen = describe(response)

    assert response.code < 500, seen
    if verdict == ALLOWED or verdict == KEPT:
        assert response.code in success_codes(channel, op), (verdict, seen)
    elif verdict == OWN_PASSWORD:
        assert response.code == 303 and \
            (response.location or "").startswith("/admin/password_change/"), seen
    else:
        assert verdict == DENIED
        verdict_reason = judge(profile, kind, op)[1]
        allowed_answers = DENIAL_RESPONSES[verdict_reason, denial_kind(op, channel)]
        if response.code == 200 and channel == "form":
            answer = "error" if form_error_shown(response.text) else 200
        elif response.code == 303 and channel == "bulk":
            page = await flashes_after(editor.browser, response)
            answer = "skipped" if re.search(r"Skipped 1\b", page) else 303
        else:
            answer = response.code
        assert answer in allowed_answers, (verdict_reason, answer, seen)
        if 400 <= response.code < 500:           # a refusal writes nothing at all
            assert (await get_user(site, user.id)).version == user.version, seen
        if response.code == 403 and kind != "self":    # 403 messages name no object
            assert user.username not in response.text, seen
    if channel == "bulk" and verdict == ALLOWED:
        page = await flashes_after(editor.browser, response)
        assert not re.search(r"Skipped \d", page), ("bulk report", page[:2000])

    if want.get("password") is CHANGED:
        assert after["password"] != before["password"], seen
        assert await (await get_user(site, user.id)).check_password(NEW_PASSWORD)
        after = dict(after, password=CHANGED)
    assert after == want, (verdict, seen)

    if channel.startswith("api") and response.code == 200:
        body = response.json()                # the response shows what is stored
        for name in ("username", "email", "is_active", "is_superuser", "permissions",
                     "roles"):
            assert body.get(name) == after[name], (name, body.get(name), after[name])


@pytest.mark.parametrize("profile", ["user_write", "superuser"])
@pytest.mark.parametrize("channel", ["api_session", "api_token"])
async def test_the_api_sets_no_password(site, matrix, profile, channel):
    """No channel but the set-password pages sets a password: the API refuses the field."""
    editor = await matrix.editor(profile)
    user = await get_user(site, (await matrix.target(profile, "weaker")).id)
    before = await snapshot(site, user.id)
    response = await perform(site, editor, user, "edit", channel, {"password": NEW_PASSWORD})
    assert 400 <= response.code < 500, describe(response)
    assert await snapshot(site, user.id) == before


BULK_MIXES = [
    ("user_write", "deactivate_selected",
     ["weaker", "equal", "stronger_direct", "stronger_role", "superuser", "self"]),
    ("user_write_articles", "activate_selected", ["inactive_weaker", "inactive_stronger"]),
    ("user_delete", "delete_selected",
     ["weaker", "equal", "stronger_direct", "stronger_role", "inactive_stronger",
      "superuser", "self"]),
]


@pytest.mark.parametrize("profile,action,kinds", BULK_MIXES, ids=[m[1] for m in BULK_MIXES])
async def test_a_mixed_bulk_selection_does_each_allowed_one_and_skips_the_rest(
        site, matrix, profile, action, kinds):
    """One bulk request over targets of every kind: each is judged on its own."""
    op = {"deactivate_selected": "deactivate", "activate_selected": "activate",
          "delete_selected": "delete"}[action]
    editor = await matrix.editor(profile, fresh=True)
    users = {kind: (editor.user if kind == "self" else await matrix.target(profile, kind, op))
             for kind in kinds}
    before = {kind: await snapshot(site, user.id) for kind, user in users.items()}
    form = [("action", action), ("post", "yes")] + [
        ("_selected_action", str(user.id)) for user in users.values()]
    response = await editor.browser.post("/admin/accounts/user/", form)
    assert response.code == 303, describe(response)
    page = await flashes_after(editor.browser, response)
    refused = [kind for kind in kinds if expected(profile, kind, op) != ALLOWED]
    assert re.search(rf"Skipped {len(refused)}\b", page), page[:3000]
    for kind, user in users.items():
        verdict = expected(profile, kind, op)
        want = expected_state(profile, target_spec(profile, kind), op, verdict, before[kind],
                              change_for(profile, target_spec(profile, kind), op))
        assert await snapshot(site, user.id) == want, (kind, verdict)
