"""loaddata refuses a bad file with one line naming the line, and leaves nothing behind."""
import json

import pytest
from bson import ObjectId

from core.management.serialization import BATCH_SIZE, LoadError, validate_file

from dumpload_support import (
    PASSWORD_HASH, article_lines, category_line, count_all, read_all, when,
)
from support.cli import one_error_line


def user_line(username, **changes):
    doc = {"_id": ObjectId(), "version": 1, "username": username,
           "email": f"{username}@example.com", "password": PASSWORD_HASH, "is_active": True,
           "is_superuser": False, "permissions": {}, "roles": [],
           "date_joined": when(2024, 1, 1), "last_login": None}
    doc.update(changes)
    return "accounts.user", doc


def error_for(workspace, lines, name="bad.jsonl"):
    """``(line number, reason)`` from validating a file of ``lines`` in this process."""
    path = workspace.write_lines(name, lines)
    with pytest.raises(LoadError) as info:
        validate_file(path, workspace.registry, None, progress=False)
    assert str(info.value).startswith(f"{path} line {info.value.line}: ")
    return info.value.line, info.value.reason


# -- what validation catches, and the line it names (in process: fast) ----------------------
def test_malformed_json_names_its_line(workspace):
    line, reason = error_for(workspace, [*article_lines(2), '{"model": "blog.article", \n',
                                         *article_lines(1)])
    assert line == 3
    assert reason.startswith("invalid JSON: ")


def test_blank_lines_count_in_line_numbers(workspace):
    line, reason = error_for(workspace, ["\n", *article_lines(1), "   \n", "[1, 2]\n"])
    assert (line, reason) == (4, "expected an object {\"model\": ..., \"document\": ...}, "
                                 "not an array")


def test_unknown_model_names_its_line(workspace):
    lines = [*article_lines(2), ("blog.comment", {"_id": ObjectId(), "text": "hi"})]
    line, reason = error_for(workspace, lines)
    assert line == 3
    assert reason.startswith("unknown model 'blog.comment' (installed: accounts.role, ")


@pytest.mark.parametrize("change, expected", [
    ({"title": None}, "title: This field is required."),
    ({"title": "x" * 201}, "title: Ensure this value has at most 200 characters (it has 201)."),
    ({"published": "perhaps"}, "published: Enter true or false."),
    ({"category": "not-an-id"}, "category: 'not-an-id' is not a valid id."),
    ({"created": {"$gt": ""}}, "created: Expected a single value, not an object."),
    ({"tags": ["ok", {"$ne": 1}]}, "tags.1: Expected a single value, not an object."),
    # values the model would silently change are refused, never repaired
    ({"published": 1}, "published: 1 is not a value this model stores (it would store true)"),
    ({"category": "5f0c0a0b0c0d0e0f10111213"},
     'category: "5f0c0a0b0c0d0e0f10111213" is not a value this model stores (it would store '
     '{"$oid": "5f0c0a0b0c0d0e0f10111213"})'),
])
def test_an_invalid_field_names_its_line_and_the_field(workspace, change, expected):
    key, doc = next(article_lines(1))
    doc.update(change)
    line, reason = error_for(workspace, [*article_lines(3), (key, doc), *article_lines(2)])
    assert line == 4
    assert reason == f"blog.article {doc['_id']}: {expected}"


def test_model_rules_and_custom_fields_are_checked(workspace):
    key, bad_name = user_line("no spaces allowed", email="nospaces@example.com")
    line, reason = error_for(workspace, [user_line("ok"), (key, bad_name)])
    assert line == 2 and reason.endswith("username: Enter a valid username: letters, digits "
                                         "and @ . + - _ only.")
    _, plain_password = user_line("bob", password="hunter2")
    line, reason = error_for(workspace, [("accounts.user", plain_password)])
    assert line == 1 and "password: This field holds a bcrypt hash" in reason
    # a permissions dict of the wrong shape, which from_bson alone would drop silently
    _, odd = user_line("carol", permissions={"blog": "everything"})
    line, reason = error_for(workspace, [("accounts.user", odd)])
    assert line == 1 and reason.startswith(f"accounts.user {odd['_id']}: permissions: ")


@pytest.mark.parametrize("document, expected", [
    ({"title": "no id"}, 'blog.article: the document has no "_id"'),
    ({"_id": "5f0c0a0b0c0d0e0f10111213", "title": "text id"},
     'blog.article: "_id" must be an ObjectId ({"$oid": "<24 hex digits>"}), not '
     "'5f0c0a0b0c0d0e0f10111213'"),
])
def test_ids_must_be_object_ids(workspace, document, expected):
    assert error_for(workspace, [("blog.article", document)]) == (1, expected)


