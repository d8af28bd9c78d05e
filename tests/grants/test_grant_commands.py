"""``grant`` with scopes, field restrictions and ``--until``; ``perms`` showing expired grants;
``whocan``, ``permmatrix`` and ``sweepgrants`` — through ``manage.py`` in a subprocess.

The exports are checked against the engine: the rows ``permmatrix --format json`` prints
are rebuilt here from ``Permissions`` on the stored users and roles.
"""
import csv
import io
import json

from core.db import connect
from core.permissions import Permissions
from core.registry import Registry

PASSWORD = "plum-harbour-velvet"


def make_user(cli, name, *extra):
    cli.ok("createuser", name, "--email", f"{name}@example.com", "--password-stdin", *extra,
           input=PASSWORD + "\n")


def fails(cli, *args):
    result = cli(*args)
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


async def stored(cli, collection, name_field, name):
    db = connect(cli.db_url)
    try:
        return await db[collection].find_one({name_field: name})
    finally:
        await db.close()


async def test_scoped_and_field_grants_and_their_refusals(cli):
    make_user(cli, "alice")
    assert cli.ok("grant", "alice", "blog.article", "read", "write:own", "--hide", "body",
                  "--freeze", "title").stdout == \
        "alice: blog.article: -read:body, -write:title, read, write:own\n"
    before = await stored(cli, "accounts_user", "username", "alice")
    assert fails(cli, "grant", "alice", "blog.article", "write:team") == \
        "error: model blog.article has no scope 'team' (its scopes: own)"
    assert fails(cli, "grant", "alice", "blog.category", "write:own") == \
        "error: model blog.category has no scope 'own' (its scopes: none)"
    assert fails(cli, "grant", "alice", "blog.article", "--hide", "nope") == \
        "error: model blog.article has no field 'nope'"
    assert fails(cli, "grant", "alice", "blog.article", "read", "--until", "Friday").startswith(
        "error: --until: 'Friday' is not a time")
    assert await stored(cli, "accounts_user", "username", "alice") == before


async def test_until_expires_shows_expired_and_the_sweep_removes_and_audits_it(cli):
    make_user(cli, "bob")
    assert cli.ok("grant", "bob", "blog.article", "read", "--until", "2020-01-01T10:00").stdout \
        == "bob: blog.article: read@2020-01-01T10:00Z\n"
    cli.ok("grant", "bob", "blog.category", "read", "--until", "2999-01-01T10:00+02:00")
    perms = json.loads(cli.ok("perms", "bob", "--json").stdout)
    assert perms["effective"] == {"blog.category": ["read"]}
    assert perms["sources"] == {"blog.category": {"read": ["user (until 2999-01-01T08:00Z)"]}}
    assert perms["expired"] == {"blog.article": [{"entry": "read@2020-01-01T10:00Z",
                                                  "source": "user"}]}
    assert "expired: blog.article: read@2020-01-01T10:00Z (user)" in cli.ok("perms", "bob").stdout
    dry = json.loads(cli.ok("sweepgrants", "--dry-run", "--json").stdout)
    assert dry == {"dry_run": True, "swept": [
        {"kind": "user", "name": "bob", "removed": {"blog.article": ["read@2020-01-01T10:00Z"]}}]}
    kept = (await stored(cli, "accounts_user", "username", "bob"))["permissions"]
    assert kept["blog"]["article"] == ["read@2020-01-01T10:00Z"]
    assert cli.ok("sweepgrants").stdout.endswith("removed 1 expired grant\n")
    doc = await stored(cli, "accounts_user", "username", "bob")
    assert doc["permissions"] == {"blog": {"category": ["read@2999-01-01T08:00Z"]}}
    entry = await stored(cli, "audit_log", "detail", "manage.py sweepgrants")
    assert entry["action"] == "permission_change" and entry["object_label"] == "bob"
    # granting again replaces the expiry; revoking an action removes it whatever its expiry
    assert cli.ok("grant", "bob", "blog.category", "read").stdout == \
        "bob: blog.category: read\n"
    assert cli.ok("revoke", "bob", "blog.category", "read").stdout == \
        "bob: blog.category: nothing\n"


