"""Look-alike and mixed-script usernames over real HTTP: registration, the admin's add
form (a field error, 200) and the JSON API (409 for a taken name, 422 for a mixed one).
"""
import pytest

from support import BLOG_APPS, make_settings, serving
from support.api import ApiSite
from support.pages import error_for

NEW = "quiet-lantern-orchard"
MIXED = "аdmin"                       # a Cyrillic "а", then Latin "dmin"
ONE_ALPHABET = "Enter a username in one alphabet"


@pytest.fixture
async def site(tmp_path):
    settings = make_settings(tmp_path, BLOG_APPS, ALLOW_REGISTRATION=True)
    async with serving(ApiSite) as servers:
        yield await servers.serve(settings)


async def users(site):
    return sorted(doc["username"] for doc in await site.db["accounts_user"].find({})
                  .to_list(None))


async def register(site, username, email):
    return await site.browser().post("/admin/register/", {
        "username": username, "email": email, "password1": NEW, "password2": NEW})


async def test_registration_refuses_look_alikes_and_mixed_scripts_as_field_errors(site):
    await site.create_user("alice")
    before = await users(site)
    for name in ("ALICE", "ａｌｉｃｅ", "Alice"):
        response = await register(site, name, "new@example.com")
        assert response.code == 200, response.text[:300]
        assert error_for(response.text, "username") == "User with this username already exists."
    response = await register(site, "carol", "Alice@Example.com")
    assert response.code == 200
    assert error_for(response.text, "email") == "User with this email already exists."
    response = await register(site, MIXED, "new@example.com")
    assert response.code == 200 and ONE_ALPHABET in error_for(response.text, "username")
    assert "Cyrillic and Latin" in error_for(response.text, "username")
    assert await users(site) == before
    assert (await register(site, "carol", "carol@example.com")).code == 303


async def test_the_admin_add_form_shows_a_field_error_for_a_taken_or_mixed_name(site):
    await site.create_user("alice")
    root = await site.user_browser("root", is_superuser=True)
    before = await users(site)
    form = {"username": "ALICE", "email": "other@example.com", "is_active": "y",
            "password1": NEW, "password2": NEW}
    response = await root.post("/admin/accounts/user/add/", form)
    assert response.code == 200, response.text[:300]
    assert error_for(response.text, "username") == "User with this username already exists."
    response = await root.post("/admin/accounts/user/add/",
                               dict(form, username="bob", email="ALICE@example.com"))
    assert response.code == 200
    assert error_for(response.text, "email") == "User with this email already exists."
    response = await root.post("/admin/accounts/user/add/", dict(form, username=MIXED))
    assert response.code == 200 and ONE_ALPHABET in error_for(response.text, "username")
    assert await users(site) == before


async def test_the_api_answers_409_for_a_taken_name_and_422_for_a_mixed_one(site):
    await site.create_user("alice")
    root = await site.token_client("root", is_superuser=True)
    before = await users(site)
    reply = await root.post("/api/accounts/user/", {"username": "Alice",
                                                    "email": "other@example.com"})
    assert reply.code == 409, reply
    assert reply.json["fields"] == {"username": "User with this username already exists."}
    reply = await root.post("/api/accounts/user/", {"username": "bob",
                                                    "email": "ALICE@EXAMPLE.COM"})
    assert reply.code == 409, reply
    assert reply.json["fields"] == {"email": "User with this email already exists."}
    reply = await root.post("/api/accounts/user/", {"username": MIXED,
                                                    "email": "m@example.com"})
    assert reply.code == 422, reply
    assert ONE_ALPHABET in reply.json["fields"]["username"]
    assert await users(site) == before
    # renaming onto a look-alike through PATCH is a 409 too, and changes nothing
    bob = await site.create_user("bob")
    reply = await root.patch(f"/api/accounts/user/{bob.id}", {"username": "ALICE"})
    assert reply.code == 409, reply
    assert (await site.model("accounts.user").get(bob.id, db=site.db)).username == "bob"


async def test_logging_in_in_another_case_or_width_reaches_the_same_account(site):
    await site.create_user("alice")
    for typed in ("ALICE", "ａｌｉｃｅ"):
        browser = site.browser()
        assert (await browser.login(typed)).code == 303
        page = await browser.get("/admin/")
        assert page.code == 200 and "alice" in page.text
