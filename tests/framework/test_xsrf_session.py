"""XSRF tokens bound to the session, on a real server with the accounts and blog apps.

A logged-in page's token is an HMAC of its session id: it works for that session's form
posts and API writes (read from ``<meta name="xsrf-token">``, as docs/api.md tells
scripts), and is refused with another session's cookie or after the session changed.
Anonymous pages (the login form) keep Tornado's cookie token.
"""
import json
import re

import pytest

from support import PASSWORD, Site, make_settings, serving

APPS = ["core.audit", "apps.accounts", "apps.blog"]
ARTICLES = {"blog.article": ["read", "write"]}


@pytest.fixture
async def site(tmp_path):
    async with serving(Site) as servers:
        yield await servers.serve(make_settings(tmp_path, APPS))


def meta_token(page):
    found = re.search(r'<meta name="xsrf-token" content="([^"]+)">', page.text)
    assert found, page.text[:500]
    return found.group(1)


async def page_token(browser, path="/admin/"):
    page = await browser.get(path)
    assert page.code == 200, (page.code, page.text[:300])
    return meta_token(page)


async def create_article(site, title="First"):
    Article = site.model("blog.article")
    article = Article(title=title, body="")
    await article.save(db=site.db)
    return str(article.id)


async def patch(browser, article_id, token, title):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["X-XSRFToken"] = token
    return await browser.fetch(f"/api/blog/article/{article_id}", method="PATCH",
                               body=json.dumps({"title": title}), headers=headers)


async def stored_title(site, article_id):
    Article = site.model("blog.article")
    return (await Article.get(article_id, db=site.db)).title


async def test_a_script_reads_the_meta_token_and_patches_through_the_api(site):
    article_id = await create_article(site)
    alice = await site.user_browser("alice", ARTICLES)
    token = await page_token(alice)
    response = await patch(alice, article_id, token, "Patched with the meta token")
    assert response.code == 200, response.text
    assert await stored_title(site, article_id) == "Patched with the meta token"
    # another render masks the token differently; both are the session's
    again = await page_token(alice)
    assert again != token
    assert (await patch(alice, article_id, again, "Again")).code == 200
    assert (await patch(alice, article_id, None, "No token")).code == 403
    assert await stored_title(site, article_id) == "Again"


async def test_a_token_from_another_session_is_refused(site):
    article_id = await create_article(site)
    alice = await site.user_browser("alice", ARTICLES)
    mallory = await site.user_browser("mallory", ARTICLES)
    alices_token = await page_token(alice)
    mallorys_token = await page_token(mallory)
    # mallory's token (or her _xsrf cookie value) with alice's session: refused
    for token in (mallorys_token, mallory.cookies["_xsrf"]):
        response = await patch(alice, article_id, token, "Forged")
        assert response.code == 403, response.text
        assert "xsrf" in response.json()["error"].lower()
        form = await alice.fetch("/admin/logout/", method="POST",
                                 form={"_xsrf": token})
        assert form.code == 403
    # a forged _xsrf cookie matching the forged token changes nothing either
    alice.cookies["_xsrf"] = mallorys_token
    assert (await patch(alice, article_id, mallorys_token, "Forged")).code == 403
    assert await stored_title(site, article_id) == "First"
    assert (await patch(alice, article_id, alices_token, "Alice's")).code == 200


