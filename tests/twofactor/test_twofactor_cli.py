"""``manage.py reset2fa`` and the factors in ``manage.py users`` (subprocess, embedded DB)."""
import json

import pytest

from core.auth.twofactor import FactorStore
from core.db import connect
from support import PASSWORD
from support.cli import Cli, REPO  # noqa: F401


@pytest.fixture
def cli(tmp_path):
    return Cli.on_embedded(tmp_path, "settings.test", REPO)


def create(cli, username):
    cli.ok("createuser", username, "--email", f"{username}@example.com", "--password-stdin",
           input=PASSWORD + "\n")


async def open_db(cli):
    return connect(cli.db_url)


async def enrol(cli, username):
    """TOTP on (confirmed) and ten recovery codes for ``username``, written to the database
    the command reads, plus one session."""
    db = await open_db(cli)
    try:
        user = await db["accounts_user"].find_one({"username": username})
        store = FactorStore(db, "pepper-for-the-test")
        await store.start_totp(user["_id"])
        await db["auth_factors"].update_many({"user_id": user["_id"]},
                                             {"$set": {"confirmed": True}})
        await store.new_recovery_codes(user["_id"])
        await db["sessions"].insert_one({"_id": f"s-{username}", "user_id": user["_id"],
                                         "data": {}})
        return user["_id"]
    finally:
        await db.close()


async def test_users_json_shows_each_users_factors(cli):
    create(cli, "alice")
    create(cli, "bob")
    await enrol(cli, "alice")
    listed = {u["username"]: u for u in json.loads(cli.ok("users", "--json").stdout)}
    assert listed["alice"]["factors"] == ["totp"]
    assert listed["alice"]["recovery_codes_left"] == 10
    assert listed["bob"]["factors"] == [] and listed["bob"]["recovery_codes_left"] == 0
    assert "secret" not in json.dumps(listed) and "code_hash" not in json.dumps(listed)
    text = cli.ok("users").stdout
    assert "2fa: totp" in next(line for line in text.splitlines() if "alice" in line)


async def test_reset2fa_removes_every_factor_ends_sessions_and_is_audited(cli):
    create(cli, "alice")
    user_id = await enrol(cli, "alice")
    result = cli.ok("reset2fa", "alice")
    assert "removed totp and 10 recovery codes; ended 1 session" in result.stdout
    db = await open_db(cli)
    try:
        assert await db["auth_factors"].count_documents({"user_id": user_id}) == 0
        assert await db["sessions"].count_documents({"user_id": user_id}) == 0
        entries = await db["audit_log"].find({"action": "twofactor_reset"}).to_list(None)
        assert len(entries) == 1 and entries[0]["actor"] == "manage.py"
        assert "totp" in entries[0]["detail"]
    finally:
        await db.close()
    assert json.loads(cli.ok("users", "--json").stdout)[0]["factors"] == []


def test_reset2fa_unknown_user_is_one_error_line_and_help_works(cli):
    result = cli("reset2fa", "nobody")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: unknown user 'nobody'"
    assert cli("reset2fa").returncode == 2
    assert "second factor" in cli.ok("reset2fa", "--help").stdout
    assert "reset2fa" in cli.ok("help").stdout
