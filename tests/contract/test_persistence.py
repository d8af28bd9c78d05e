"""The embedded store keeps data and indexes across close, reconnect and a new process.

These tests open and close their own connections (no ``db`` fixture holds the file open).
"""
import asyncio
import datetime
import json
import os
import sys
import textwrap
from pathlib import Path

import pytest
from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from core.db import connect

UTC = datetime.timezone.utc
REPO_ROOT = Path(__file__).resolve().parents[2]

READER = textwrap.dedent("""
    import asyncio, json, sys
    from core.db import connect

    async def main(url):
        db = connect(url)
        try:
            users = db["users"]
            print(json.dumps({
                "count": await users.count_documents({}),
                "names": sorted(d["name"] for d in await users.find().to_list(None)),
                "indexes": sorted(await users.index_information()),
            }))
        finally:
            await db.close()

    asyncio.run(main(sys.argv[1]))
""")


async def read_in_another_process(url):
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", READER, url, cwd=REPO_ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(child.communicate(), timeout=60)
    assert child.returncode == 0, err.decode()
    return json.loads(out)


@pytest.mark.contract_backend("embedded")
async def test_data_and_indexes_survive_a_reconnect(embedded_url):
    oid = ObjectId()
    when = datetime.datetime(2024, 2, 29, 12, 0, 0, 250000, tzinfo=UTC)
    db = connect(embedded_url)
    try:
        users = db["users"]
        await users.create_index("email", unique=True)
        await users.create_index([("org", 1), ("slug", 1)], unique=True)
        await users.create_index("name")
        await users.insert_many([
            {"_id": oid, "email": "ann@x.org", "org": "a", "slug": "ann", "name": "Ann",
             "joined": when, "tags": ["x"], "n": 1.5},
            {"_id": 2, "email": "bob@x.org", "org": "a", "slug": "bob", "name": "Bob"},
        ])
        await db["audit"].insert_one({"_id": 1, "what": "created"})
    finally:
        await db.close()

    again = connect(embedded_url)
    try:
        users = again["users"]
        assert await users.find_one({"_id": oid}) == {
            "_id": oid, "email": "ann@x.org", "org": "a", "slug": "ann", "name": "Ann",
            "joined": when, "tags": ["x"], "n": 1.5}
        assert await users.count_documents({}) == 2
        assert await again["audit"].find_one({}) == {"_id": 1, "what": "created"}
        assert {"users", "audit"} <= set(await again.list_collection_names())
        info = await users.index_information()
        assert set(info) == {"_id_", "email_1", "org_1_slug_1", "name_1"}
        assert info["email_1"]["unique"] is True
        assert info["org_1_slug_1"]["key"] == [("org", 1), ("slug", 1)]
        assert info["org_1_slug_1"]["unique"] is True
        assert not info["name_1"].get("unique", False)
        with pytest.raises(DuplicateKeyError):
            await users.insert_one({"email": "ann@x.org"})
        with pytest.raises(DuplicateKeyError):
            await users.insert_one({"org": "a", "slug": "bob", "email": "new@x.org"})
        with pytest.raises(DuplicateKeyError):
            await users.insert_one({"_id": 2})
        await users.update_one({"_id": 2}, {"$set": {"name": "Robert"}})
    finally:
        await again.close()

    assert await read_in_another_process(embedded_url) == {
        "count": 2, "names": ["Ann", "Robert"],
        "indexes": ["_id_", "email_1", "name_1", "org_1_slug_1"]}


@pytest.mark.contract_backend("embedded")
async def test_deletes_and_drops_persist(embedded_url):
    db = connect(embedded_url)
    try:
        await db["a"].insert_many([{"_id": i} for i in range(5)])
        await db["b"].insert_one({"_id": 1})
        await db["a"].delete_many({"_id": {"$gte": 3}})
        await db.drop_collection("b")
    finally:
        await db.close()

    again = connect(embedded_url)
    try:
        remaining = await again["a"].find().sort("_id", 1).to_list(None)
        assert [d["_id"] for d in remaining] == [0, 1, 2]
        assert "b" not in await again.list_collection_names()
        assert await again["b"].count_documents({}) == 0
    finally:
        await again.close()


@pytest.mark.parametrize("db", ["memory"], indirect=True)
async def test_memory_databases_are_private(db):
    await db["things"].insert_one({"_id": 1})
    other = connect("memory:")
    try:
        assert await other["things"].count_documents({}) == 0
        await other["things"].insert_one({"_id": 2})
    finally:
        await other.close()
    assert [d["_id"] for d in await db["things"].find().to_list(None)] == [1]
