"""From the embedded default to MongoDB: dump there, load here, the same documents.

Runs against the MongoDB-wire server at ``$MONGO_URL`` (CI starts FerretDB); skips with
the reason otherwise (and the root conftest fails that skip under ``CI=true``).
"""
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

from core.db import connect

from dumpload_support import read_all

pytestmark = pytest.mark.wire


@pytest.fixture(params=["motor", "pymongo"])
async def mongo_url(request):
    base = os.environ.get("MONGO_URL")
    if not base:
        pytest.skip("MONGO_URL not set: no MongoDB-wire server to load into")
    parts = urlsplit(base)
    name = f"bastion_dumpload_{uuid.uuid4().hex[:10]}"
    url = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
    yield url, request.param
    db = connect(url, request.param)
    try:
        await db.drop()
    finally:
        await db.close()


async def test_embedded_dump_loads_into_mongodb_unchanged(workspace, seeded, mongo_url):
    source, ids = seeded
    url, driver = mongo_url
    dump_file = workspace.root / "move.jsonl"
    dumped = workspace.cli(["dumpdata", "-o", dump_file], source)
    assert dumped.returncode == 0, dumped.stderr

    loaded = workspace.cli(["loaddata", dump_file], url, MONGO_DRIVER=driver)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith("loaded 8 documents")
    assert await read_all(url, driver=driver) == await read_all(source)

    # and back out of MongoDB: the very same text
    again = workspace.cli(["dumpdata"], url, MONGO_DRIVER=driver)
    assert again.returncode == 0, again.stderr
    assert again.stdout == dump_file.read_text(encoding="utf-8")

    # the model indexes exist there now: `check` is happy
    check = workspace.cli(["check"], url, MONGO_DRIVER=driver)
    assert "missing indexes" not in check.stderr, check.stderr


async def test_failed_load_into_mongodb_leaves_nothing(workspace, seeded, mongo_url):
    source, _ = seeded
    url, driver = mongo_url
    dump_file = workspace.root / "move.jsonl"
    assert workspace.cli(["dumpdata", "-o", dump_file], source).returncode == 0
    text = dump_file.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    # the second user takes the first one's username: the unique index refuses it
    users = [n for n, line in enumerate(lines) if '"model":"accounts.user"' in line]
    lines[users[1]] = lines[users[1]].replace('"username":"root"', '"username":"alice"') \
        .replace('"username_key":"root"', '"username_key":"alice"')    # what it would store
    bad = workspace.root / "clash.jsonl"
    bad.write_text("".join(lines), encoding="utf-8")
    result = workspace.cli(["loaddata", bad], url, MONGO_DRIVER=driver)
    assert result.returncode == 1
    error = result.stderr.strip()
    assert error.startswith(f"error: {bad} line {users[1] + 1}: accounts.user ")
    assert "duplicate key" in error and error.endswith("this run had inserted were removed)")
    counts = {name: len(docs) for name, docs in (await read_all(url, driver=driver)).items()}
    assert set(counts.values()) == {0}
