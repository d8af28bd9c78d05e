"""``/admin/account/``: permissions with sources, preferences, sessions."""
from support import PASSWORD
from twofactor_kit import ACCOUNT


async def test_the_page_shows_effective_permissions_with_their_sources(site):
    role = site.model("accounts.role")
    await role(name="editors", permissions={"blog.article": ["write"]}).save(db=site.db)
    browser = await site.user_browser("alice", {"blog.article": ["read"]}, roles=["editors"])
    page = await browser.get(ACCOUNT)
    assert page.code == 200
    assert 'data-model="blog.article"' in page.text
    assert 'data-action="read"><span class="bool bool-yes" aria-hidden="true">✓</span> ' \
           '<span class="sources">user</span>' in page.text
    assert '<span class="sources">role:editors</span>' in page.text
    assert 'href="/admin/password_change/"' in page.text
    as_json = await browser.get(ACCOUNT, headers={"Accept": "application/json"})
    data = as_json.json()
    assert data["sources"]["blog.article"] == {"read": ["user"], "write": ["role:editors"]}
    assert data["factors"] == {"totp": False, "passkeys": 0, "recovery_codes": 0}


async def test_anonymous_visitors_are_sent_to_log_in(site):
    anonymous = site.browser()
    response = await anonymous.get(ACCOUNT)
    assert response.code == 302 and response.location.startswith("/admin/login/?next=")
    as_json = await anonymous.get(ACCOUNT, headers={"Accept": "application/json"})
    assert as_json.code == 401


async def test_preferences_are_validated_and_stored(site):
    browser = await site.user_browser("alice", {"blog.article": ["read"]})
    bad = await browser.post(ACCOUNT, {"language": "xx", "time_zone": "Mars/Olympus_Mons"})
    assert bad.code == 400 and "Not a valid choice" in bad.text
    bad_zone = await browser.post(ACCOUNT, {"language": "fr", "time_zone": "Mars/Olympus_Mons"})
    assert bad_zone.code == 400
    assert "Enter a time zone such as Europe/Paris" in bad_zone.text
    user = await site.User.get_by_username("alice", db=site.db)
    assert not user.language and not user.time_zone              # nothing changed
    done = await browser.post(ACCOUNT, {"language": "fr", "time_zone": "Europe/Paris"})
    assert done.code == 303 and done.location == ACCOUNT + "?done=preferences"
    user = await site.User.get_by_username("alice", db=site.db)
    assert (user.language, user.time_zone) == ("fr", "Europe/Paris")
    page = await browser.get(done.location)
    # the page answers in the language just chosen
    assert '<html lang="fr">' in page.text and "Vos préférences ont été enregistrées." in page.text
    assert '<option selected value="fr">' in page.text
    entry = (await site.audit(action="update", object_label="alice"))[-1]
    assert entry["changes"]["time_zone"]["after"] == "Europe/Paris"
    cleared = await browser.post(ACCOUNT, {"language": "", "time_zone": ""})
    assert cleared.code == 303


async def test_sessions_are_listed_and_one_or_all_others_can_be_ended(site):
    await site.create_user("alice", {"blog.article": ["read"]})
    phone = site.browser(remote_headers={"User-Agent": "PhoneBrowser/1.0"})
    laptop = site.browser(remote_headers={"User-Agent": "LaptopBrowser/2.0"})
    tablet = site.browser(remote_headers={"User-Agent": "TabletBrowser/3.0"})
    for browser in (phone, laptop, tablet):
        await browser.login("alice")
    page = (await laptop.get(ACCOUNT)).text
    for agent in ("PhoneBrowser/1.0", "LaptopBrowser/2.0", "TabletBrowser/3.0"):
        assert agent in page
    assert "127.0.0.1" in page and "(this session)" in page
    sessions = (await laptop.get(ACCOUNT, headers={"Accept": "application/json"})).json()[
        "sessions"]
    phone_handle = next(s["handle"] for s in sessions if s["user_agent"] == "PhoneBrowser/1.0")
    ended = await laptop.post(f"{ACCOUNT}sessions/{phone_handle}/end/")
    assert ended.code == 303 and ended.location == ACCOUNT + "?done=session-ended"
    assert (await phone.get(ACCOUNT)).code == 302                  # the phone is logged out
    assert (await tablet.get(ACCOUNT)).code == 200
    again = await laptop.post(f"{ACCOUNT}sessions/{phone_handle}/end/")
    assert again.code == 404
    everywhere = await laptop.post(ACCOUNT + "sessions/")
    assert everywhere.location == ACCOUNT + "?done=others-ended"
    assert (await tablet.get(ACCOUNT)).code == 302
    assert (await laptop.get(ACCOUNT)).code == 200                 # this one stays
    from core.auth.sessions import AUTH_EPOCH_KEY             # the cache's stamp lives there too
    assert len(await site.db["sessions"].find({"_id": {"$ne": AUTH_EPOCH_KEY}}).to_list(None)) == 1
    # ending the current session logs out
    own = (await laptop.get(ACCOUNT, headers={"Accept": "application/json"})).json()[
        "sessions"][0]["handle"]
    out = await laptop.post(f"{ACCOUNT}sessions/{own}/end/")
    assert out.code == 303 and out.location == "/admin/login/"
    assert "bastion_session" not in laptop.cookies
    assert PASSWORD


async def test_posts_without_the_xsrf_token_are_refused(site):
    browser = await site.user_browser("alice", {"blog.article": ["read"]})
    refused = await browser.post(ACCOUNT, {"language": "fr"}, xsrf=False)
    assert refused.code == 403
    user = await site.User.get_by_username("alice", db=site.db)
    assert not user.language
