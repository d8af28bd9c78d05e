"""The process-wide database models use unless told otherwise.

The application calls ``bind(db)`` once at start-up (``db`` from
``core.db.connect``); tests may bind a fresh ``memory:`` database per test, or
pass ``db=`` / use ``Model.using(db)`` and bind nothing.
"""
from core.db.database import Database

from .errors import DatabaseNotBound

_database = None


def bind(db):
    """Make ``db`` (a ``core.db.Database``) every model's default; returns the previous one."""
    global _database
    if not isinstance(db, Database):
        raise TypeError(f"bind() takes a core.db Database (from core.db.connect), "
                        f"not {type(db).__name__}")
    previous, _database = _database, db
    return previous


def unbind():
    """Forget the bound database; returns it (or ``None``)."""
    global _database
    previous, _database = _database, None
    return previous


def get_database(db=None):
    """``db`` if given, else the bound database; ``DatabaseNotBound`` if neither."""
    if db is not None:
        if not isinstance(db, Database):
            raise TypeError(f"db must be a core.db Database, not {type(db).__name__}")
        return db
    if _database is None:
        raise DatabaseNotBound(
            "no database bound for models: call core.models.bind(core.db.connect(url)) "
            "at start-up, or pass db= / use Model.using(db)")
    return _database
