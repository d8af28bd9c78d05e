"""Issue 14's "Done when", end to end: an operator grants through ``manage.py`` commands
on an embedded database file and a site served on the SAME database file enforces it at
once, without a restart. The commands run in this process (``Manage``: the command's
``handle``, as ``manage.py`` calls it); (a) also runs ``grant`` and ``whocan`` as real
``manage.py`` subprocesses.

(a) ``editors`` hold ``blog.article: read, write:own, delete:own``: an editor sees every
    article and edits or deletes only their own on the pages, the bulk action and the
    API; ``whocan blog.article delete`` names each holder and why; the matrix page shows
    the same and its CSV agrees.
(b) ``support`` reads ``shop.customer`` without ``notes``: no route hands them out.
(c) a grant ``--until`` two seconds ahead works, then stops working on the same server.
"""
import asyncio
import csv
import datetime
import io
import json
import shlex
import sys

import pytest

from support import make_settings, serving
from support.api import ApiSite
from support.live import LiveClient
from support.pages import row_ids

PASSWORD = "plum-harbour-velvet"
APPS = ["core.audit", "apps.accounts", "apps.blog", "apps.shop"]
FAST_LIVE = dict(LIVE_RECHECK_SECONDS=0.3, LIVE_FEED_INTERVAL=0.05)
NOTES = "NOTES-SECRET-7f3a"


class Manage:
    """``manage.py <command>`` in this process, on ``settings``: ``ok(line)`` runs it and
    returns its standard output (a failing command fails the test)."""

    def __init__(self, settings):
        from core.management import discover_commands
        from core.registry import Registry
        self.settings = settings
        self.registry = Registry(settings).load()
        self.commands = discover_commands(self.registry)

    async def ok(self, line, input=None):
        name, *argv = shlex.split(line)
        out, err = io.StringIO(), io.StringIO()
        command = self.commands[name].command_class(
            settings=self.settings, registry=self.registry, stdout=out, stderr=err,
            commands=self.commands)
        args = command.create_parser(f"manage.py {name}").parse_args(argv)
        stdin, sys.stdin = sys.stdin, io.StringIO(input or "")   # --password-stdin reads it
        try:
            result = command.handle(args)
            if asyncio.iscoroutine(result):
                result = await result
        finally:
            sys.stdin = stdin
        assert result in (None, 0), (line, err.getvalue())
        return out.getvalue()

    async def make_user(self, name):
        await self.ok(f"createuser {name} --email {name}@example.com --password-stdin",
                      input=PASSWORD + "\n")


@pytest.fixture
async def shared(cli, tmp_path):
    """The ``manage.py`` subprocess runner, the in-process one and a site served on their
    database file."""
    async with serving(ApiSite, shutdown_first=True) as servers:
        settings = make_settings(tmp_path / "site", APPS, DATABASE_URL=cli.db_url, **FAST_LIVE)
        manage = Manage(settings)
        site = await servers.serve(settings)
        await manage.ok("createsuperuser --username root --email root@example.com "
                        "--password-stdin", input=PASSWORD + "\n")
        yield cli, manage, site


async def login(site, username):
    browser = site.browser()
    assert (await browser.login(username, password=PASSWORD)).code == 303
    return browser


async def token(site, username):
    from core.auth.tokens import TokenStore
    from support.api import Client
    user = await site.model("accounts.user").find_one({"username": username}, db=site.db)
    raw, _ = await TokenStore(site.db).create(user.id, name="test")
    return user, Client(site, token=raw)


async def test_a_editors_edit_and_delete_only_their_own_and_whocan_and_the_matrix_agree(shared):
    cli, manage, site = shared
    await manage.ok("createrole editors")
    assert cli.ok("grant", "--role", "editors", "blog.article", "read", "write:own",
                  "delete:own").stdout == \
        "role editors: blog.article: delete:own, read, write:own\n"
    for name in ("ed", "olga"):
        await manage.make_user(name)
        await manage.ok(f"assignrole {name} editors")
    await manage.make_user("reader")
    await manage.ok("grant reader blog.article read")
    ed, api = await token(site, "ed")
    olga, _ = await token(site, "olga")
    Article = site.model("blog.article")

    async def article(author, title):
        return await Article.create(title=title, author=author.id, db=site.db)

    mine, theirs = await article(ed, "Ed's"), await article(olga, "Olga's")
    browser = await login(site, "ed")
    # sees all
    assert set(row_ids((await browser.get("/admin/blog/article/")).text)) == \
        {str(mine.id), str(theirs.id)}
    listed = await api.get("/api/blog/article/")
    assert listed.json["count"] == 2
    # pages: edits and deletes only their own
    assert (await browser.get(f"/admin/blog/article/{mine.id}/change/")).code == 200
    for path in (f"{theirs.id}/change/", f"{theirs.id}/delete/"):
        assert (await browser.get(f"/admin/blog/article/{path}")).code == 403
        assert (await browser.post(f"/admin/blog/article/{path}", {"title": "Taken"})).code \
            == 403
    # the API
    assert (await api.patch(f"/api/blog/article/{mine.id}", {"title": "Ed's 2"})).code == 200
    assert (await api.patch(f"/api/blog/article/{theirs.id}", {"title": "Taken"})).code == 403
    assert (await api.delete(f"/api/blog/article/{theirs.id}")).code == 403
    assert (await Article.get(theirs.id, db=site.db)).title == "Olga's"
    # bulk: the selected foreign article is skipped, the own one deleted
    done = await browser.post("/admin/blog/article/", {
        "action": "delete_selected", "post": "yes",
        "_selected_action": [str(mine.id), str(theirs.id)]})
    assert done.code == 303
    assert await Article.get(mine.id, db=site.db) is None
    assert await Article.get(theirs.id, db=site.db) is not None
    mine = await article(ed, "Ed's again")
    assert (await api.delete(f"/api/blog/article/{mine.id}")).code == 204

    # whocan names each holder and why
    who = json.loads(cli.ok("whocan", "blog.article", "delete", "--json").stdout)
    holders = {u["username"]: (u["reach"], u["sources"]) for u in who["users"]}
    own = [{"source": "role:editors", "scope": "own", "until": None}]
    assert holders == {"ed": (["own"], own), "olga": (["own"], own),
                       "root": ("all", [{"source": "superuser", "scope": None,
                                         "until": None}])}
    text = await manage.ok("whocan blog.article delete")
    assert "role:editors (scope own)" in text and "reader" not in text

    # the matrix page shows the same; its CSV agrees with whocan
    rooted = await login(site, "root")
    page = await rooted.get("/admin/accounts/matrix/?model=blog.article")
    assert page.code == 200 and "role:editors (scope own)" in page.text
    reply = await rooted.get("/admin/accounts/matrix/?model=blog.article&format=csv")
    table = list(csv.reader(io.StringIO(reply.text)))
    deleters = {row[1]: row[4] for row in table[1:]
                if row[0] == "user" and row[2] == "blog.article" and row[3] == "delete"}
    assert deleters == {"ed": "own", "olga": "own", "root": "all"}
    assert ["role", "editors", "blog.article", "delete", "own", "role:editors (scope own)"] \
        in table


