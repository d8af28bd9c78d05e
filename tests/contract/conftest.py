"""The store contract: every test here runs once per database backend.

Backends (the ``db`` fixture's parameters):

* ``memory``       — ``connect("memory:")``, the embedded engine on an in-memory SQLite;
* ``embedded``     — ``connect("embedded:<tmp>/store.sqlite3")``;
* ``wire-motor``   — a MongoDB-wire server at ``$MONGO_URL`` through motor;
* ``wire-pymongo`` — the same server through PyMongo's ``AsyncMongoClient``.

The wire backends skip when ``MONGO_URL`` is unset (and the root conftest turns
that skip into a failure under ``CI=true``). Each wire test gets its own
database, dropped afterwards. A test that only makes sense for one backend
narrows the parameter with ``@pytest.mark.parametrize("db", [...], indirect=True)``; one
that must open and close its own connections (persistence) uses ``embedded_url`` and
``@pytest.mark.contract_backend("embedded")``.

At the end of the run a line tells which backends the contract ran on, e.g.
``contract backends: memory=120 passed, embedded=125 passed, ...``.
"""
import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from core.db import connect
from support.summaries import CONTRACT_BACKENDS as BACKENDS

NO_WIRE_SERVER = "MONGO_URL not set: no MongoDB-wire server"
WIRE_DRIVERS = {"wire-motor": "motor", "wire-pymongo": "pymongo"}
HERE = Path(__file__).parent


def url_with_database(url, name):
    """``url`` with its path (the database name) replaced by ``name``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@pytest.fixture
def embedded_url(tmp_path):
    """The URL of the ``embedded`` backend's file (the same file the ``db`` fixture opens)."""
    return f"embedded:{tmp_path}/store.sqlite3"


@pytest.fixture(params=[
    "memory",
    "embedded",
    pytest.param("wire-motor", marks=pytest.mark.wire),
    pytest.param("wire-pymongo", marks=pytest.mark.wire),
])
async def db(request, embedded_url):
    """A fresh, empty database on one backend; closed (and dropped, on a server) afterwards."""
    backend = request.param
    if backend == "memory":
        database = connect("memory:")
    elif backend == "embedded":
        database = connect(embedded_url)
    elif backend in WIRE_DRIVERS:
        mongo_url = os.environ.get("MONGO_URL")
        if not mongo_url:
            pytest.skip(NO_WIRE_SERVER)
        name = f"bastion_test_{uuid.uuid4().hex[:12]}"
        database = connect(url_with_database(mongo_url, name), driver=WIRE_DRIVERS[backend])
    else:
        raise ValueError(f"unknown contract backend {backend!r}")
    try:
        yield database
    finally:
        try:
            if backend in WIRE_DRIVERS:
                await database.drop()
        finally:
            await database.close()


@pytest.fixture
def coll(db):
    """The collection most tests work in."""
    return db["things"]


@pytest.fixture
async def ferretdb_deviates(request, db):
    """Call ``ferretdb_deviates("what differs")`` in a test whose MongoDB semantics FerretDB
    v1 (CI's wire server) does not follow: on a FerretDB server the test becomes a strict
    xfail; on every other backend, a real MongoDB included, it must pass. ``strict=False``
    is for races FerretDB loses almost, but not quite, always."""
    on_ferretdb = False
    if db.backend in WIRE_DRIVERS.values():
        on_ferretdb = "ferretdbVersion" in await db.native.command("buildInfo")

    def deviates(reason, strict=True):
        if on_ferretdb:
            request.node.add_marker(
                pytest.mark.xfail(strict=strict, reason=f"FerretDB v1 deviation: {reason}"))
    return deviates


# -- the per-backend summary (counted and printed by ``support.summaries``) ----

def pytest_configure(config):
    config.addinivalue_line(
        "markers", "contract_backend(name): a contract test that opens its own connections "
        "to one backend instead of using the db fixture (counted under that backend)")


def pytest_collection_modifyitems(items):
    for item in items:
        if not item.path.is_relative_to(HERE):
            continue
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("db") if callspec else None
        marker = item.get_closest_marker("contract_backend")
        if marker is not None:
            backend = marker.args[0]
        if backend in BACKENDS:
            item.user_properties.append(("contract_backend", backend))
