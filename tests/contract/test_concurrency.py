"""Concurrent writers: no lost updates, atomic claims, unique indexes under races,
and (embedded) several connections and processes on one file."""
import asyncio
import os
import sys
import textwrap
from pathlib import Path

import pytest
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from core.db import connect

REPO_ROOT = Path(__file__).resolve().parents[2]
FERRETDB_RACE = ("an update is a read-modify-write without isolation, so concurrent "
                 "updates of one document are lost")


async def test_concurrent_inc_loses_no_update(coll, ferretdb_deviates):
    ferretdb_deviates(FERRETDB_RACE, strict=False)
    await coll.insert_one({"_id": "counter", "n": 0})
    results = await asyncio.gather(*[
        coll.update_one({"_id": "counter"}, {"$inc": {"n": 1}}) for _ in range(50)])
    assert all(r.modified_count == 1 for r in results)
    assert (await coll.find_one({"_id": "counter"}))["n"] == 50


async def test_concurrent_inc_on_a_missing_document_with_upsert(coll, ferretdb_deviates):
    ferretdb_deviates(FERRETDB_RACE, strict=False)
    await coll.create_index("key", unique=True)
    await coll.update_one({"key": "k"}, {"$inc": {"n": 1}}, upsert=True)
    await asyncio.gather(*[
        coll.update_one({"key": "k"}, {"$inc": {"n": 1}}, upsert=True) for _ in range(30)])
    assert await coll.find({}, {"_id": 0}).to_list(None) == [{"key": "k", "n": 31}]


async def test_concurrent_update_many_loses_no_update(coll, ferretdb_deviates):
    ferretdb_deviates(FERRETDB_RACE, strict=False)
    await coll.insert_many([{"_id": i, "n": 0} for i in range(5)])
    await asyncio.gather(*[coll.update_many({}, {"$inc": {"n": 1}}) for _ in range(20)])
    assert [d["n"] for d in await coll.find().sort("_id", 1).to_list(None)] == [20] * 5


async def test_concurrent_inserts_all_land(coll):
    results = await asyncio.gather(*[coll.insert_one({"i": i}) for i in range(50)])
    assert len({r.inserted_id for r in results}) == 50
    assert sorted(d["i"] for d in await coll.find().to_list(None)) == list(range(50))


async def test_concurrent_claims_hand_out_each_job_once(coll, ferretdb_deviates):
    ferretdb_deviates("findAndModify is not atomic: concurrent calls claim the same document",
                      strict=False)
    await coll.insert_many([{"_id": i, "state": "queued"} for i in range(20)])

    async def claim(worker):
        return await coll.find_one_and_update(
            {"state": "queued"}, {"$set": {"state": "taken", "worker": worker}},
            sort=[("_id", 1)], return_document=ReturnDocument.AFTER)

    claimed = await asyncio.gather(*[claim(w) for w in range(30)])
    jobs = [doc["_id"] for doc in claimed if doc is not None]
    assert sorted(jobs) == list(range(20))
    assert claimed.count(None) == 10
    for doc in await coll.find().to_list(None):
        assert doc["state"] == "taken"
        assert [c["worker"] for c in claimed if c and c["_id"] == doc["_id"]] == [doc["worker"]]


async def test_concurrent_inserts_of_one_unique_value_let_exactly_one_win(coll):
    await coll.create_index("email", unique=True)
    results = await asyncio.gather(
        *[coll.insert_one({"email": "race@x.org", "n": n}) for n in range(20)],
        return_exceptions=True)
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1
    assert len(losers) == 19 and all(type(e) is DuplicateKeyError for e in losers)
    assert await coll.count_documents({"email": "race@x.org"}) == 1


# -- embedded: one file, several connections and processes ---------------------------

@pytest.mark.parametrize("db", ["embedded"], indirect=True)
async def test_two_connections_to_one_file_see_each_others_writes(db, embedded_url):
    other = connect(embedded_url)
    try:
        await db["things"].insert_one({"_id": 1, "by": "first"})
        assert await other["things"].find_one({"_id": 1}) == {"_id": 1, "by": "first"}
        await other["things"].update_one({"_id": 1}, {"$set": {"by": "second"}})
        await other["things"].insert_one({"_id": 2})
        assert await db["things"].find_one({"_id": 1}) == {"_id": 1, "by": "second"}
        assert await db["things"].count_documents({}) == 2
        await other["things"].delete_one({"_id": 2})
        assert await db["things"].count_documents({}) == 1
        # an index made through one connection binds the other
        await db["users"].create_index("email", unique=True)
        await db["users"].insert_one({"_id": 1, "email": "a@x.org"})
        with pytest.raises(DuplicateKeyError):
            await other["users"].insert_one({"_id": 2, "email": "a@x.org"})
        assert "email_1" in await other["users"].index_information()
        assert await db["users"].count_documents({}) == 1
    finally:
        await other.close()


@pytest.mark.parametrize("db", ["embedded"], indirect=True)
async def test_two_connections_increment_concurrently(db, embedded_url):
    other = connect(embedded_url)
    try:
        await db["things"].insert_one({"_id": "c", "n": 0})
        await asyncio.gather(*[
            conn["things"].update_one({"_id": "c"}, {"$inc": {"n": 1}})
            for _ in range(25) for conn in (db, other)])
        assert (await other["things"].find_one({"_id": "c"}))["n"] == 50
        assert (await db["things"].find_one({"_id": "c"}))["n"] == 50
    finally:
        await other.close()


CHILD = textwrap.dedent("""
    import asyncio, sys
    from core.db import connect

    async def main(url):
        db = connect(url)
        try:
            for _ in range(40):
                await db["things"].update_one({"_id": "c"}, {"$inc": {"n": 1}})
                await db["things"].insert_one({"by": "child"})
        finally:
            await db.close()

    asyncio.run(main(sys.argv[1]))
""")


@pytest.mark.parametrize("db", ["embedded"], indirect=True)
async def test_another_process_writes_to_the_same_file(db, embedded_url):
    coll = db["things"]
    await coll.insert_one({"_id": "c", "n": 0})
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, embedded_url, cwd=REPO_ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    for _ in range(40):
        await coll.update_one({"_id": "c"}, {"$inc": {"n": 1}})
        await coll.insert_one({"by": "parent"})
    out, err = await asyncio.wait_for(child.communicate(), timeout=60)
    assert child.returncode == 0, err.decode()
    assert (await coll.find_one({"_id": "c"}))["n"] == 80
    assert await coll.count_documents({"by": "child"}) == 40
    assert await coll.count_documents({"by": "parent"}) == 40