async def test_b_support_reads_customers_without_ever_receiving_their_notes(shared):
    _, manage, site = shared
    await manage.ok("createrole support")
    await manage.ok("grant --role support shop.customer read export --hide notes")
    await manage.ok("grant --role support shop.order read")
    await manage.ok("grant --role support audit.entry read")
    await manage.make_user("sam")
    await manage.ok("assignrole sam support")
    root, root_api = await token(site, "root")
    sam, api = await token(site, "sam")
    created = await root_api.post("/api/shop/customer/", {
        "name": "Quinn", "email": "quinn@example.com", "notes": {"said": NOTES}})
    assert created.code == 201, created
    customer = created.json["id"]
    browser = await login(site, "sam")
    live = await LiveClient.connect(site.port, browser.cookies)
    try:
        assert (await live.subscribe("shop.customer"))["type"] == "subscribed"
        changed = await root_api.patch(f"/api/shop/customer/{customer}",
                                       {"notes": {"said": NOTES + " again"}, "name": "Quinn 2"})
        assert changed.code == 200
        event = await live.event(model="shop.customer")
        assert "notes" not in event["fields"] and NOTES not in json.dumps(event)
    finally:
        live.close()
    json_accept = {"Accept": "application/json"}
    replies = {
        "list": await browser.get("/admin/shop/customer/"),
        "detail": await browser.get(f"/admin/shop/customer/{customer}/"),
        "history": await browser.get(f"/admin/shop/customer/{customer}/history/"),
        "history json": await browser.get(f"/admin/shop/customer/{customer}/history/",
                                          headers=json_accept),
        "export csv": await browser.get("/admin/shop/customer/export/?format=csv"),
        "export jsonl": await browser.get("/admin/shop/customer/export/?format=jsonl"),
        "autocomplete": await browser.get("/admin/shop/customer/autocomplete/?q=quinn",
                                          headers=json_accept),
        "audit page": await browser.get("/admin/audit/entry/"),
        "api list": await api.get("/api/shop/customer/"),
        "api detail": await api.get(f"/api/shop/customer/{customer}"),
        "api audit": await api.get("/api/audit/entry/?model_key=shop.customer"),
        "openapi": await api.get("/api/openapi.json"),
    }
    for name, reply in replies.items():
        assert reply.code == 200, (name, reply.code)
        assert NOTES not in reply.text, name
    assert "notes" not in replies["api detail"].json
    assert all("notes" not in row for row in replies["api list"].json["results"])
    schema = replies["openapi"].json["components"]["schemas"]["shop_customer"]
    assert "name" in schema["properties"] and "notes" not in schema["properties"]
    assert "notes" not in replies["export csv"].text.splitlines()[0].split(",")
    assert str(customer) in replies["export csv"].text           # the row is there
    entries = replies["api audit"].json["results"]
    assert entries and all("notes" not in (e["changes"] or {}) for e in entries)
    # a write through the API may not name it either (read-only: no write grant at all)
    assert (await api.patch(f"/api/shop/customer/{customer}", {"notes": {}})).code == 403
    stored = await site.model("shop.customer").get(
        __import__("bson").ObjectId(customer), db=site.db)
    assert stored.notes == {"said": NOTES + " again"}


async def test_c_a_grant_until_two_seconds_ahead_stops_on_the_running_server(shared):
    _, manage, site = shared
    await manage.make_user("tim")
    soon = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + \
        datetime.timedelta(seconds=6)   # room for two CLI runs and a login
    stamp = soon.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert await manage.ok(f"grant tim blog.article read --until {stamp}") == \
        f"tim: blog.article: read@{stamp}\n"
    _, api = await token(site, "tim")
    browser = await login(site, "tim")
    assert datetime.datetime.now(datetime.timezone.utc) < soon, "the CLI took too long"
    assert (await api.get("/api/blog/article/")).code == 200
    assert (await browser.get("/admin/blog/article/")).code == 200
    while datetime.datetime.now(datetime.timezone.utc) < soon:
        await asyncio.sleep(0.1)
    assert (await api.get("/api/blog/article/")).code == 403
    assert (await browser.get("/admin/blog/article/")).code == 403
    perms = json.loads(await manage.ok("perms tim --json"))
    assert perms["effective"] == {} and perms["expired"] == {
        "blog.article": [{"entry": f"read@{stamp}", "source": "user"}]}
