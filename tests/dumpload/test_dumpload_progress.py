"""The progress bar goes to stderr (a terminal, or when asked), never into the data."""
import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
import threading

import pytest

from core.management.serialization import PROGRESS_THRESHOLD

from dumpload_support import REPO, Workspace, article_lines, category_line, parse_lines

COUNT = PROGRESS_THRESHOLD + 500


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, registry):
    return Workspace(tmp_path_factory.mktemp("progress"), registry)


@pytest.fixture(scope="module")
def large(workspace):
    """``(url, dump file)``: a database of ``COUNT`` documents, loaded from that file."""
    path = workspace.write_lines("large.jsonl",
                                 [category_line("only"), *article_lines(COUNT - 1)])
    url = workspace.url("large")
    loaded = workspace.cli(["loaddata", "--progress", path], url)
    assert loaded.returncode == 0, loaded.stderr
    # stdout: the summary only; the bar (the file's bytes, validated and inserted) is on
    # stderr
    assert loaded.stdout == (f"loaded {COUNT} documents (blog.category 1, "
                             f"blog.article {COUNT - 1})\n")
    assert "loaddata: 100%" in loaded.stderr
    size = path.stat().st_size
    assert f"{size / 1000:.0f}k/{size / 1000:.0f}k" in loaded.stderr
    return url, path


def test_forced_bar_is_on_stderr_and_stdout_is_pure_data(workspace, large):
    url, _ = large
    result = workspace.cli(["dumpdata", "--progress"], url)
    assert result.returncode == 0, result.stderr
    lines = parse_lines(result.stdout)              # every stdout line is one document
    assert len(lines) == COUNT
    assert "\r" not in result.stdout and "%|" not in result.stdout
    assert "100%|" in result.stderr
    assert result.stderr.rstrip().endswith(
        f"dumped {COUNT} documents (audit.entry 0, accounts.role 0, accounts.user 0, "
        f"blog.category 1, blog.article {COUNT - 1}, shop.customer 0, shop.order 0)")


def test_no_bar_when_stderr_is_not_a_terminal(workspace, large):
    url, _ = large
    result = workspace.cli(["dumpdata", "blog"], url)
    assert result.returncode == 0
    assert result.stderr == f"dumped {COUNT} documents (blog.category 1, blog.article " \
                            f"{COUNT - 1})\n"


def run_with_terminal_stderr(workspace, args, url):
    """Run manage.py with stderr on a pseudo-terminal and stdout on a pipe."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    received = []

    def drain():
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            received.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        proc = subprocess.run([sys.executable, str(REPO / "manage.py"), *map(str, args)],
                              cwd=REPO, env=workspace.env(url), stdout=subprocess.PIPE,
                              stderr=slave, stdin=subprocess.DEVNULL, timeout=120)
    finally:
        os.close(slave)
        reader.join(5)
        os.close(master)
    return proc, b"".join(received).decode("utf-8", "replace")


def test_bar_appears_by_itself_on_a_terminal_for_a_large_set(workspace, large):
    url, _ = large
    proc, terminal = run_with_terminal_stderr(workspace, ["dumpdata"], url)
    assert proc.returncode == 0, terminal
    assert "100%|" in terminal
    assert "\r" in terminal                          # redrawn in place
    assert len(parse_lines(proc.stdout.decode())) == COUNT
    assert b"%|" not in proc.stdout


def test_no_bar_on_a_terminal_for_a_small_set_or_when_refused(workspace, large):
    url, _ = large
    proc, terminal = run_with_terminal_stderr(workspace, ["dumpdata", "blog.category"], url)
    assert proc.returncode == 0, terminal
    assert "%|" not in terminal
    assert "dumped 1 document (blog.category 1)" in terminal
    assert json.loads(proc.stdout)["document"]["name"] == "only"
    proc, terminal = run_with_terminal_stderr(workspace, ["dumpdata", "--no-progress"], url)
    assert proc.returncode == 0, terminal
    assert "%|" not in terminal and f"dumped {COUNT} documents" in terminal
