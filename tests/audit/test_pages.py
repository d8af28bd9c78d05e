"""The history page and the audit log in the admin, over HTTP on a live server."""
import re

from core.audit import REDACTED, record
from support.pages import text_of

BOXES = "/admin/vault/box/"
LOG = "/admin/audit/entry/"
TOKEN = "tok-live-7f3a9c"


def box_form(**values):
    form = {"name": "Blue box", "api_token": "", "notes": "", "size": "1", "owner": ""}
    form.update(values)
    return form


def history_rows(html):
    """``[(action, actor, {field: (before, after)})]`` of a history page, newest first."""
    rows = []
    for item in re.findall(r'<li class="audit-entry"(.*?)</li>', html, re.S):
        action = re.search(r'data-action="([^"]+)"', item).group(1)
        actor = text_of(re.search(r'<span class="actor">(.*?)</span>', item, re.S).group(1))
        fields = {name: (text_of(before), text_of(after)) for name, before, after in
                  re.findall(r'<tr data-field="([^"]+)">.*?<td class="before">(.*?)</td>\s*'
                             r'<td class="after">(.*?)</td>', item, re.S)}
        rows.append((action, actor, fields))
    return rows


async def test_admin_writes_show_on_the_history_page_newest_first(site):
    editor = await site.user_browser("erin", {"vault.box": ["read", "write"]})
    response = await editor.post(BOXES + "add/", box_form(api_token=TOKEN))
    assert response.code == 303, response.text[:500]
    box = await site.model("vault.box").find_one({"name": "Blue box"}, db=site.db)
    response = await editor.post(f"{BOXES}{box.id}/change/",
                                 box_form(name="Red box", size="2", api_token=TOKEN + "-2",
                                          _version="1"))
    assert response.code == 303, response.text[:500]

    page = await editor.get(f"{BOXES}{box.id}/history/")
    assert page.code == 200
    rows = history_rows(page.text)
    assert [(action, actor) for action, actor, _ in rows] == [
        ("update", "erin"), ("create", "erin")]
    assert rows[0][2]["name"] == ("Blue box", "Red box")
    assert rows[0][2]["size"] == ("1", "2")
    # a secret's change is shown masked, or not at all — never its value
    assert rows[0][2].get("api_token", (REDACTED, REDACTED)) == (REDACTED, REDACTED)
    assert rows[1][2]["name"] == ("—", "Blue box")
    assert TOKEN not in page.text
    stored = await site.entries(model_key="vault.box", object_id=str(box.id))
    assert [e["action"] for e in stored] == ["create", "update"]
    assert all(e["ip"] == "127.0.0.1" for e in stored)
    assert not any(TOKEN in repr(e) for e in await site.entries())


async def test_the_detail_page_links_to_the_history(site):
    reader = await site.user_browser("rita", {"vault.box": ["read"]})
    box = await site.model("vault.box").create(name="Box", db=site.db)
    page = await reader.get(f"{BOXES}{box.id}/")
    assert page.code == 200 and f'href="{BOXES}{box.id}/history/"' in page.text


async def test_history_needs_read_and_a_good_id(site):
    box = await site.model("vault.box").create(name="Box", db=site.db)
    await record(action="update", model_key="vault.box", object_id=str(box.id),
                 changes={"name": {"before": "Old", "after": "Box"}}, db=site.db)
    url = f"{BOXES}{box.id}/history/"

    anonymous = await site.browser().get(url)
    assert anonymous.code == 302 and anonymous.location.startswith("/admin/login/")
    outsider = await site.user_browser("otto", {"audit.entry": ["read"]})
    denied = await outsider.get(url)
    assert denied.code == 403 and "Old" not in denied.text

    reader = await site.user_browser("rita", {"vault.box": ["read"]})
    assert (await reader.get(url)).code == 200
    assert (await reader.get(f"{BOXES}not-an-id/history/")).code == 404
    assert (await reader.get(f"{BOXES}0123456789abcdef01234567/history/")).code == 404
    assert (await reader.get(f"/admin/vault/nothing/{box.id}/history/")).code == 404
    as_json = await reader.get(url, headers={"Accept": "application/json"})
    assert as_json.code == 200
    assert [e["changes"] for e in as_json.json()["entries"]] == [
        {"name": {"before": "Old", "after": "Box"}}]


