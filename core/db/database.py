"""The database object every backend returns from ``core.db.connect``."""


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
