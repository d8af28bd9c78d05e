"""Bastion's data layer: one async API over MongoDB and an embedded SQLite store.

    from core.db import connect
    db = connect("embedded:var/bastion.sqlite3")     # or "memory:", or "mongodb://…"
    await db["articles"].insert_one({"title": "Hello"})

``DATABASE_URL`` forms:

* ``mongodb://…`` / ``mongodb+srv://…`` — a real MongoDB (or any server that speaks
  its wire protocol). ``driver`` is ``"motor"`` (default) or ``"pymongo"``
  (PyMongo's ``AsyncMongoClient``). The database name is the URL's path, else
  ``bastion``.
* ``embedded:PATH`` — documents in the SQLite file at PATH (created with its
  folders), shared safely by every process that opens it.
* ``memory:`` — the same engine on an in-memory SQLite database, private to the
  returned object; for fast unit tests.

Code above ``core.db`` uses only the subset written down in ``core.db.subset``.
"""
from urllib.parse import urlsplit

from bson import ObjectId  # noqa: F401  (re-exported)
from pymongo import ASCENDING, DESCENDING, ReturnDocument  # noqa: F401

from .errors import (  # noqa: F401
    BulkWriteError, DatabaseUnavailable, DuplicateKeyError, PyMongoError, QueryTimeout,
    UnsupportedOperation, ValueOutOfRange, WriteError,
)

DEFAULT_DB_NAME = "bastion"


def connect(url, driver="motor"):
    """Return a ``Database`` for ``url`` (see the module docstring for the forms)."""
    if not isinstance(url, str) or ":" not in url:
        raise ValueError(f"DATABASE_URL must look like 'embedded:PATH', 'memory:' or "
                         f"'mongodb://HOST/DB', not {url!r}")
    scheme, _, rest = url.partition(":")
    if scheme in ("mongodb", "mongodb+srv"):
        from .mongo import MongoDatabase
        name = urlsplit(url).path.lstrip("/").split("/")[0] or DEFAULT_DB_NAME
        return MongoDatabase(url, name, driver=driver)
    if scheme == "embedded":
        if not rest:
            raise ValueError("embedded: needs a file path, e.g. embedded:var/bastion.sqlite3")
        from .embedded import EmbeddedDatabase
        return EmbeddedDatabase(rest)
    if scheme == "memory":
        from .embedded import EmbeddedDatabase
        return EmbeddedDatabase(":memory:")
    raise ValueError(f"unknown database scheme {scheme!r} in DATABASE_URL "
                     "(expected mongodb, mongodb+srv, embedded or memory)")
