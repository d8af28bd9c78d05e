"""Live events name no field hidden from the socket's user, and reach a scoped reader only
for objects in their scope (``/admin/live``, a real WebSocket on a served site)."""
from support import BLOG_APPS, make_settings, serving
from support.api import ApiSite
from support.live import LiveClient

FAST_LIVE = dict(LIVE_RECHECK_SECONDS=0.3, LIVE_FEED_INTERVAL=0.05)


async def test_events_drop_hidden_field_names_and_unreachable_objects(tmp_path):
    async with serving(ApiSite, shutdown_first=True) as servers:
        site = await servers.serve(make_settings(tmp_path, BLOG_APPS, **FAST_LIVE))
        root = await site.token_client("root", is_superuser=True)
        sam = await site.create_user("sam", {"blog.article": ["read:own", "-read:body"]})
        Article = site.model("blog.article")
        mine = await Article.create(title="Mine", author=sam.id, db=site.db)
        theirs = await Article.create(title="Theirs", author=root.user.id, db=site.db)
        browser = site.browser()
        await browser.login("sam")
        client = await LiveClient.connect(site.port, browser.cookies)
        try:
            assert (await client.subscribe("blog.article"))["type"] == "subscribed"
            for article in (theirs, mine):
                reply = await root.patch(f"/api/blog/article/{article.id}",
                                         {"title": f"{article.title} 2", "body": "secret"})
                assert reply.code == 200
            event = await client.event(model="blog.article")
            assert event["id"] == str(mine.id)            # theirs is beyond read:own
            assert event["fields"] == ["title", "updated"]    # body is hidden from sam
            assert "secret" not in str(event)
        finally:
            client.close()


async def test_an_events_label_never_shows_a_hidden_field(tmp_path):
    """The label an event carries was recorded from ``__str__`` (the title): a user who may
    not read the title gets ``"Article <id>"`` instead."""
    async with serving(ApiSite, shutdown_first=True) as servers:
        site = await servers.serve(make_settings(tmp_path, BLOG_APPS, **FAST_LIVE))
        root = await site.token_client("root", is_superuser=True)
        await site.create_user("sam", {"blog.article": ["read", "-read:title"]})
        await site.create_user("val", {"blog.article": ["read"]})
        article = await site.model("blog.article").create(title="Quokka", db=site.db)
        clients = {}
        for name in ("sam", "val"):
            browser = site.browser()
            await browser.login(name)
            clients[name] = await LiveClient.connect(site.port, browser.cookies)
        try:
            for client in clients.values():
                assert (await client.subscribe("blog.article"))["type"] == "subscribed"
            reply = await root.patch(f"/api/blog/article/{article.id}", {"title": "Quokka 2"})
            assert reply.code == 200
            hidden = await clients["sam"].event(model="blog.article")
            shown = await clients["val"].event(model="blog.article")
            assert shown["label"] == "Quokka 2"
            assert hidden["label"] == f"Article {article.id}" and "Quokka" not in str(hidden)
        finally:
            for client in clients.values():
                client.close()
