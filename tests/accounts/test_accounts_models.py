"""apps.accounts models on the in-memory engine: User, Role, PermissionsField."""
import pytest

from apps.accounts.models import Role, User
from core.auth.passwords import PasswordError
from core.models import UniqueError, ValidationError

PASSWORD = "plum-harbour-velvet"   # passes every validator

MODELS = {"shop.product": ("read", "write", "delete", "publish"),
          "accounts.user": ("read", "write", "delete")}


async def test_permissions_are_stored_nested_and_read_back_flat(db):
    user = await User.create_user("alice", "alice@example.com", PASSWORD,
                                  permissions={"shop.product": ["write", "read"],
                                               "Accounts.User": "read"})
    stored = await db["accounts_user"].find_one({"_id": user.id})
    assert stored["permissions"] == {"shop": {"product": ["read", "write"]},
                                     "accounts": {"user": ["read"]}}
    again = await User.get(user.id)
    assert again.permissions == {"accounts.user": ["read"], "shop.product": ["read", "write"]}
    # each grant can be queried by path
    assert await User.count({"permissions.shop.product": "write"}) == 1


async def test_permissions_field_rejects_bad_shapes(db):
    for bad in ({"product": ["read"]}, {"shop.product": [{"$gt": ""}]}, ["shop.product"],
                {"shop.product": ["rm -rf"]}):
        with pytest.raises(ValidationError) as info:
            await User.create_user("bob", "bob@example.com", PASSWORD, permissions=bad)
        assert info.value.field == "permissions"
    assert await User.count() == 0


async def test_permissions_field_accepts_text_from_a_form(db):
    role = await Role.create(name="editors",
                             permissions="shop.product=read,write; accounts.user=read")
    assert role.permissions == {"accounts.user": ["read"], "shop.product": ["read", "write"]}


async def test_password_hash_is_never_shown(db):
    user = await User.create_user("alice", "alice@example.com", PASSWORD)
    assert user.password.startswith("$2b$")
    assert "password" not in user.to_json()
    assert user.password not in repr(user) and user.password not in str(user)
    assert repr(user) == "<User: alice>"
    assert user.get_display("password") == "(set)"
    assert User._meta.get_field("password").hidden is True
    assert User._meta.get_field("password").editable is False


async def test_a_plain_text_password_can_never_be_stored(db):
    with pytest.raises(ValidationError) as info:
        await User.create(username="alice", email="alice@example.com", password=PASSWORD)
    assert info.value.field == "password"
    assert await User.count() == 0


async def test_username_and_email_are_unique_by_index(db):
    await User.create_user("alice", "alice@example.com", PASSWORD)
    with pytest.raises(UniqueError) as same_name:
        await User.create_user("alice", "other@example.com", PASSWORD)
    assert same_name.value.field == "username"
    with pytest.raises(UniqueError) as same_email:
        await User.create_user("alice2", "alice@example.com", PASSWORD)
    assert same_email.value.field == "email"
    assert await User.count() == 1


async def test_username_and_role_name_rules(db):
    with pytest.raises(ValidationError) as info:
        await User.create_user("al ice", "alice@example.com", PASSWORD)
    assert info.value.field == "username"
    with pytest.raises(ValidationError) as role_error:
        await Role.create(name="two words")
    assert role_error.value.field == "name"
    await Role.create(name="editors")
    with pytest.raises(UniqueError):
        await Role.create(name="editors")


async def test_set_password_validates_against_the_user(db):
    user = await User.create_user("jonathan.harker", "jh@example.com", PASSWORD)
    with pytest.raises(PasswordError, match="too similar to the username"):
        await user.set_password("jonathan.harker1")
    assert await user.check_password(PASSWORD) is True


async def test_authenticate(db):
    user = await User.create_user("alice", "alice@example.com", PASSWORD)
    assert await User.authenticate("alice", PASSWORD) == user
    assert await User.authenticate("alice", PASSWORD + "x") is None
    assert await User.authenticate("nobody", PASSWORD) is None
    assert await User.authenticate({"$gt": ""}, PASSWORD) is None
    user.is_active = False
    await user.save()
    assert await User.authenticate("alice", PASSWORD) is None
    nopass = await User.create_user("bob", "bob@example.com")
    assert nopass.password is None and await User.authenticate("bob", "") is None


async def test_get_permissions_loads_roles_from_the_database(db):
    await Role.create(name="publishers", permissions={"shop.product": ["publish"]})
    user = await User.create_user("alice", "alice@example.com", PASSWORD,
                                  permissions={"shop.product": ["read"]},
                                  roles=["publishers", "deleted-role"])
    perms = await user.get_permissions(MODELS)
    assert perms.effective() == {"shop.product": ["publish", "read"]}
    assert perms.sources() == {"shop.product": {"publish": ["role:publishers"],
                                                "read": ["user"]}}
    assert await Role.load(["publishers", "nope"]) == {"publishers": {"shop.product":
                                                                      ["publish"]}}


async def test_end_sessions_deletes_only_that_users_sessions(db):
    alice = await User.create_user("alice", "alice@example.com", PASSWORD)
    bob = await User.create_user("bob", "bob@example.com", PASSWORD)
    for owner in (alice, alice, bob):
        await db["sessions"].insert_one({"user_id": owner.id})
    assert await alice.end_sessions(db) == 2
    remaining = await db["sessions"].find({"user_id": {"$exists": True}}).to_list(None)
    assert [s["user_id"] for s in remaining] == [bob.id]
