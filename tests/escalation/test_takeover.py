"""The account-takeover path of issue 8, written out step by step.

On the old code a non-superuser with ``accounts.user: write`` could take over a user who
holds more than they do: deactivate the target (allowed), set its password (allowed,
because an inactive user's *effective* permissions are empty), reactivate it and log in
with all its grants. Each channel of the first step is tried on a target stronger by a
direct grant and on one stronger by a role; the first step must already be refused, and
the rest of the path stays closed too.
"""
import pytest

from escalation_kit import (NEW_PASSWORD, PASSWORD, USERS, describe, get_user, perform,
                            snapshot, tokens, user_form)

pytestmark = pytest.mark.asyncio(loop_scope="module")

EDITOR = "user_write"            # accounts.user: read, write; nothing else


async def log_in(site, username, password):
    return await site.browser().login(username, password)


@pytest.mark.parametrize("channel", ["form", "bulk", "api_session", "api_token"])
@pytest.mark.parametrize("kind", ["stronger_direct", "stronger_role"])
async def test_the_takeover_of_a_stronger_user_fails_at_the_first_step(site, matrix, kind,
                                                                       channel):
    editor = await matrix.editor(EDITOR)
    victim = await get_user(site, (await matrix.target(EDITOR, kind)).id)
    before = await snapshot(site, victim.id)

    # 1. deactivate the stronger user: refused, on every channel
    response = await perform(site, editor, victim, "deactivate", channel, {"is_active": False})
    assert response.code < 500, describe(response)
    assert await snapshot(site, victim.id) == before, \
        f"step 1 (deactivate a stronger user) was not refused: {describe(response)}"

    # 2. set its password on the admin page: refused
    response = await editor.browser.post(f"{USERS}{victim.id}/password/",
                                         {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.code == 403, describe(response)

    # 3. reactivate (through the form, as the old path did): nothing to undo, nothing changes
    victim = await get_user(site, victim.id)
    response = await editor.browser.post(f"{USERS}{victim.id}/change/",
                                         user_form(victim, is_active="y"))
    assert response.code < 500, describe(response)
    assert await snapshot(site, victim.id) == before

    # 4. log in as the victim with the password the attacker chose: refused
    response = await log_in(site, victim.username, NEW_PASSWORD)
    assert response.code != 303, describe(response)
    # ... while the account itself is intact: its own password still works
    assert (await log_in(site, victim.username, PASSWORD)).code == 303


@pytest.mark.parametrize("channel", ["form", "bulk", "api_session", "api_token"])
async def test_an_already_inactive_stronger_user_cannot_be_taken_over(site, matrix, channel):
    """The target was deactivated by an operator: its stored grants still count."""
    editor = await matrix.editor(EDITOR)
    victim = await get_user(site, (await matrix.target(EDITOR, "inactive_stronger")).id)
    before = await snapshot(site, victim.id)

    response = await editor.browser.post(f"{USERS}{victim.id}/password/",
                                         {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.code == 403, describe(response)
    response = await perform(site, editor, victim, "activate", channel, {"is_active": True})
    assert response.code < 500, describe(response)
    assert await snapshot(site, victim.id) == before, describe(response)
    assert (await log_in(site, victim.username, NEW_PASSWORD)).code != 303
    assert (await log_in(site, victim.username, PASSWORD)).code != 303     # still inactive


@pytest.mark.parametrize("channel", ["form", "bulk", "api_session", "api_token"])
async def test_deactivation_revokes_the_token_and_reactivation_brings_none_back(
        site, matrix, channel):
    editor = await matrix.editor("user_write")
    user = await get_user(site, (await matrix.target("user_write", "weaker")).id)
    raw, _doc = await tokens(site).create(user.id, name="script")
    headers = {"Authorization": f"Bearer {raw}", "Accept": "application/json"}
    assert (await site.browser().get("/api/accounts/user/", headers=headers)).code == 200

    response = await perform(site, editor, user, "deactivate", channel, {"is_active": False})
    assert response.code in (200, 303), describe(response)
    assert (await snapshot(site, user.id))["tokens"] == 0
    user = await get_user(site, user.id)
    response = await perform(site, editor, user, "activate", channel, {"is_active": True})
    assert response.code in (200, 303), describe(response)
    state = await snapshot(site, user.id)
    assert state["is_active"] and state["tokens"] == 0
    assert (await site.browser().get("/api/accounts/user/", headers=headers)).code == 401
