"""Files travel with dumpdata/loaddata: one line per file before the document that holds
it, restored under the same id, removed again when a load is rolled back; between the
embedded store and MongoDB too."""
import json
import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from core.db import connect
from core.db.files import files_of
from core.models import Upload
from files_demo.models import Invoice
from support import bound
from support.cli import Cli

HERE = Path(__file__).parent
PYTHONPATH = os.pathsep.join([str(HERE), str(HERE.parent / "admin" / "admin_support")])
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"


def cli_on(tmp_path, name):
    return Cli.on_embedded(tmp_path / name, "files_settings", PYTHONPATH)


async def seed(url):
    database = connect(url)
    try:
        async with bound(database):
            await Invoice.ensure_indexes()
            one = await Invoice.create(number="1", document=Upload(PDF, "résumé.pdf"))
            two = await Invoice.create(number="2", document=Upload(b"a,b\n1,2\n", "t.csv",
                                                                   "text/csv"))
            await Invoice.create(number="3")
            return [one, two]
    finally:
        await database.close()


async def stored_files(url, driver="motor"):
    """``{id: (info fields..., bytes)}`` of every stored file."""
    database = connect(url, driver)
    try:
        files = files_of(database)
        out = {}
        for file_id in await files.ids():
            info = await files.info(file_id)
            out[file_id] = (info.filename, info.content_type, info.length,
                            info.uploaded, info.metadata, await files.read(file_id))
        return out
    finally:
        await database.close()


async def documents(url, driver="motor"):
    database = connect(url, driver)
    try:
        return await database["billing_invoice"].find({}, sort=[("_id", 1)]).to_list(None)
    finally:
        await database.close()


async def test_files_round_trip_between_embedded_databases(tmp_path):
    source, target = cli_on(tmp_path, "a"), cli_on(tmp_path, "b")
    invoices = await seed(source.db_url)
    dump_file = tmp_path / "dump.jsonl"
    dumped = source.ok("dumpdata", "billing", "-o", str(dump_file))
    assert "3 documents (billing.invoice 3) and 2 files" in dumped.stderr
    lines = [json.loads(line) for line in dump_file.read_text().splitlines()]
    assert [("file" if "file" in line else line["model"]) for line in lines] == \
        ["file", "billing.invoice", "file", "billing.invoice", "billing.invoice"]
    assert lines[0]["file"]["filename"] == "résumé.pdf"
    loaded = target.ok("loaddata", str(dump_file))
    assert "loaded 3 documents (billing.invoice 3) and 2 files" in loaded.stdout
    assert await stored_files(target.db_url) == await stored_files(source.db_url)
    assert await documents(target.db_url) == await documents(source.db_url)
    assert set(await stored_files(target.db_url)) == {i.document.id for i in invoices}


async def test_a_failed_load_removes_the_files_it_stored(tmp_path):
    source, target = cli_on(tmp_path, "a"), cli_on(tmp_path, "b")
    invoices = await seed(source.db_url)
    dump_file = tmp_path / "dump.jsonl"
    source.ok("dumpdata", "billing", "-o", str(dump_file))
    database = connect(target.db_url)                 # the second invoice is there already
    try:
        await database["billing_invoice"].insert_one({"_id": invoices[1].id, "number": "x"})
    finally:
        await database.close()
    failed = target("loaddata", str(dump_file))
    assert failed.returncode == 1
    assert "already in the database" in failed.stderr
    assert await stored_files(target.db_url) == {}
    assert [d["number"] for d in await documents(target.db_url)] == ["x"]


async def test_loading_twice_refuses_the_stored_file_and_changes_nothing(tmp_path):
    source, target = cli_on(tmp_path, "a"), cli_on(tmp_path, "b")
    await seed(source.db_url)
    dump_file = tmp_path / "dump.jsonl"
    source.ok("dumpdata", "billing", "-o", str(dump_file))
    target.ok("loaddata", str(dump_file))
    before = await stored_files(target.db_url)
    again = target("loaddata", str(dump_file))
    assert again.returncode == 1 and "a file with this _id is already stored" in again.stderr
    assert await stored_files(target.db_url) == before


@pytest.mark.parametrize("line, words", [
    ('{"file": {"_id": 1}, "data": "x"}', "must be an object with"),
    ('{"file": {"_id": {"$oid": "665f1c2b9a1e4c3d2b1a0f00"}, "filename": "a", '
     '"content_type": "text/plain", "uploaded": {"$date": "2024-01-01T00:00:00Z"}, '
     '"metadata": {}}, "data": "not binary"}', "must be binary"),
    ('{"file": {}, "data": {"$binary": {"base64": "", "subType": "00"}}, "x": 1}',
     "unexpected key"),
])
async def test_bad_file_lines_are_one_line_errors(tmp_path, line, words):
    target = cli_on(tmp_path, "b")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(line + "\n")
    result = target("loaddata", str(bad))
    assert result.returncode == 1
    assert words in result.stderr and "line 1" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.wire
@pytest.mark.parametrize("driver", ["motor", "pymongo"])
async def test_files_move_from_the_embedded_store_to_mongodb_and_back(tmp_path, driver):
    base = os.environ.get("MONGO_URL")
    if not base:
        pytest.skip("MONGO_URL not set: no MongoDB-wire server to load into")
    parts = urlsplit(base)
    url = urlunsplit(parts._replace(path=f"/bastion_files_{uuid.uuid4().hex[:10]}"))
    source = cli_on(tmp_path, "a")
    await seed(source.db_url)
    dump_file, back = tmp_path / "dump.jsonl", tmp_path / "back.jsonl"
    source.ok("dumpdata", "billing", "-o", str(dump_file))
    mongo = Cli(dict(source.env, DATABASE_URL=url, MONGO_DRIVER=driver), url)
    try:
        mongo.ok("loaddata", str(dump_file))
        assert await stored_files(url, driver) == await stored_files(source.db_url)
        mongo.ok("dumpdata", "billing", "-o", str(back))
        assert back.read_text() == dump_file.read_text()
    finally:
        database = connect(url, driver)
        try:
            await database.drop()
        finally:
            await database.close()
