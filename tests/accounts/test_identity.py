"""Usernames and emails are unique once case, width and look-alike letters are ignored.

Model level (a real in-memory database, the unique indexes), the identity keys
themselves, and documents stored before the keys existed (``ensure_indexes``
fills them in).
"""
import logging

import pytest

from apps.accounts.models import User
from core.auth.identity import identity_key, mixed_script
from core.db import connect
from core.models import UniqueError, ValidationError
from support import bound

PASSWORD = "plum-harbour-velvet"


@pytest.mark.parametrize("name, key", [
    ("Alice", "alice"), ("ＡＬＩＣＥ", "alice"), ("аlice", "alice"),     # Cyrillic а
    ("ѕсоре", "scope"), ("Straße", "strasse"), ("admın", "admin"),       # dotless ı
])
def test_identity_keys(name, key):
    assert identity_key(name) == key


@pytest.mark.parametrize("name, mixed", [
    ("аdmin", True), ("Ωmega", True), ("paypаl", True), ("admin", False), ("алиса", False),
    ("東京タワー", False), ("tokyo東京", False), ("user_1.x", False), ("ab١", True),
])
def test_mixed_script(name, mixed):
    assert mixed_script(name) is mixed


async def test_a_username_in_another_case_width_or_alphabet_is_taken(db):
    await User.create_user("alice", "alice@example.com", PASSWORD)
    await User.create_user("scope", "scope@example.com", PASSWORD)
    for name in ("ALICE", "Alice", "ａｌｉｃｅ", "ѕсоре", "SCOPE"):
        with pytest.raises(UniqueError) as info:
            await User.create_user(name, f"other{len(name)}@example.com", PASSWORD)
        assert info.value.errors == {"username": "User with this username already exists."}
    assert await User.count() == 2


async def test_an_email_in_another_case_is_taken(db):
    await User.create_user("alice", "alice@example.com", PASSWORD)
    for email in ("ALICE@example.com", "Alice@EXAMPLE.COM"):
        with pytest.raises(UniqueError) as info:
            await User.create_user("bob", email, PASSWORD)
        assert info.value.errors == {"email": "User with this email already exists."}
    assert await User.count() == 1


async def test_a_mixed_script_username_is_refused_with_a_clear_message(db):
    with pytest.raises(ValidationError) as info:
        await User.create_user("аdmin", "x@example.com", PASSWORD)     # Cyrillic а + dmin
    assert info.value.errors == {"username": (
        "Enter a username in one alphabet: this one mixes Cyrillic and Latin letters, which "
        "can pass for another name.")}
    assert await User.count() == 0
    bob = await User.create_user("bob", "bob@example.com", PASSWORD)
    bob.username = "bоb"                                                # Cyrillic о
    with pytest.raises(ValidationError, match="one alphabet"):
        await bob.save()
    assert (await User.get(bob.id)).username == "bob"


async def test_renaming_onto_a_look_alike_is_refused_and_a_case_change_of_ones_own_is_not(db):
    await User.create_user("alice", "alice@example.com", PASSWORD)
    bob = await User.create_user("bob", "bob@example.com", PASSWORD)
    bob.username = "Alice"
    with pytest.raises(UniqueError):
        await bob.save()
    bob = await User.get(bob.id)
    bob.username = "Bob"
    await bob.save()
    assert (await User.get(bob.id)).username_key == "bob"


async def test_login_by_username_matches_the_normalised_key(db):
    alice = await User.create_user("alice", "alice@example.com", PASSWORD)
    for typed in ("alice", "ALICE", "ａｌｉｃｅ"):
        assert await User.authenticate(typed, PASSWORD) == alice
    assert await User.authenticate("ALICE", "wrong-password-here") is None
    assert await User.get_by_username("nobody") is None


async def test_keys_never_show(db):
    alice = await User.create_user("alice", "alice@example.com", PASSWORD)
    assert "username_key" not in alice.to_json() and "email_key" not in alice.to_json()
    assert User._meta.fields["username_key"].hidden


@pytest.fixture
async def bare_db():
    """A bound in-memory database on which no index exists yet (an old deployment)."""
    database = connect("memory:")
    try:
        async with bound(database):
            yield database
    finally:
        await database.close()


async def old_user(db, username, email):
    """A user document as stored before identity keys existed."""
    user = User(username=username, email=email)
    await user.set_password(PASSWORD)
    doc = user.to_bson()
    doc.update(_id=__import__("bson").ObjectId(), version=1)
    doc.pop("username_key"), doc.pop("email_key")
    await db["accounts_user"].insert_one(doc)
    return doc["_id"]


async def test_ensure_indexes_fills_the_keys_of_old_documents(bare_db, caplog):
    first = await old_user(bare_db, "Carol", "carol@example.com")
    second = await old_user(bare_db, "carol", "CAROL@example.com")     # a clash from before
    mixed = await old_user(bare_db, "аdmin", "admin@example.com")
    with caplog.at_level(logging.WARNING, logger="bastion.accounts"):
        names = await User.ensure_indexes()
    assert {"username_key_1", "email_key_1"} <= set(names)
    docs = {doc["_id"]: doc for doc in await bare_db["accounts_user"].find({}).to_list(None)}
    assert docs[first]["username_key"] == "carol"
    assert docs[second]["username_key"] == f"carol {second}"          # kept apart, not lost
    assert docs[second]["email_key"] == f"carol@example.com {second}"
    assert docs[mixed]["username_key"] == "admin"
    assert all(doc["version"] == 1 for doc in docs.values())
    assert "'Carol' and 'carol'" in caplog.text and "'аdmin' mixes alphabets" in caplog.text
    # both old accounts keep working: log-in by the exact name, and saving
    assert (await User.authenticate("Carol", PASSWORD)).id == first
    assert (await User.authenticate("carol", PASSWORD)).id == second
    for user_id in (first, second, mixed):
        user = await User.get(user_id)
        user.is_active = False
        await user.save()                                # no clash, no mixed-script refusal
    stale = await User.get(mixed)
    await (await User.get(mixed)).save()                 # someone saved it meanwhile
    await stale.reload()
    await stale.save()                                   # still its own, unchanged name
    # nobody new can take either spelling
    with pytest.raises(UniqueError):
        await User.create_user("CAROL", "new@example.com", PASSWORD)
    assert await User.ensure_indexes() == names          # idempotent


async def test_an_old_document_gets_its_keys_on_its_next_save(bare_db):
    user_id = await old_user(bare_db, "dave", "dave@example.com")
    user = await User.get(user_id)
    assert user.username_key is None
    user.is_active = False
    await user.save()
    stored = await bare_db["accounts_user"].find_one({"_id": user_id})
    assert (stored["username_key"], stored["email_key"]) == ("dave", "dave@example.com")
