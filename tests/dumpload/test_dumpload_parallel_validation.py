"""Validation in worker processes (a big file) answers exactly as validation in this one:
the same counts, the same spool in file order, and the earliest bad line as the error."""
import io
import os
import signal

import pytest

from core.management import serialization
from core.management.serialization import LoadError, Spool, validate_file

from dumpload_support import article_lines, category_line, count_all, read_all
from support.cli import one_error_line


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 7 lines, so a small file spans many chunks and both workers."""
    monkeypatch.setattr(serialization, "VALIDATION_CHUNK", 7)


def validated(workspace, path, workers):
    with Spool() as spool:
        counts = validate_file(path, workspace.registry, io.StringIO(), False, spool=spool,
                               workers=workers)
        entries = [(n, m._meta.key, d) for n, m, d, _ in spool.documents(workspace.registry)]
    return counts, entries


def error(workspace, path, workers):
    with Spool() as spool, pytest.raises(LoadError) as info:
        validate_file(path, workspace.registry, io.StringIO(), False, spool=spool,
                      workers=workers)
    return info.value.line, info.value.reason


def test_workers_give_the_counts_and_spool_of_one_process(workspace, small_chunks):
    lines = [*article_lines(40), "\n", *[category_line(f"c{n}") for n in range(11)],
             *article_lines(9, start=40)]
    path = workspace.write_lines("many.jsonl", lines)
    counts, entries = validated(workspace, path, workers=2)
    assert counts == {"blog.article": 49, "blog.category": 11}
    assert (counts, entries) == validated(workspace, path, workers=1)
    assert [n for n, _k, _d in entries] == [n for n in range(1, 62) if n != 41]
    assert entries[0][2]["created"].tzinfo is not None


@pytest.mark.parametrize("bad_lines", [[30], [30, 50], [3, 4, 60]])
def test_the_error_is_the_earliest_bad_line_as_in_one_process(
        workspace, small_chunks, bad_lines):
    lines = list(article_lines(60))
    for number in bad_lines:
        key, doc = lines[number - 1]
        lines[number - 1] = (key, dict(doc, title=None))
    path = workspace.write_lines("bad.jsonl", lines)
    assert error(workspace, path, workers=2) == error(workspace, path, workers=1) == (
        bad_lines[0], f"blog.article {lines[bad_lines[0] - 1][1]['_id']}: title: This field "
                      "is required.")


def test_a_line_that_is_not_utf8_is_named_by_the_workers_too(workspace, small_chunks):
    path = workspace.write_lines("bytes.jsonl", list(article_lines(20)))
    with open(path, "ab") as handle:
        handle.write(b'{"model": "blog.article", "document": "\xff"}\n')
    line, reason = error(workspace, path, workers=2)
    assert (line, reason) == error(workspace, path, workers=1)
    assert line == 21 and reason.startswith("not UTF-8 text")


def test_small_files_are_validated_in_this_process_big_ones_by_workers():
    cpus = len(os.sched_getaffinity(0))
    assert serialization.validation_workers(1000) == 1
    assert serialization.validation_workers(serialization.PARALLEL_VALIDATION_BYTES) == min(
        serialization.VALIDATION_WORKERS, cpus)


def sigint_handler(path, first, raws, registry):
    """A chunk's "validation" that tells which process ran it and its SIGINT handler."""
    return os.getpid(), signal.getsignal(signal.SIGINT)


def test_the_workers_ignore_ctrl_c(workspace):
    """A terminal's Ctrl-C reaches the workers too: they leave it to this process (whose
    ``close()`` stops them) instead of running its handler (asyncio's, which raises
    ``KeyboardInterrupt`` at the second one: a traceback from every worker)."""
    path = workspace.write_lines("some.jsonl", list(article_lines(20)))
    with serialization.ValidatingChunks(path, workspace.registry, sigint_handler, 2,
                                        workers=2) as chunks:
        answers = list(chunks.start())
    assert len(answers) == 10 and os.getpid() not in {pid for pid, _ in answers}
    assert {handler for _pid, handler in answers} == {signal.SIG_IGN}


def big_file(workspace, name, bad_line=None):
    """Articles with long bodies past ``PARALLEL_VALIDATION_BYTES``: the command's own
    validation goes to the workers."""
    lines = [(key, dict(doc, body="x" * 1000)) for key, doc in article_lines(2200)]
    if bad_line is not None:
        key, doc = lines[bad_line - 1]
        lines[bad_line - 1] = (key, dict(doc, published="perhaps"))
    path = workspace.write_lines(name, lines)
    assert os.path.getsize(path) >= serialization.PARALLEL_VALIDATION_BYTES
    return path, lines


async def test_the_command_loads_a_big_file_validated_by_workers(workspace):
    path, lines = big_file(workspace, "big.jsonl")
    result = workspace.cli(["loaddata", path, "--no-progress"], workspace.url("target"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "loaded 2200 documents (blog.article 2200)"
    loaded = (await read_all(workspace.url("target"), ["blog_article"]))["blog_article"]
    assert sorted(d["_id"] for d in loaded) == sorted(d["_id"] for _k, d in lines)


async def test_the_command_names_the_bad_line_of_a_big_file_and_loads_nothing(workspace):
    path, lines = big_file(workspace, "big-bad.jsonl", bad_line=1700)
    result = workspace.cli(["loaddata", path, "--no-progress"], workspace.url("target"))
    assert result.returncode == 1
    assert one_error_line(result) == (
        f"error: {path} line 1700: blog.article {lines[1699][1]['_id']}: published: Enter "
        "true or false.")
    assert (await count_all(workspace.url("target"))).get("blog_article", 0) == 0
