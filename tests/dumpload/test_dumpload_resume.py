"""An interrupted loaddata, as it leaves the database, is finished or rolled back by the next
run (deterministic: the state a kill leaves is written here; the real kill -9 is in
``tests/faults/test_crash_loaddata.py``)."""
import asyncio
import datetime
import io

from core.conf import load_settings
from core.db import connect
from core.management import run_command, serialization
from core.management.commands.loaddata import LoaddataCommand
from core.management.serialization import BATCH_SIZE, JOURNAL_COLLECTION, file_digest

from dumpload_support import article_lines, category_line, count_all, read_all, stored_rows


async def interrupt(url, path, lines, upto, inserted):
    """What a load of ``lines`` killed after claiming line ``upto`` leaves: its journal
    entry and the documents of ``inserted`` (line numbers, from 1)."""
    db = connect(url)
    try:
        await db[JOURNAL_COLLECTION].insert_one({
            "_id": file_digest(path), "path": str(path), "documents": len(lines),
            "upto": upto, "started": datetime.datetime.now(datetime.timezone.utc)})
        for number in inserted:
            key, document = lines[number - 1]
            await db[key.replace(".", "_")].insert_one(dict(document))
    finally:
        await db.close()


async def test_the_next_run_finishes_an_interrupted_load(workspace):
    lines = [category_line("News"), *article_lines(BATCH_SIZE + 40)]
    path = workspace.write_lines("move.jsonl", lines)
    clean_url = workspace.url("clean")
    workspace.cli(["loaddata", path], clean_url).check_returncode()
    url = workspace.url("target")
    # killed inside the second article batch: line 1 and the first article batch are in,
    # of the claimed second batch only some documents made it
    claimed = 1 + BATCH_SIZE + 40
    await interrupt(url, path, lines, claimed,
                    inserted=[*range(1, 2 + BATCH_SIZE), claimed - 3, claimed - 1])
    check = workspace.cli(["check"], url)
    assert f"an interrupted load of {path} (claimed up to line {claimed}" in check.stdout
    result = workspace.cli(["loaddata", path], url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"loaded {len(lines)} documents (blog.category 1, blog.article {len(lines) - 1}) "
        f"(finished an interrupted load: {BATCH_SIZE + 3} of them were in already)")
    assert await read_all(url) == await read_all(clean_url)
    for collection in ("blog_category", "blog_article"):       # stored as a clean load does
        assert sorted(stored_rows(url, collection)) == sorted(stored_rows(clean_url, collection))
    assert (await count_all(url, [JOURNAL_COLLECTION]))[JOURNAL_COLLECTION] == 0


async def test_rollback_removes_only_what_the_interrupted_load_inserted(workspace):
    lines = [category_line("News"), *article_lines(30)]
    path = workspace.write_lines("move.jsonl", lines)
    url = workspace.url("target")
    other = workspace.write_lines("other.jsonl", [category_line("Kept")])
    workspace.cli(["loaddata", other], url).check_returncode()
    await interrupt(url, path, lines, upto=31, inserted=range(1, 20))
    result = workspace.cli(["loaddata", "--rollback", path], url)
    assert result.returncode == 0, result.stderr
    assert "removed 19 documents" in result.stdout
    counts = await count_all(url, ["blog_category", "blog_article", JOURNAL_COLLECTION])
    assert counts == {"blog_category": 1, "blog_article": 0, JOURNAL_COLLECTION: 0}
    assert "interrupted load" not in workspace.cli(["check"], url).stdout


async def test_a_different_file_loads_as_usual_beside_an_interrupted_one(workspace):
    lines = [category_line("News"), *article_lines(5)]
    path = workspace.write_lines("move.jsonl", lines)
    url = workspace.url("target")
    await interrupt(url, path, lines, upto=6, inserted=range(1, 4))
    other = workspace.write_lines("other.jsonl", [category_line("Other"),
                                                  *article_lines(2, start=10)])
    result = workspace.cli(["loaddata", other], url)
    assert result.returncode == 0 and "interrupted" not in result.stdout, result.stdout
    assert (await count_all(url, [JOURNAL_COLLECTION]))[JOURNAL_COLLECTION] == 1
    workspace.cli(["loaddata", path], url).check_returncode()      # and that one finishes
    assert (await count_all(url, ["blog_article"]))["blog_article"] == 7


def test_an_interrupted_load_is_validated_without_forking_once_the_database_is_open(
        workspace, monkeypatch):
    """Into the embedded store the interrupted load (an earlier version's) is found once
    the database is open: its file is validated again in this process, never by workers
    forked with the database's connections and threads."""
    monkeypatch.setattr(serialization, "validation_workers", lambda size: 2)
    pooled = []
    real = serialization._validate_in_pool

    def validate_in_pool(*args):
        pooled.append(args[-1])
        return real(*args)
    monkeypatch.setattr(serialization, "_validate_in_pool", validate_in_pool)
    lines = [category_line("News"), *article_lines(30)]
    path = workspace.write_lines("move.jsonl", lines)
    url = workspace.url("target")
    asyncio.run(interrupt(url, path, lines, upto=31, inserted=range(1, 11)))
    settings = load_settings("settings.test", environ={}, VAR_DIR=workspace.root / "var",
                             DATABASE_URL=url)
    stdout, stderr = io.StringIO(), io.StringIO()
    command = LoaddataCommand(settings=settings, registry=workspace.registry,
                              stdout=stdout, stderr=stderr)
    args = command.create_parser("loaddata").parse_args([str(path)])
    assert run_command(command, args, stderr=stderr) == 0, stderr.getvalue()
    assert stdout.getvalue().strip() == (
        "loaded 31 documents (blog.category 1, blog.article 30) (finished an interrupted "
        "load: 10 of them were in already)")
    assert pooled == []
