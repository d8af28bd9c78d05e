"""``manage.py check`` names stored files no document holds, and only those."""
import os
from pathlib import Path

from core.db import connect
from core.db.files import files_of
from core.models import Upload
from files_demo.models import Invoice
from support import bound
from support.cli import Cli

HERE = Path(__file__).parent
PYTHONPATH = os.pathsep.join([str(HERE), str(HERE.parent / "admin" / "admin_support")])
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"


async def test_check_reports_orphaned_files(tmp_path):
    cli = Cli.on_embedded(tmp_path, "files_settings", PYTHONPATH)
    cli.ok("ensure_indexes")
    assert "files:" not in cli.ok("check").stdout
    database = connect(cli.db_url)
    try:
        async with bound(database):
            held = await Invoice.create(number="1", document=Upload(PDF, "held.pdf"))
            orphan = await files_of(database).put(b"left behind", filename="lost.txt",
                                                  content_type="text/plain",
                                                  metadata={"model": "billing.invoice",
                                                            "field": "document"})
    finally:
        await database.close()
    out = cli.ok("check").stdout
    assert "files: 1 stored file no document holds" in out, out
    assert f"{orphan.id} (billing.invoice.document, lost.txt)" in out
    assert str(held.document.id) not in out