async def test_the_token_changes_with_the_session(site):
    await site.create_user("alice", ARTICLES)
    browser = site.browser()
    login_page = await browser.get("/admin/login/")
    anonymous_token = meta_token(login_page)
    assert "HttpOnly" in login_page.set_cookie_line("_xsrf")   # scripts cannot read it
    response = await browser.fetch("/admin/login/", method="POST", form={
        "username": "alice", "password": PASSWORD, "_xsrf": anonymous_token})
    assert response.code == 303, response.text[:300]
    # the login answer set the _xsrf cookie to the new session's token
    session_token = await page_token(browser)
    assert (await browser.fetch("/admin/logout/", method="POST",
                                form={"_xsrf": anonymous_token})).code == 403
    assert (await browser.fetch("/admin/logout/", method="POST",
                                form={"_xsrf": browser.cookies["_xsrf"]})).code in (302, 303)
    # logged out: the old session's token is no good for the login form
    assert "bastion_session" not in browser.cookies
    refused = await browser.fetch("/admin/login/", method="POST", form={
        "username": "alice", "password": PASSWORD, "_xsrf": session_token})
    assert refused.code == 403
    fresh = meta_token(await browser.get("/admin/login/"))
    again = await browser.fetch("/admin/login/", method="POST", form={
        "username": "alice", "password": PASSWORD, "_xsrf": fresh})
    assert again.code == 303


async def test_anonymous_forms_keep_the_cookie_token(site):
    await site.create_user("bob")
    browser = site.browser()
    token = meta_token(await browser.get("/admin/login/"))
    cookie = [line for line in (await browser.get("/admin/login/")).set_cookies
              if line.startswith("_xsrf=")]
    assert cookie == []                               # the cookie is set once, then kept
    other = site.browser()
    await other.get("/admin/login/")                 # someone else's anonymous cookie
    wrong = await other.fetch("/admin/login/", method="POST", form={
        "username": "bob", "password": PASSWORD, "_xsrf": token})
    assert wrong.code == 403
    right = await browser.fetch("/admin/login/", method="POST", form={
        "username": "bob", "password": PASSWORD, "_xsrf": token})
    assert right.code == 303


async def test_one_page_masks_its_token_once(site):
    """The meta tag and every form of one response carry the same masked token (masked
    once per response, as Tornado does); the next response masks it afresh."""
    article_id = await create_article(site)
    alice = await site.user_browser("alice", ARTICLES)
    page = await alice.get(f"/admin/blog/article/{article_id}/")
    assert page.code == 200, page.text[:300]
    form_tokens = re.findall(r'name="_xsrf" value="([^"]+)"', page.text)
    assert form_tokens, page.text[:500]
    assert set(form_tokens) == {meta_token(page)}
    again = await alice.get(f"/admin/blog/article/{article_id}/")
    assert meta_token(again) != meta_token(page)
    response = await patch(alice, article_id, form_tokens[0], "With the form's token")
    assert response.code == 200, response.text


async def test_the_session_cookie_is_checked_once_per_request(site, monkeypatch):
    """The session load and the page's XSRF token share one check of the signed cookie."""
    import tornado.web
    checked = []
    decode = tornado.web.decode_signed_value

    def counting(secret, name, value, *args, **kwargs):
        if value:
            checked.append(name)
        return decode(secret, name, value, *args, **kwargs)

    alice = await site.user_browser("alice", ARTICLES)
    monkeypatch.setattr(tornado.web, "decode_signed_value", counting)
    page = await alice.get("/admin/blog/article/")
    assert page.code == 200, page.text[:300]
    assert checked.count("bastion_session") == 1, checked
    assert meta_token(page)


@pytest.mark.parametrize("secret", ["a-secret", b"another-secret" * 4])
def test_a_session_s_token_is_the_hmac_of_its_id_under_the_secret(secret):
    """``session_xsrf_token`` copies a keyed HMAC prepared once per secret; the token is
    still HMAC-SHA256(secret, "bastion-xsrf\\0" + id), the same for the same session and
    another for another session or secret."""
    import hashlib
    import hmac

    from core.handlers.base import session_xsrf_token
    key = secret.encode() if isinstance(secret, str) else secret
    for session_id in ("one", "two", "x" * 43):
        expected = hmac.new(key, b"bastion-xsrf\x00" + session_id.encode(),
                            hashlib.sha256).digest()
        assert session_xsrf_token(secret, session_id) == expected
        assert session_xsrf_token(secret, session_id) == expected       # the copy is fresh
    assert session_xsrf_token(secret, "one") != session_xsrf_token(secret + secret, "one")
