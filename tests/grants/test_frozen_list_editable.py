"""The list's editable columns (``list_editable``) never write a field the user may not
write (``-write:FIELD``) or see (``-read:FIELD``): the column is plain text, and a posted
value for it — or a checkbox left out, which would mean "off" — changes nothing."""
from support import make_settings, serving
from support.api import ApiSite

APPS = ["core.audit", "apps.accounts", "desk_demo"]


async def test_a_list_save_leaves_frozen_and_hidden_fields_alone(tmp_path):
    async with serving(ApiSite) as servers:
        site = await servers.serve(make_settings(tmp_path, APPS))
        await site.create_user("cleo", {"desk.post": ["read", "write", "-write:live",
                                                      "-read:score"]})
        Post = site.model("desk.post")
        post = await Post.create(title="Post", kind="news", live=True, score=5, db=site.db)
        browser = site.browser()
        await browser.login("cleo")
        page = await browser.get("/admin/desk/post/")
        assert page.code == 200 and f'name="{post.id}-kind"' in page.text
        assert f'name="{post.id}-live"' not in page.text
        assert f'name="{post.id}-score"' not in page.text
        saved = await browser.post("/admin/desk/post/", {
            "_save_list": "1", "_list_id": str(post.id), f"{post.id}-_version": "1",
            f"{post.id}-kind": "howto", f"{post.id}-score": "999"})    # live left out: "off"
        assert saved.code == 303
        stored = await Post.get(post.id, db=site.db)
        assert (stored.kind, stored.live, stored.score) == ("howto", True, 5)
