"""The JSON API's error texts in the request's language (the user's preference, else
``Accept-Language``, else ``LANGUAGE``), like the pages: 400, 401, 404, 405, 409, 413, 415
and 422 ``error`` and ``fields`` messages; the keys and statuses stay as they are."""
import pytest

import support
from core import i18n
from i18n_kit import english_left_in_json
from support.api import ApiSite
from support.server import server_fixture

DEMO_APPS = ["core.audit", "apps.accounts", "apps.blog"]
BLOG = {"blog.category": ["read", "write", "delete"], "blog.article": ["read", "write"]}


@pytest.fixture
def i18n_settings(tmp_path):
    return support.make_settings(tmp_path, DEMO_APPS, API_MAX_BODY_SIZE=2000)


server = server_fixture("i18n_settings", ApiSite)


def translated(language, msgid):
    """``msgid`` in ``language`` (from the catalogs), checked to be a translation."""
    text = i18n.locale_for(language).translate(msgid)
    assert text != msgid, (language, msgid)
    return text


@pytest.mark.parametrize("language", ["fr", "de"])
async def test_api_errors_follow_accept_language(site, language):
    client = await site.token_client("api", BLOG)
    headers = {"Accept-Language": f"{language}, en;q=0.5"}
    news = await site.model("blog.category").create(name="News", db=site.db)
    replies = {
        "unknown model": await client.request("GET", "/api/blog/nosuch/", headers=headers),
        "bad JSON": await client.request("POST", "/api/blog/category/", raw="{nope",
                                         headers=headers),
        "not JSON": await client.request("POST", "/api/blog/category/", raw="name=x",
                                         content_type="text/plain", headers=headers),
        "too large": await client.request("POST", "/api/blog/category/",
                                          body={"name": "x" * 3000}, headers=headers),
        "not allowed": await client.request("POST", f"/api/blog/category/{news.id}",
                                            body={}, headers=headers),
        "invalid": await client.request("POST", "/api/blog/category/",
                                        body={"name": "", "colour": "red"}, headers=headers),
        "stale": await client.request("PATCH", f"/api/blog/category/{news.id}",
                                      body={"name": "Old", "version": 7}, headers=headers),
        "bad token": await site.anonymous().request(
            "GET", "/api/blog/category/", headers={**headers, "Authorization": "Bearer x"}),
        "anonymous": await site.anonymous().request("GET", "/api/blog/category/",
                                                    headers=headers),
        "not the API": await client.request("GET", "/api/nowhere", headers=headers),
    }
    codes = {name: reply.code for name, reply in replies.items()}
    assert codes == {"unknown model": 404, "bad JSON": 400, "not JSON": 415, "too large": 413,
                     "not allowed": 405, "invalid": 422, "stale": 409, "bad token": 401,
                     "anonymous": 401, "not the API": 404}
    assert replies["unknown model"].json["error"] == translated(
        language, "There is no model %(model)s.") % {"model": "blog.nosuch"}
    assert replies["not JSON"].json["error"] == translated(
        language, "Send the body as application/json.")
    assert replies["too large"].json["error"] == translated(
        language, "The body is larger than %(limit)s bytes.") % {"limit": 2000}
    invalid = replies["invalid"].json
    assert invalid["error"] == translated(language, "The body has invalid fields.")
    assert invalid["fields"] == {"colour": translated(language, "Unknown field.")}
    assert replies["stale"].json["version"] == 1                  # the keys stay English
    assert replies["anonymous"].json["error"] == translated(
        language, "Authentication required: log in first.")
    for name, reply in replies.items():
        assert set(reply.json) >= {"error"}, name
        assert english_left_in_json(reply.json, language, ("accounts", "blog")) == [], name


async def test_the_users_preference_beats_accept_language_in_the_api(site):
    """Once the user is known (a refusal before it — 401, 413, an unknown model — can
    only follow ``Accept-Language``)."""
    client = await site.token_client("hans", BLOG, language="de")
    reply = await client.request("PATCH", f"/api/blog/category/{'0' * 24}", body={},
                                 headers={"Accept-Language": "fr"})
    assert reply.code == 404
    assert reply.json["error"] == f"Kein Objekt (Kategorie) mit der ID '{'0' * 24}'."
    english = await site.anonymous().request("GET", "/api/nowhere")
    assert english.json["error"].startswith("Not found: the API's URLs are")
