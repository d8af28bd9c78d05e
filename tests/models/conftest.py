"""Fixtures for the model tests: a fresh database per test, bound for models.

``db`` runs each test on the in-memory engine, on the embedded engine in a
file and, when ``MONGO_URL`` is set (CI), on that MongoDB-wire server in a
throw-away database.
"""
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

from core.db import connect
from support import bound


def _wire_url():
    base = os.environ.get("MONGO_URL")
    if not base:
        pytest.skip("MONGO_URL is not set (no MongoDB-wire server)")
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/test_models_{uuid.uuid4().hex[:12]}"))


@pytest.fixture(params=["memory", "embedded", pytest.param("wire", marks=pytest.mark.wire)])
async def db(request, tmp_path):
    if request.param == "memory":
        database = connect("memory:")
    elif request.param == "embedded":
        database = connect(f"embedded:{tmp_path}/models.sqlite3")
    else:
        database = connect(_wire_url())
    try:
        async with bound(database):
            yield database
    finally:
        if request.param == "wire":
            await database.drop()
        await database.close()


@pytest.fixture
async def memory_db():
    """An unbound in-memory database (for db= / using() tests)."""
    database = connect("memory:")
    yield database
    await database.close()
