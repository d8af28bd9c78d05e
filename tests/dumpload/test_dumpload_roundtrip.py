"""dumpdata → a fresh database → loaddata gives back the very same documents."""
import datetime
import json

from bson import ObjectId

from dumpload_support import COLLECTIONS, count_all, parse_lines, read_all
from support.cli import one_error_line


async def test_round_trip_through_a_file_keeps_every_document(workspace, seeded):
    source, ids = seeded
    dump_file = workspace.root / "dump.jsonl"
    dumped = workspace.cli(["dumpdata", "--output", dump_file], source)
    assert dumped.returncode == 0, dumped.stderr
    assert dumped.stdout == ""
    assert "dumped 8 documents" in dumped.stderr

    target = workspace.url("target")
    loaded = workspace.cli(["loaddata", dump_file], target)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == (
        "loaded 8 documents (audit.entry 1, accounts.role 1, accounts.user 2, "
        "blog.category 2, blog.article 2)")

    before, after = await read_all(source), await read_all(target)
    assert after == before
    assert [len(after[name]) for name in COLLECTIONS] == [1, 1, 2, 2, 2]
    articles = {doc["_id"]: doc for doc in after["blog_article"]}
    first, second = articles[ids["first"]], articles[ids["second"]]
    # ids, references and dates keep their types; dates are aware UTC, ms precise
    assert isinstance(first["category"], ObjectId) and first["category"] == ids["news"]
    assert first["author"] == ids["alice"]
    assert first["created"] == datetime.datetime(1969, 7, 20, 20, 17, 40,
                                                 tzinfo=datetime.timezone.utc)
    assert second["created"].tzinfo is not None
    assert second["created"].utcoffset() == datetime.timedelta(0)
    assert second["created"].microsecond == 999000
    assert second["version"] == 2
    assert first["legacy_slug"] == "hello-world"  # a key no model declares
    assert first["title"] == "Hello “world” ✓ \u2028 emoji 🎉"
    user = next(doc for doc in after["accounts_user"] if doc["_id"] == ids["alice"])
    assert user["permissions"] == {"blog": {"article": ["read"]}}
    assert user["last_login"].microsecond == 123000
    entry = after["audit_log"][0]
    assert entry["changes"]["odd\\dkey\\sname"]["after"].year == 2020


async def test_a_loaded_database_dumps_to_the_same_text(workspace, seeded):
    source, _ = seeded
    first = workspace.cli(["dumpdata"], source)
    assert first.returncode == 0, first.stderr
    path = workspace.root / "first.jsonl"
    path.write_text(first.stdout, encoding="utf-8")
    target = workspace.url("copy")
    assert workspace.cli(["loaddata", path], target).returncode == 0
    second = workspace.cli(["dumpdata"], target)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout


def test_the_line_format(workspace, seeded):
    source, ids = seeded
    result = workspace.cli(["dumpdata", "blog.article", "accounts"], source)
    assert result.returncode == 0, result.stderr
    lines = parse_lines(result.stdout)
    assert [line["model"] for line in lines] == (
        ["blog.article"] * 2 + ["accounts.role"] + ["accounts.user"] * 2)
    assert all(set(line) == {"model", "document"} for line in lines)
    article = next(line["document"] for line in lines
                   if line["document"]["_id"] == {"$oid": str(ids["first"])})
    assert article["category"] == {"$oid": str(ids["news"])}
    assert article["created"] == {"$date": {"$numberLong": "-14182940000"}}  # before 1970
    user = next(line["document"] for line in lines if line["model"] == "accounts.user"
                and line["document"]["username"] == "alice")
    assert user["last_login"] == {"$date": "2024-05-01T12:30:00.123Z"}  # relaxed mode
    # one document per line, _id order within a model
    oids = [line["document"]["_id"]["$oid"] for line in lines if line["model"] == "blog.article"]
    assert oids == sorted(oids)


def test_dump_of_an_empty_database_is_empty(workspace):
    result = workspace.cli(["dumpdata"], workspace.url("empty"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("dumped 0 documents")


def test_unknown_model_is_one_line_exit_1_and_no_file(workspace, seeded):
    source, _ = seeded
    out = workspace.root / "never.jsonl"
    result = workspace.cli(["dumpdata", "blog.article", "blog.nope", "-o", out], source)
    assert result.returncode == 1
    assert one_error_line(result).startswith("error: unknown model 'blog.nope' (installed: ")
    assert result.stdout == ""
    assert not out.exists()
    assert list(workspace.root.glob(".never.jsonl.*")) == []


async def test_loading_twice_is_refused_and_changes_nothing(workspace, seeded):
    source, ids = seeded
    dump_file = workspace.root / "dump.jsonl"
    assert workspace.cli(["dumpdata", "-o", dump_file], source).returncode == 0
    before = await read_all(source)
    again = workspace.cli(["loaddata", dump_file], source)
    assert again.returncode == 1
    line = one_error_line(again)
    assert line == (f"error: {dump_file} line 1: audit.entry {ids['entry']}: a document with "
                    "this _id is already in the database (or earlier in this file); nothing "
                    "was loaded")
    assert await read_all(source) == before


def test_dump_file_is_private_and_complete(workspace, seeded):
    source, _ = seeded
    out = workspace.root / "private.jsonl"
    result = workspace.cli(["dumpdata", "accounts.user", "-o", out], source)
    assert result.returncode == 0, result.stderr
    assert oct(out.stat().st_mode & 0o777) == "0o600"  # password hashes inside
    docs = [json.loads(line)["document"] for line in out.read_text().splitlines()]
    assert sorted(doc["username"] for doc in docs) == ["alice", "root"]


async def test_load_creates_the_models_indexes(workspace, seeded):
    source, _ = seeded
    dump_file = workspace.root / "dump.jsonl"
    assert workspace.cli(["dumpdata", "-o", dump_file], source).returncode == 0
    target = workspace.url("indexed")
    assert workspace.cli(["loaddata", dump_file], target).returncode == 0
    check = workspace.cli(["check"], target)
    assert "missing indexes" not in check.stderr
    assert (await count_all(target))["accounts_user"] == 2
