"""Files on the embedded store: two tables in the same SQLite file.

    bastion_files        id → filename, content type, length, upload time, metadata (JSON)
    bastion_file_chunks  (file id, n) → up to ``CHUNK_SIZE`` bytes

A file and its chunks are written in one transaction on the writer thread; a
download reads one chunk per executor call, so a large file never holds a
reader thread or the event loop for long.
"""
import datetime
import json

from ..files import FileInfo, FileMissing, Files

SCHEMA = """
CREATE TABLE IF NOT EXISTS bastion_files (
    id TEXT PRIMARY KEY, filename TEXT NOT NULL, content_type TEXT NOT NULL,
    length INTEGER NOT NULL, chunks INTEGER NOT NULL, uploaded TEXT NOT NULL,
    metadata TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bastion_file_chunks (
    file_id TEXT NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS bastion_file_chunks_id_n ON bastion_file_chunks (file_id, n);
"""


class EmbeddedFiles(Files):
    """``Files`` for ``EmbeddedDatabase`` (a file or ``:memory:``)."""

    def __init__(self, db):
        super().__init__(db)
        self.store = db.store

    async def _write(self, work):
        return await self.db._run(self.db._writer, self.store._write, work)

    async def _read(self, work):
        return await self.db._run(self.db._readers, self.store._read, work)

    async def _put(self, info, data):
        chunks = self._chunks(data)
        await self._write(lambda conn: insert_file(conn, info, chunks))

    async def _row(self, file_id):
        def work(conn):
            if not _exists(conn):
                return None
            return conn.execute("SELECT filename, content_type, length, chunks, uploaded, "
                                "metadata FROM bastion_files WHERE id=?",
                                (str(file_id),)).fetchone()
        return await self._read(work)

    async def _info(self, file_id):
        row = await self._row(file_id)
        if row is None:
            return None
        filename, content_type, length, _chunks, uploaded, metadata = row
        return FileInfo(file_id, filename, content_type, length,
                        datetime.datetime.fromisoformat(uploaded), json.loads(metadata))

    async def _stream(self, file_id):
        row = await self._row(file_id)
        if row is None:
            raise FileMissing(file_id)
        for n in range(row[3]):
            chunk = await self._read(lambda conn, n=n: conn.execute(
                "SELECT data FROM bastion_file_chunks WHERE file_id=? AND n=?",
                (str(file_id), n)).fetchone())
            if chunk is None:                 # deleted while it was being read
                raise FileMissing(file_id)
            yield bytes(chunk[0])

    async def _delete(self, file_id):
        def work(conn):
            if not _exists(conn):
                return False
            conn.execute("DELETE FROM bastion_file_chunks WHERE file_id=?", (str(file_id),))
            return conn.execute("DELETE FROM bastion_files WHERE id=?",
                                (str(file_id),)).rowcount > 0
        return await self._write(work)

    async def _ids(self):
        from bson import ObjectId

        def work(conn):
            if not _exists(conn):
                return []
            return [ObjectId(row[0]) for row in conn.execute("SELECT id FROM bastion_files")]
        return await self._read(work)


def _exists(conn):
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND "
                        "name='bastion_files'").fetchone() is not None


def _create(conn):
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)


def insert_file(conn, info, chunks):
    """Write the file ``info`` (a ``FileInfo``) and its ``chunks`` in the transaction open
    on ``conn``; ``sqlite3.IntegrityError`` when its id is stored already."""
    _create(conn)
    conn.execute("INSERT INTO bastion_files VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (str(info.id), info.filename, info.content_type, info.length,
                  len(chunks), info.uploaded.isoformat(),
                  json.dumps(info.metadata, sort_keys=True)))
    conn.executemany("INSERT INTO bastion_file_chunks VALUES (?, ?, ?)",
                     [(str(info.id), n, chunk) for n, chunk in enumerate(chunks)])


def drop_tables(conn):
    """Remove every file (``EmbeddedDatabase.drop``)."""
    conn.execute("DROP TABLE IF EXISTS bastion_file_chunks")
    conn.execute("DROP TABLE IF EXISTS bastion_files")
