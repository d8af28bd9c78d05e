"""The database object every backend returns from ``core.db.connect``."""
from . import subset

#: the collection write methods ``Database.write_each`` runs, with what each checks first
WRITE_EACH_CHECKS = {
    "insert_one": lambda document: subset.check_document(document),
    "update_one": lambda flt, update: (subset.check_filter(flt), subset.check_update(update)),
    "delete_one": lambda flt: subset.check_filter(flt),
}


def check_writes(writes):
    """``writes`` as a list of ``(collection name, method, arguments)``, every one checked as
    its collection method checks it; raises (``ValueError``, ``UnsupportedOperation``...)
    before anything is written."""
    checked = []
    for write in writes:
        name, method, *args = write
        check = WRITE_EACH_CHECKS.get(method)
        if check is None:
            raise ValueError(f"write_each runs {', '.join(WRITE_EACH_CHECKS)}, not {method!r}")
        check(*args)
        checked.append((name, method, args))
    return checked


class Database:
    """A named database: ``db["articles"]`` or ``db.get_collection("articles")``.

    Subclasses set ``collection_class`` and ``backend`` ('memory', 'embedded',
    'motor' or 'pymongo') and implement ping/list/drop/close.
    """

    collection_class = None
    #: the ``core.db.files.Files`` subclass that stores this backend's files
    files_class = None
    backend = None

    def __init__(self, name):
        self.name = name
        self._collections = {}

    def __repr__(self):
        return f"<{type(self).__name__} {self.backend}:{self.name}>"

    def __getitem__(self, name):
        return self.get_collection(name)

    def get_collection(self, name):
        if not isinstance(name, str) or not name or name.startswith("$") or "\x00" in name:
            raise ValueError(f"invalid collection name {name!r}")
        collection = self._collections.get(name)
        if collection is None:
            collection = self._collections[name] = self.collection_class(self, name)
        return collection

    async def write_each(self, writes):
        """Run ``writes`` in order — ``[(collection name, "insert_one", document)]``,
        ``(name, "update_one", filter, update)`` or ``(name, "delete_one", filter)`` — each
        as its collection method would (same checks, same result, counted in the
        collection's ``writes``), and return, for each, its result or the exception it
        raised. A write after a failed one is not run (its item is ``None``). They are not
        one transaction: each is its own, as if awaited one after another; what a backend
        may save is the hand-offs (the embedded store runs them in one call on its writer
        thread, where awaiting them in turn takes one each). Arguments are checked before
        anything is written (a bad one raises)."""
        results, failed = [], False
        for name, method, args in check_writes(writes):
            if failed:
                results.append(None)
                continue
            try:
                results.append(await getattr(self[name], method)(*args))
            except Exception as exc:             # returned, not raised: see the docstring
                results.append(exc)
                failed = True
        return results

    def change_marker(self):
        """A value that differs from one taken before whenever anything has been written to
        this database since — by this process or any other — or ``None``: this backend has
        no such marker (a caller then reads again every time). Compare two with ``==``
        only; take it *before* the reads it vouches for. Called on the event loop's thread,
        it costs a few microseconds and never waits on a lock (busy: ``None``)."""
        return None

    async def ping(self):
        """Raise if the database does not answer."""
        raise NotImplementedError

    async def list_collection_names(self):
        raise NotImplementedError

    async def drop_collection(self, name):
        raise NotImplementedError

    async def drop(self):
        """Remove the whole database (tests use this to clean up)."""
        raise NotImplementedError

    async def close(self):
        """Release connections and threads; the object is unusable afterwards."""
        raise NotImplementedError