async def test_the_object_rule_applies_to_the_history(site):
    theirs = await site.model("vault.box").create(name="Theirs", owner="someone", db=site.db)
    reader = await site.user_browser("rita", {"vault.box": ["read"]})
    assert (await reader.get(f"{BOXES}{theirs.id}/history/")).code == 403


async def test_a_deleted_objects_history_stays_readable(site):
    editor = await site.user_browser("dora", {"vault.box": ["read", "write", "delete"]})
    box = await site.model("vault.box").create(name="Doomed", api_token=TOKEN, db=site.db)
    response = await editor.post(f"{BOXES}{box.id}/delete/")
    assert response.code == 303
    assert await site.model("vault.box").get(box.id, db=site.db) is None
    page = await editor.get(f"{BOXES}{box.id}/history/")
    assert page.code == 200 and "no longer exists" in page.text
    [(action, actor, fields)] = history_rows(page.text)
    assert (action, actor) == ("delete", "dora")
    assert fields["name"] == ("Doomed", "—")
    assert TOKEN not in page.text


# -- the audit log in the admin ---------------------------------------------------------------

async def test_the_log_is_listed_for_readers_and_refused_to_others(site):
    entry = await record(action="update", actor="someone", model_key="vault.box",
                         object_id="x", object_label="The box", db=site.db)
    reader = await site.user_browser("ada", {"audit.entry": ["read"]})
    listing = await reader.get(LOG)
    assert listing.code == 200
    assert f'data-id="{entry.id}"' in listing.text and "The box" in listing.text
    filtered = await reader.get(LOG + "?action=login")
    assert filtered.code == 200 and f'data-id="{entry.id}"' not in filtered.text
    searched = await reader.get(LOG + "?q=box")
    assert f'data-id="{entry.id}"' in searched.text
    assert (await reader.get(f"{LOG}{entry.id}/")).code == 200

    other = await site.user_browser("bo", {"vault.box": ["read", "write", "delete"]})
    assert (await other.get(LOG)).code == 403
    assert (await other.get(f"{LOG}{entry.id}/")).code == 403


async def test_nobody_may_add_change_or_delete_entries_not_even_a_superuser(site):
    entry = await record(action="login", actor="alice", db=site.db)
    before = await site.entries()
    root = await site.user_browser("root", is_superuser=True)
    listing = await root.get(LOG)
    assert listing.code == 200
    assert f"{LOG}{entry.id}/change/" not in listing.text
    assert f"{LOG}add/" not in listing.text
    assert 'name="action"' not in listing.text                   # no bulk actions offered
    detail = await root.get(f"{LOG}{entry.id}/")
    assert detail.code == 200
    assert "/change/" not in detail.text and "/delete/" not in detail.text
    for path in (f"{LOG}add/", f"{LOG}{entry.id}/change/", f"{LOG}{entry.id}/delete/"):
        assert (await root.get(path)).code == 403, path
    assert (await root.post(f"{LOG}{entry.id}/change/", {"actor": "mallory",
                                                         "_version": "1"})).code == 403
    assert (await root.post(f"{LOG}{entry.id}/delete/")).code == 403
    assert (await root.post(LOG + "add/", {"action": "login", "actor": "x"})).code == 403
    bulk = await root.post(LOG, {"action": "delete_selected", "_selected": str(entry.id),
                                 "post": "yes"})
    assert bulk.code in (400, 403)
    after = await site.entries()
    assert after[:len(before)] == before                          # nothing changed or lost
    assert not [e for e in after if e["action"] in ("update", "delete", "create")]


async def test_a_stale_save_says_who_changed_the_object_and_when(site):
    box = await site.model("vault.box").create(name="Shared", db=site.db)
    mine = await site.user_browser("ann", {"vault.box": ["read", "write"]})
    theirs = await site.user_browser("bob", {"vault.box": ["read", "write"]})
    form = await mine.get(f"{BOXES}{box.id}/change/")
    assert 'name="_version" value="1"' in form.text
    saved = await theirs.post(f"{BOXES}{box.id}/change/",
                              box_form(name="Bob's edit", _version="1"))
    assert saved.code == 303
    [entry] = await site.entries(action="update")
    stale = await mine.post(f"{BOXES}{box.id}/change/", box_form(name="Ann's edit",
                                                                 _version="1"))
    assert stale.code == 409
    assert '<strong class="conflict-who">bob</strong>' in stale.text
    assert entry["at"].strftime("%Y-%m-%d %H:%M") in stale.text
    assert len(await site.entries(action="update")) == 1          # the lost save: no entry
