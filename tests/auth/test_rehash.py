"""bcrypt costs at login: rehash to BCRYPT_ROUNDS, and every check costs BCRYPT_ROUNDS.

No timing: a spy on ``bcrypt.checkpw`` (the real function still runs) records the
cost of every hash checked; the work of a check is 2 ** cost.
"""
import bcrypt
import pytest

from auth_kit import make_settings
from support import PASSWORD
from core.auth import passwords
from core.auth.passwords import dummy_verify, hash_password, hash_rounds, verify_password

WRONG = "definitely-not-the-password"


@pytest.fixture
def checked_costs(monkeypatch):
    costs = []
    real = bcrypt.checkpw

    def spy(password, hashed):
        costs.append(hash_rounds(hashed))
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    return costs


def work(costs):
    return sum(2 ** cost for cost in costs)


async def stored_hash(site, username):
    return (await site.db["accounts_user"].find_one({"username": username}))["password"]


async def test_a_login_rehashes_a_hash_of_another_cost_to_the_configured_one(server, tmp_path):
    site = await server(make_settings(tmp_path, BCRYPT_ROUNDS=5))
    user = await site.create_user("alice")
    old = await hash_password(PASSWORD, rounds=4)
    await site.db["accounts_user"].update_one({"_id": user.id}, {"$set": {"password": old}})
    assert (await site.browser().login("alice", WRONG)).code == 200
    assert await stored_hash(site, "alice") == old                # a wrong password: untouched
    assert (await site.browser().login("alice")).code == 303
    new = await stored_hash(site, "alice")
    assert hash_rounds(new) == 5 and await verify_password(PASSWORD, new)
    stored = await site.db["accounts_user"].find_one({"username": "alice"})
    assert stored["version"] == user.version                     # same password: no new version
    assert (await site.browser().login("alice")).code == 303      # and it still logs in
    assert await stored_hash(site, "alice") == new                # no rehash when it fits


async def test_a_higher_stored_cost_is_rehashed_down_too(server, tmp_path):
    site = await server(make_settings(tmp_path, BCRYPT_ROUNDS=4))
    user = await site.create_user("alice")
    await site.db["accounts_user"].update_one(
        {"_id": user.id}, {"$set": {"password": await hash_password(PASSWORD, rounds=6)}})
    assert (await site.browser().login("alice")).code == 303
    assert hash_rounds(await stored_hash(site, "alice")) == 4


async def test_unknown_users_and_old_hashes_cost_the_configured_rounds(
        server, tmp_path, checked_costs):
    site = await server(make_settings(tmp_path, BCRYPT_ROUNDS=6))
    user = await site.create_user("alice")
    await site.db["accounts_user"].update_one(
        {"_id": user.id}, {"$set": {"password": await hash_password(PASSWORD, rounds=4)}})
    await site.create_user("nopass", password=None)
    for username in ("nobody", "alice", "nopass"):
        checked_costs.clear()
        assert (await site.browser().login(username, WRONG)).code == 200
        assert work(checked_costs) == 2 ** 6, (username, checked_costs)
    assert hash_rounds(await stored_hash(site, "alice")) == 4     # wrong passwords: no rehash


async def test_the_dummy_hash_follows_the_rounds_asked_whatever_came_before(checked_costs):
    for rounds in (5, 4, 6, 4):
        checked_costs.clear()
        assert await dummy_verify(rounds) is False
        assert checked_costs == [rounds]
    checked_costs.clear()
    await dummy_verify()                                  # settings.test: BCRYPT_ROUNDS = 4
    assert checked_costs == [4]


async def test_verify_pads_a_cheaper_hash_to_the_configured_cost(checked_costs):
    hashed = await hash_password(PASSWORD, rounds=4)
    assert await verify_password(PASSWORD, hashed, rounds=7) is True
    assert checked_costs == [4, 4, 5, 6] and work(checked_costs) == 2 ** 7
    checked_costs.clear()
    assert await verify_password(WRONG, hashed, rounds=4) is False
    assert checked_costs == [4]                           # same cost: nothing added
    checked_costs.clear()
    assert await verify_password(PASSWORD, await hash_password(PASSWORD, rounds=5),
                                 rounds=4) is True
    assert checked_costs == [5]                           # a dearer hash cannot be padded down
    assert passwords.needs_rehash(await hash_password(PASSWORD, rounds=5), rounds=4)
