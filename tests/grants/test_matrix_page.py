"""``/admin/accounts/matrix/``: the permission matrix page and its CSV, gated by
``accounts.user: read``, agreeing with the engine."""
import csv
import io

from core.permissions import Permissions

from apps.accounts.permtable import reach_text, sources_text

AUTHORS = {"blog.article": ["delete:own", "read", "write:own"]}


async def setup_people(site):
    Role = site.model("accounts.role")
    await Role.create(name="authors", permissions=AUTHORS, db=site.db)
    ed = await site.create_user("ed", {"blog.category": ["read@2999-01-01T00:00Z"]},
                                roles=["authors"])
    return ed


async def test_the_csv_is_what_the_engine_answers(site):
    ed = await setup_people(site)
    await site.create_user("root", is_superuser=True)
    browser = site.browser()
    await browser.login("root")
    page = await browser.get("/admin/accounts/matrix/?model=blog.article")
    assert page.code == 200 and "role:authors (scope own)" in page.text
    reply = await browser.get("/admin/accounts/matrix/?model=blog.article&format=csv")
    assert reply.code == 200 and reply.headers["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(reply.text)))
    perms = Permissions(ed, {"authors": AUTHORS}, site.app.registry)
    expected = [["user", "ed", row["model"], row["action"], reach_text(row["reach"]),
                 sources_text(row["sources"])]
                for row in perms.grant_table() if row["model"] == "blog.article"]
    assert [r for r in table[1:] if r[:2] == ["user", "ed"]] == expected
    assert ["role", "authors", "blog.article", "delete", "own", "role:authors (scope own)"] \
        in table
    assert all(r[2] == "blog.article" for r in table[1:])
    assert ["user", "root", "blog.article", "delete", "all", "superuser"] in table
    only_ed = list(csv.reader(io.StringIO(
        (await browser.get("/admin/accounts/matrix/?user=ed&format=csv")).text)))
    assert {r[1] for r in only_ed[1:]} == {"ed"} and len(only_ed) == 5


async def test_the_page_needs_read_on_users_and_shows_roles_only_to_role_readers(site):
    await setup_people(site)
    await site.create_user("nosy", {"blog.article": ["read"]})
    await site.create_user("hr", {"accounts.user": ["read"]})
    nosy, hr = site.browser(), site.browser()
    await nosy.login("nosy")
    await hr.login("hr")
    assert (await nosy.get("/admin/accounts/matrix/")).code == 403
    assert (await nosy.get("/admin/accounts/matrix/?format=csv")).code == 403
    table = list(csv.reader(io.StringIO(
        (await hr.get("/admin/accounts/matrix/?format=csv")).text)))
    assert table[1:] and {r[0] for r in table[1:]} == {"user"}
    assert (await hr.get("/admin/accounts/matrix/?model=nope.nope")).code == 400
