"""The JSON API saves users and roles through the same ``save_model``: no escalation there."""
import json

from support.accounts import HASH_RE

STAFF = {"accounts.user": ["read", "write"], "blog.article": ["read"]}


async def api(browser, method, path, data=None):
    token = await browser.xsrf()
    headers = {"X-XSRFToken": token, "Content-Type": "application/json",
               "Accept": "application/json"}
    body = json.dumps(data) if data is not None else None
    response = await browser.fetch(path, method=method, headers=headers, body=body)
    return response, (json.loads(response.text) if response.text else None)


async def test_the_api_refuses_self_escalation_and_never_shows_the_hash(site):
    staff = await site.user_browser("staff", STAFF)
    User = site.model("accounts.user")
    me = await User.get_by_username("staff", db=site.db)
    path = f"/api/accounts/user/{me.id}"

    response, body = await api(staff, "GET", path)
    assert response.code == 200, response.text
    assert not HASH_RE.search(response.text)

    response, body = await api(staff, "PATCH", path, {"is_superuser": True})
    assert response.code in (403, 422), response.text
    response, body = await api(staff, "PATCH", path, {"permissions": dict(
        STAFF, **{"blog.article": ["delete", "read"]})})
    assert response.code in (403, 422), response.text
    response, body = await api(staff, "PATCH", path,
                               {"permissions": dict(STAFF, **{"blog.article": ["fly"]})})
    assert response.code in (400, 422), response.text
    after = await User.get(me.id, db=site.db)
    assert after.permissions == STAFF and not after.is_superuser
    assert after.version == me.version
