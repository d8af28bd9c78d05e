"""Exceptions the data layer raises.

Every backend raises the *driver's* exception types for database errors
(``pymongo.errors.DuplicateKeyError`` for a unique-index violation,
``BulkWriteError`` for a failed ordered ``insert_many``, ``WriteError`` for an
update that cannot apply), so code above ``core.db`` catches one type whatever
the backend. ``UnsupportedOperation`` is ours: a filter, update, sort or
projection outside the written-down subset (see ``core.db.subset``).
"""
from pymongo.errors import (  # noqa: F401  (re-exported)
    BulkWriteError,
    DuplicateKeyError,
    OperationFailure,
    PyMongoError,
    WriteError,
)


class UnsupportedOperation(ValueError):
    """A query or update uses something outside Bastion's store subset.

    Raised identically by every backend, before any work is done, so code that
    runs on the embedded store runs unchanged on MongoDB.
    """


class DatabaseUnavailable(RuntimeError):
    """The database did not answer (used by health checks and ``check``)."""
