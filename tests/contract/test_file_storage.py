"""Files beside the documents (``core.db.files``): the same behaviour on every backend."""
import datetime
import os

import pytest
from bson import ObjectId

from core.db import connect
from core.db.files import CHUNK_SIZE, FileMissing, files_of


async def test_put_then_info_and_read_back(db):
    files = files_of(db)
    data = os.urandom(1000)
    info = await files.put(data, filename="invoice.pdf", content_type="application/pdf",
                           metadata={"owner": "shop.order"})
    assert isinstance(info.id, ObjectId)
    assert info.length == 1000
    again = await files.info(info.id)
    assert (again.filename, again.content_type, again.length) == \
        ("invoice.pdf", "application/pdf", 1000)
    assert again.metadata == {"owner": "shop.order"}
    assert abs(again.uploaded - info.uploaded) < datetime.timedelta(seconds=1)
    assert again.uploaded.tzinfo is not None
    assert await files.read(info.id) == data
    assert await files.read(str(info.id)) == data        # a string id works too


async def test_large_file_streams_in_chunks_and_round_trips_every_byte(db):
    files = files_of(db)
    data = os.urandom(CHUNK_SIZE * 2 + 123)
    info = await files.put(data, filename="big.bin", content_type="application/octet-stream")
    chunks = [chunk async for chunk in files.stream(info.id)]
    assert len(chunks) == 3
    assert all(len(chunk) <= CHUNK_SIZE for chunk in chunks)
    assert b"".join(chunks) == data


async def test_empty_file(db):
    files = files_of(db)
    info = await files.put(b"", filename="empty.txt", content_type="text/plain")
    assert (await files.info(info.id)).length == 0
    assert await files.read(info.id) == b""


async def test_delete_removes_the_file_and_its_bytes(db):
    files = files_of(db)
    keep = await files.put(b"keep", filename="a.txt", content_type="text/plain")
    gone = await files.put(b"gone", filename="b.txt", content_type="text/plain")
    assert await files.delete(gone.id) is True
    assert await files.delete(gone.id) is False
    assert await files.info(gone.id) is None
    with pytest.raises(FileMissing):
        await files.read(gone.id)
    assert await files.ids() == [keep.id]
    assert await files.read(keep.id) == b"keep"


async def test_unknown_and_malformed_ids(db):
    files = files_of(db)
    assert await files.info(ObjectId()) is None
    assert await files.info("not-an-id") is None
    assert await files.delete("not-an-id") is False
    with pytest.raises(FileMissing):
        await files.read(ObjectId())
    with pytest.raises(FileMissing):
        await files.read("nope")
    assert await files.ids() == []


async def test_put_refuses_what_is_not_bytes(db):
    with pytest.raises(TypeError):
        await files_of(db).put("text", filename="a.txt", content_type="text/plain")


@pytest.mark.contract_backend("embedded")
async def test_files_persist_across_connections(embedded_url):
    first = connect(embedded_url)
    try:
        info = await files_of(first).put(b"persisted", filename="p.txt",
                                         content_type="text/plain")
    finally:
        await first.close()
    second = connect(embedded_url)
    try:
        assert await files_of(second).read(info.id) == b"persisted"
    finally:
        await second.close()