def test_bad_extended_json_and_bad_shapes(workspace):
    bad_oid = '{"model": "blog.category", "document": {"_id": {"$oid": "xyz"}}}\n'
    line, reason = error_for(workspace, [category_line("a"), bad_oid])
    assert line == 2 and "'xyz' is not a valid ObjectId" in reason
    extra = '{"model": "blog.category", "fields": {}, "document": {}}\n'
    assert error_for(workspace, [extra]) == (
        1, "unexpected key(s) 'fields'; a line holds \"model\" and \"document\" only")
    no_doc = '{"model": "blog.category", "document": [1]}\n'
    assert error_for(workspace, [no_doc]) == (
        1, 'blog.category: "document" must be an object, not an array')
    oid = ObjectId()
    version = json.dumps({"model": "blog.category", "document": {
        "_id": {"$oid": str(oid)}, "version": 0, "name": "x"}}) + "\n"
    assert error_for(workspace, [version]) == (
        1, f"blog.category {oid}: version must be a whole number from 1, not 0")


def test_text_that_is_not_utf8(workspace):
    path = workspace.write_lines("latin1.jsonl", [category_line("fine")])
    with open(path, "ab") as out:
        out.write(b'{"model": "blog.category", "document": {"name": "caf\xe9"}}\n')
    with pytest.raises(LoadError) as info:
        validate_file(path, workspace.registry, None, progress=False)
    assert info.value.line == 2 and info.value.reason.startswith("not UTF-8 text")


# -- the command: one line, exit 1, nothing loaded ------------------------------------------
async def test_bad_line_late_in_a_large_file_loads_nothing(workspace):
    lines = [category_line(f"cat {n}") for n in range(BATCH_SIZE * 2)]
    key, doc = next(article_lines(1))
    doc["title"] = ""
    lines.append((key, doc))
    path = workspace.write_lines("late.jsonl", lines)
    target = workspace.url("target")
    result = workspace.cli(["loaddata", path], target)
    assert result.returncode == 1
    assert one_error_line(result) == (f"error: {path} line {BATCH_SIZE * 2 + 1}: blog.article "
                                      f"{doc['_id']}: title: This field is required.")
    assert result.stdout == ""
    assert set((await count_all(target)).values()) == {0}


def test_missing_file(workspace):
    result = workspace.cli(["loaddata", workspace.root / "nope.jsonl"], workspace.url("t"))
    assert result.returncode == 1
    assert one_error_line(result) == (f"error: cannot read {workspace.root / 'nope.jsonl'}: "
                                      "No such file or directory")


async def test_unique_index_failure_mid_file_leaves_nothing(workspace):
    # three batches of categories; the last repeats a name from the first batch
    lines = [category_line(f"cat {n}") for n in range(BATCH_SIZE * 2 + 10)]
    lines.append(category_line("cat 7"))
    lines.extend(article_lines(5))
    path = workspace.write_lines("dupname.jsonl", lines)
    target = workspace.url("target")
    result = workspace.cli(["loaddata", path], target)
    assert result.returncode == 1
    line = one_error_line(result)
    failing = BATCH_SIZE * 2 + 11
    assert line.startswith(f"error: {path} line {failing}: blog.category {lines[-6][1]['_id']}: ")
    assert "duplicate key" in line
    assert line.endswith("; nothing was loaded")     # the load's transaction rolled back
    assert set((await count_all(target)).values()) == {0}


async def test_repeated_id_in_the_file_names_the_second_line(workspace):
    lines = [category_line(f"cat {n}") for n in range(BATCH_SIZE + 3)]
    key, first = lines[2]
    lines.append((key, dict(first, name="another name")))
    path = workspace.write_lines("dupid.jsonl", lines)
    target = workspace.url("target")
    result = workspace.cli(["loaddata", path], target)
    assert result.returncode == 1
    assert one_error_line(result).startswith(
        f"error: {path} line {BATCH_SIZE + 4}: blog.category {first['_id']}: a document "
        "with this _id is already in the database (or earlier in this file); nothing was "
        "loaded")
    assert set((await count_all(target)).values()) == {0}


async def test_rollback_keeps_what_was_there_before(workspace, seeded):
    source, ids = seeded
    before = await read_all(source)
    # new articles, then one whose _id the database already holds
    lines = list(article_lines(BATCH_SIZE + 20))
    existing = next(doc for doc in before["blog_article"] if doc["_id"] == ids["second"])
    lines.append(("blog.article", dict(existing, title="Overwritten?")))
    path = workspace.write_lines("clash.jsonl", lines)
    result = workspace.cli(["loaddata", path], source)
    assert result.returncode == 1
    assert one_error_line(result).startswith(
        f"error: {path} line {BATCH_SIZE + 21}: blog.article {ids['second']}: a document with "
        "this _id is already in the database")
    assert await read_all(source) == before  # the seeded article is untouched
