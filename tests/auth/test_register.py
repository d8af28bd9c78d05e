"""``/admin/register/``: 404 unless ALLOW_REGISTRATION; creates a plain user with defaults."""
import pytest

from auth_kit import error_for, make_settings
from support import PASSWORD

DEFAULTS = {"demo.widget": ["read"]}


@pytest.fixture
async def open_site(server, tmp_path):
    return await server(make_settings(tmp_path, ALLOW_REGISTRATION=True,
                                      DEFAULT_PERMISSIONS=DEFAULTS))


def signup(username="carol", email="carol@example.com", password=PASSWORD, again=None):
    return {"username": username, "email": email, "password1": password,
            "password2": password if again is None else again}


async def test_registration_is_off_by_default(site):
    browser = site.browser()
    assert (await browser.get("/admin/register/")).code == 404
    response = await browser.post("/admin/register/", signup())
    assert response.code == 404
    assert await site.User.count({}, db=site.db) == 0
    assert "/admin/register/" not in (await browser.get("/admin/login/")).text


async def test_registration_creates_an_active_plain_user_with_default_permissions(open_site):
    browser = open_site.browser()
    page = await browser.get("/admin/register/")
    assert page.code == 200 and 'autocomplete="email"' in page.text
    assert "/admin/register/" in (await browser.get("/admin/login/")).text
    response = await browser.post("/admin/register/", dict(signup(), is_superuser="1",
                                                           permissions="accounts.user=write"))
    assert response.code == 303 and response.location == "/admin/"
    user = await open_site.User.get_by_username("carol", db=open_site.db)
    assert user.is_active is True and user.is_superuser is False
    assert user.permissions == DEFAULTS
    assert user.email == "carol@example.com"
    assert await user.check_password(PASSWORD)
    landing = await browser.get("/admin/")               # logged in straight away
    assert landing.code == 200 and 'data-model="demo.widget"' in landing.text
    assert 'data-model="accounts.user"' not in landing.text


async def test_registration_without_xsrf_is_refused(open_site):
    response = await open_site.browser().post("/admin/register/", signup(), xsrf=False)
    assert response.code == 403
    assert await open_site.User.count({}, db=open_site.db) == 0


@pytest.mark.parametrize("form, field, message", [
    (signup(password="password123"), "id_password1", "too common"),
    (signup(again="something-else-entirely"), "id_password2", "do not match"),
    (signup(username="bad name!"), "id_username", "valid username"),
    (signup(email="not-an-email"), "id_email", "email"),
    (signup(username=""), "id_username", "Choose a username"),
])
async def test_registration_errors_are_shown_next_to_fields(open_site, form, field, message):
    response = await open_site.browser().post("/admin/register/", form)
    assert response.code == 200
    assert message.lower() in error_for(response.text, field).lower()
    assert await open_site.User.count({}, db=open_site.db) == 0


async def test_a_taken_username_or_email_is_a_form_error_not_a_500(open_site):
    await open_site.create_user("carol")
    response = await open_site.browser().post("/admin/register/", signup(email="new@example.com"))
    assert response.code == 200 and error_for(response.text, "id_username")
    response = await open_site.browser().post("/admin/register/",
                                              signup(username="carol2",
                                                     email="carol@example.com"))
    assert response.code == 200 and error_for(response.text, "id_email")
    assert await open_site.User.count({}, db=open_site.db) == 1
