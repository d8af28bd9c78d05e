"""Nobody deactivates, deletes or demotes the last active superuser — not even themselves.

Each case starts with one active superuser (a fresh editor) and inactive superusers
(which do not count): every channel refuses, answers no 5xx, and nothing changes.
"""
import pytest

from escalation_kit import Spec, describe, get_user, perform, snapshot

pytestmark = pytest.mark.asyncio(loop_scope="module")

CASES = [(op, channel) for op in ("deactivate", "delete", "demote")
         for channel in ("form", "bulk", "api_session", "api_token")
         if not (op == "demote" and channel == "bulk")]
CHANGES = {"deactivate": {"is_active": False}, "delete": {"delete": True},
           "demote": {"is_superuser": False}}


@pytest.mark.parametrize("op,channel", CASES, ids=["-".join(c) for c in CASES])
async def test_the_last_active_superuser_stays(site, matrix, op, channel):
    root = await matrix.editor("superuser", fresh=True)
    User = site.model("accounts.user")
    others = await User.find({"is_superuser": True, "is_active": True,
                              "_id": {"$ne": root.user.id}}, db=site.db).to_list(None)
    for other in others:          # earlier cases' editors retire: each case starts alone
        other.is_active = False
        await other.save(db=site.db)
    if await User.count({"is_superuser": True, "is_active": False}, db=site.db) == 0:
        await matrix.make_user("retired", Spec({}, (), is_active=False, is_superuser=True))
    assert await User.count({"is_superuser": True, "is_active": True}, db=site.db) == 1
    me = await get_user(site, root.user.id)
    before = await snapshot(site, me.id)
    response = await perform(site, root, me, op, channel, CHANGES[op])
    assert response.code < 500, describe(response)
    if channel.startswith("api"):
        assert 400 <= response.code < 500, describe(response)
    elif response.code == 200:
        assert 'class="errorlist' in response.text, describe(response)
    assert await snapshot(site, me.id) == before, describe(response)
    assert (await root.browser.get("/admin/")).code == 200      # still logged in