async def test_whocan_lists_holders_with_their_sources(cli):
    cli.ok("createsuperuser", "--username", "root", "--email", "root@example.com",
           "--password-stdin", input=PASSWORD + "\n")
    make_user(cli, "ed")
    make_user(cli, "nobody")
    cli.ok("createrole", "authors")
    cli.ok("grant", "--role", "authors", "blog.article", "read", "write:own", "delete:own")
    cli.ok("assignrole", "ed", "authors")
    cli.ok("grant", "ed", "blog.article", "delete", "--until", "2999-01-01T00:00")
    data = json.loads(cli.ok("whocan", "blog.article", "delete", "--json").stdout)
    assert data == {"model": "blog.article", "action": "delete", "users": [
        {"username": "ed", "reach": "all", "sources": [
            {"source": "user", "scope": None, "until": "2999-01-01T00:00Z"},
            {"source": "role:authors", "scope": "own", "until": None}]},
        {"username": "root", "reach": "all", "sources": [
            {"source": "superuser", "scope": None, "until": None}]}]}
    text = cli.ok("whocan", "blog.article", "delete").stdout
    assert "ed    all: user (until 2999-01-01T00:00Z); role:authors (scope own)" in text
    assert fails(cli, "whocan", "blog.article", "fly").startswith(
        "error: model blog.article has no action 'fly'")
    assert cli("whocan", "blog.article").returncode == 2


async def test_permmatrix_exports_what_the_engine_answers(cli):
    make_user(cli, "ed")
    make_user(cli, "gone")
    cli.ok("deactivate", "gone")
    cli.ok("createrole", "authors")
    cli.ok("grant", "--role", "authors", "blog.article", "read", "write:own", "delete:own")
    cli.ok("assignrole", "ed", "authors")
    cli.ok("grant", "ed", "blog.category", "read", "--until", "2999-01-01T00:00")
    rows = json.loads(cli.ok("permmatrix", "--format", "json").stdout)

    # the same rows, from the engine on the stored documents
    from support import BLOG_APPS, make_settings
    import tempfile
    from pathlib import Path
    registry = Registry(make_settings(Path(tempfile.mkdtemp()), BLOG_APPS)).load()
    db = connect(cli.db_url)
    try:
        User, Role = registry.get_model("accounts.user"), registry.get_model("accounts.role")
        roles = {r.name: r.permissions for r in await Role.find({}, db=db).to_list(None)}
        expected = []
        for user in await User.find({}, sort=["username"], db=db).to_list(None):
            perms = Permissions(user, roles, registry)
            expected += [{"kind": "user", "name": user.username, **row}
                         for row in perms.grant_table()]
        for name, grants in sorted(roles.items()):
            perms = Permissions({"roles": [name]}, roles, registry)
            expected += [{"kind": "role", "name": name, **row} for row in perms.grant_table()]
    finally:
        await db.close()
    assert rows == expected
    assert {(r["name"], r["model"], r["action"]) for r in rows if r["kind"] == "user"} == {
        ("ed", "blog.article", "read"), ("ed", "blog.article", "write"),
        ("ed", "blog.article", "delete"), ("ed", "blog.category", "read")}

    table = list(csv.reader(io.StringIO(cli.ok("permmatrix").stdout)))
    assert table[0] == ["kind", "name", "model", "action", "reach", "sources"]
    assert ["user", "ed", "blog.article", "delete", "own", "role:authors (scope own)"] in table
    assert len(table) == len(rows) + 1
    roles_only = cli.ok("permmatrix", "--role-only", "--format", "md").stdout.splitlines()
    assert roles_only[0] == "| kind | name | model | action | reach | sources |"
    assert "| role | authors | blog.article | write | own | role:authors (scope own) |" \
        in roles_only and not any("| user |" in line for line in roles_only)
