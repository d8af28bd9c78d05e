"""API tokens: made, listed and revoked with ``manage.py`` (a subprocess on the server's
embedded database), used over HTTP; expiry, revocation, hashing, last_used_at."""
import datetime
import hashlib
import json

from core.auth.tokens import TOKENS_COLLECTION, TokenStore

ARTICLES = "/api/blog/article/"


def token_from(result):
    assert result.returncode == 0, (result.stdout, result.stderr)
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("bst_") and len(token) > 40
    return token


def bearer(site, token):
    from support.api import Client
    return Client(site, token=token)


async def test_createtoken_prints_once_stores_only_the_hash(cli_site):
    site = cli_site
    await site.create_user("alice", {"blog.article": ["read"]})
    token = token_from(site.cli("createtoken", "alice", "--name", "ci"))
    docs = await site.db[TOKENS_COLLECTION].find({}).to_list(None)
    assert len(docs) == 1 and docs[0]["name"] == "ci" and docs[0]["expires_at"] is None
    assert docs[0]["key"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(docs, default=str)
    listing = site.cli("tokens", "alice", "--json")
    assert listing.returncode == 0, listing.stderr
    rows = json.loads(listing.stdout)
    assert [(r["name"], r["username"], r["expired"]) for r in rows] == [("ci", "alice", False)]
    assert token not in listing.stdout and token not in site.cli("tokens").stdout
    assert token not in json.dumps(rows) and docs[0]["key"] not in listing.stdout

    reply = await bearer(site, token).get(ARTICLES)
    assert reply.code == 200, reply
    rows = json.loads(site.cli("tokens", "--json").stdout)
    assert rows[0]["last_used_at"] is not None


async def test_createtoken_errors(cli_site):
    site = cli_site
    await site.create_user("bob")
    result = site.cli("createtoken", "nobody")
    assert result.returncode == 1 and result.stderr.startswith("error: unknown user")
    assert site.cli("createtoken", "bob", "--expires", "0").returncode == 2
    assert site.cli("createtoken", "bob", "--expires", "soon").returncode == 2
    token_from(site.cli("createtoken", "bob", "--name", "dup"))
    result = site.cli("createtoken", "bob", "--name", "dup")
    assert result.returncode == 1 and "already has a token named" in result.stderr
    assert await site.db[TOKENS_COLLECTION].count_documents({}) == 1


async def test_expired_token_is_401(cli_site):
    site = cli_site
    await site.create_user("carol", {"blog.article": ["read"]})
    token = token_from(site.cli("createtoken", "carol", "--expires", "1"))
    row = json.loads(site.cli("tokens", "carol", "--json").stdout)[0]
    expires = datetime.datetime.fromisoformat(row["expires_at"])
    now = datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(hours=23) < expires - now <= datetime.timedelta(days=1)
    client = bearer(site, token)
    assert (await client.get(ARTICLES)).code == 200
    await site.db[TOKENS_COLLECTION].update_one(
        {"name": row["name"]}, {"$set": {"expires_at": now - datetime.timedelta(seconds=1)}})
    reply = await client.get(ARTICLES)
    assert reply.code == 401 and "expired" in reply.json["error"]
    assert json.loads(site.cli("tokens", "--json").stdout)[0]["expired"] is True


async def test_revoked_token_is_401_at_once(cli_site):
    site = cli_site
    await site.create_user("dave", {"blog.article": ["read", "write"]})
    token = token_from(site.cli("createtoken", "dave", "--name", "laptop"))
    keep = token_from(site.cli("createtoken", "dave", "--name", "ci"))
    client = bearer(site, token)
    assert (await client.post(ARTICLES, {"title": "Before"})).code == 201
    result = site.cli("revoketoken", "laptop")
    assert result.returncode == 0 and "revoked token laptop" in result.stdout
    reply = await client.post(ARTICLES, {"title": "After"})
    assert reply.code == 401
    assert (await client.get(ARTICLES)).code == 401
    assert (await bearer(site, keep).get(ARTICLES)).code == 200      # the other one works
    assert await site.model("blog.article").count({}, db=site.db) == 1
    # by id too; an unknown one is an error
    row = json.loads(site.cli("tokens", "--json").stdout)[0]
    assert site.cli("revoketoken", row["id"]).returncode == 0
    assert (await bearer(site, keep).get(ARTICLES)).code == 401
    result = site.cli("revoketoken", "laptop")
    assert result.returncode == 1 and result.stderr.strip() == "error: no token 'laptop'"
    entries = await site.audit_entries(action="token_revoke")
    assert len(entries) == 2 and entries[0].actor == "manage.py"


async def test_revoking_an_ambiguous_name_needs_the_user(cli_site):
    site = cli_site
    await site.create_user("erin")
    await site.create_user("fred")
    token_from(site.cli("createtoken", "erin", "--name", "ci"))
    fred = token_from(site.cli("createtoken", "fred", "--name", "ci"))
    result = site.cli("revoketoken", "ci")
    assert result.returncode == 1 and "give the id or --user" in result.stderr
    assert site.cli("revoketoken", "ci", "--user", "erin").returncode == 0
    names = [(r["username"], r["name"]) for r in json.loads(site.cli("tokens", "--json").stdout)]
    assert names == [("fred", "ci")]
    assert fred


async def test_last_used_at_is_touched_at_most_once_a_minute(site):
    user = await site.create_user("gina")
    store = TokenStore(site.db)
    raw, doc = await store.create(user.id, name="t")
    start = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    first = await store.authenticate(raw, now=start)
    assert first["last_used_at"] == start
    await store.authenticate(raw, now=start + datetime.timedelta(seconds=30))
    stored = await site.db[TOKENS_COLLECTION].find_one({"_id": doc["_id"]})
    assert stored["last_used_at"].replace(tzinfo=datetime.timezone.utc) == start
    later = start + datetime.timedelta(seconds=61)
    await store.authenticate(raw, now=later)
    stored = await site.db[TOKENS_COLLECTION].find_one({"_id": doc["_id"]})
    assert stored["last_used_at"].replace(tzinfo=datetime.timezone.utc) == later
    assert await store.authenticate(raw + "x") is None
    assert await store.authenticate("bst_" + "a" * 43) is None
    assert await store.authenticate(None) is None
