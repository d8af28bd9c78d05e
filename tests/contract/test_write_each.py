"""``Database.write_each``: several writes (insert_one, update_one, delete_one) in one call,
each as its collection method would do it; a failure stops the rest."""
import pytest
from bson import ObjectId
from pymongo.errors import DuplicateKeyError
from pymongo.results import DeleteResult, InsertOneResult, UpdateResult

from core.db import UnsupportedOperation


async def test_writes_run_in_order_with_the_methods_results(db):
    await db["users"].insert_one({"_id": 1, "name": "ann", "logins": 0})
    await db["sessions"].insert_one({"_id": "old", "user": 1})
    session = {"user": 1}
    counted = {name: db[name].writes for name in ("users", "sessions", "log")}
    results = await db.write_each([
        ("sessions", "delete_one", {"_id": "old"}),
        ("sessions", "insert_one", session),
        ("users", "update_one", {"_id": 1}, {"$set": {"name": "Ann"}, "$inc": {"logins": 1}}),
        ("log", "insert_one", {"_id": "e1", "what": "login"}),
        ("users", "update_one", {"_id": 99}, {"$set": {"name": "nobody"}}),
    ])
    assert [type(result) for result in results] == [
        DeleteResult, InsertOneResult, UpdateResult, InsertOneResult, UpdateResult]
    assert results[0].deleted_count == 1
    assert isinstance(session["_id"], ObjectId) and results[1].inserted_id == session["_id"]
    assert (results[2].matched_count, results[2].modified_count) == (1, 1)
    assert results[3].inserted_id == "e1"
    assert (results[4].matched_count, results[4].modified_count) == (0, 0)
    assert await db["sessions"].find({}).to_list(None) == [session]
    assert await db["users"].find_one({"_id": 1}) == {"_id": 1, "name": "Ann", "logins": 1}
    assert await db["log"].find_one({}) == {"_id": "e1", "what": "login"}
    assert {name: db[name].writes - counted[name] for name in counted} == \
        {"users": 2, "sessions": 2, "log": 1}


async def test_a_failed_write_is_returned_and_the_rest_are_not_run(db):
    await db["log"].insert_one({"_id": "e1"})
    results = await db.write_each([
        ("users", "insert_one", {"_id": 1, "name": "ann"}),
        ("log", "insert_one", {"_id": "e1"}),                  # taken
        ("users", "update_one", {"_id": 1}, {"$set": {"name": "Ann"}}),
    ])
    assert isinstance(results[0], InsertOneResult)
    assert isinstance(results[1], DuplicateKeyError)
    assert results[2] is None
    assert await db["users"].find_one({"_id": 1}) == {"_id": 1, "name": "ann"}


@pytest.mark.parametrize("bad", [
    ("users", "insert_many", [{"a": 1}]),
    ("users", "update_one", {"_id": 1}, {"name": "no operator"}),
    ("users", "insert_one", {"$where": 1}),
])
async def test_a_bad_write_raises_before_anything_is_written(db, bad):
    with pytest.raises((ValueError, UnsupportedOperation)):
        await db.write_each([("users", "insert_one", {"_id": 1}), bad])
    assert await db["users"].count_documents({}) == 0


@pytest.mark.parametrize("db", ["memory", "embedded"], indirect=True)
async def test_the_embedded_store_runs_them_in_one_hand_off(db, monkeypatch):
    handed_off, real = [], db._run

    async def counting(executor, method, *args, **kwargs):
        handed_off.append(method)
        return await real(executor, method, *args, **kwargs)

    monkeypatch.setattr(db, "_run", counting)
    results = await db.write_each([("a", "insert_one", {"_id": 1}),
                                   ("b", "insert_one", {"_id": 2}),
                                   ("a", "update_one", {"_id": 1}, {"$set": {"x": 1}})])
    assert len(handed_off) == 1 and all(results)
    assert await db["a"].find_one({}) == {"_id": 1, "x": 1}
