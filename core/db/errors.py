"""Exceptions the data layer raises.

Every backend raises the *driver's* exception types for database errors
(``pymongo.errors.DuplicateKeyError`` for a unique-index violation,
``BulkWriteError`` for a failed ordered ``insert_many``, ``WriteError`` for an
update that cannot apply), so code above ``core.db`` catches one type whatever
the backend. ``UnsupportedOperation`` is ours: a filter, update, sort or
projection outside the written-down subset (see ``core.db.subset``);
``ValueOutOfRange`` (an ``UnsupportedOperation`` and an ``OverflowError``) is an int
outside int64; ``QueryTimeout`` (a ``pymongo.errors.ExecutionTimeout``) a search that
ran past the embedded store's time budget.
"""
from pymongo.errors import (  # noqa: F401  (re-exported)
    BulkWriteError,
    DuplicateKeyError,
    ExecutionTimeout,
    OperationFailure,
    PyMongoError,
    WriteError,
)


class UnsupportedOperation(ValueError):
    """A query or update uses something outside Bastion's store subset.

    Raised identically by every backend, before any work is done, so code that
    runs on the embedded store runs unchanged on MongoDB.
    """


class ValueOutOfRange(UnsupportedOperation, OverflowError):
    """An int outside BSON's int64 in a document, filter or update (what PyMongo refuses
    with ``OverflowError`` when it encodes one; both types catch it)."""


class DatabaseUnavailable(RuntimeError):
    """The database did not answer (used by health checks and ``check``)."""


class QueryTimeout(ExecutionTimeout):
    """A query ran past the time budget of the embedded store (``code`` 50, as MongoDB's
    ``maxTimeMS`` error: catch ``pymongo.errors.ExecutionTimeout`` for both).

    The embedded store gives a query that holds a ``$regex`` a budget of
    ``Store.regex_time_budget`` seconds, and refuses to run a (non-literal) regular
    expression over a string longer than ``REGEX_SUBJECT_LIMIT`` characters; either way
    the statement stops and nothing was changed. The message says which. Pages show it
    as a message, the API as a 400: the search is too broad, not the server broken.
    """

    def __init__(self, message):
        super().__init__(message, 50, {"ok": 0, "errmsg": message, "code": 50,
                                       "codeName": "MaxTimeMSExpired"})
        #: the sentence to show a user (``str()`` is the same, without the driver's details)
        self.message = message

    def __str__(self):
        return self.message
