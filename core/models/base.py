"""The declarative ``Model``: fields in, documents out, optimistic versions.

    class Article(Model):
        title = fields.StringField(max_length=200, required=True)
        created = fields.DateTimeField(auto_now_add=True)

        class Meta:
            ordering = ["-created"]

    article = await Article.create(title="Hello")
    article.title = "Hello again"
    await article.save()          # replace guarded by version; StaleObjectError on conflict

Every object carries ``id`` (an ``ObjectId``; ``None`` until saved) and
``version`` (1 after the first save, +1 on every save). Uniqueness comes from
unique indexes (``ensure_indexes``), surfaced as ``UniqueError``.
"""
import datetime
import functools
import decimal
import re

from bson import ObjectId
from bson.decimal128 import Decimal128

from core.db.errors import DuplicateKeyError
from core.db.files import files_of
from core.i18n import gettext

from .connection import get_database
from .errors import (
    DoesNotExist, ImproperlyConfigured, StaleObjectError, UniqueError, ValidationError,
)
from .catalog import all_models, get_model, remember  # noqa: F401  (re-exported)
from .fields import Field, copy_field, date_to_bson, fill_fields
from .files import delete_files, file_fields, referenced_ids, store_uploads
from .options import Options, parse_sort
from .projected import ProjectedData, ProjectedObjectError, stored_as_is

RESERVED_NAMES = frozenset(("id", "pk", "version"))


def parse_id(value):
    """An ``ObjectId`` from an ``ObjectId`` or its 24-hex text; ``None`` for anything else."""
    if isinstance(value, ObjectId):
        return value
    if isinstance(value, str) and len(value) == 24 and ObjectId.is_valid(value):
        return ObjectId(value)
    return None


class ModelBase(type):
    """Builds ``cls._meta`` from the declared fields and ``class Meta``."""

    def __new__(mcs, name, bases, attrs, **kwargs):
        if not any(isinstance(base, ModelBase) for base in bases):
            return super().__new__(mcs, name, bases, attrs, **kwargs)  # Model itself
        meta = attrs.pop("Meta", None)
        own = [(key, value) for key, value in attrs.items() if isinstance(value, Field)]
        for key, _ in own:
            mcs._check_field_name(name, bases, key)
        cls = super().__new__(mcs, name, bases, attrs, **kwargs)
        cls._declared_meta = meta

        fields = {}
        for base in reversed(cls.__mro__[1:]):
            base_meta = base.__dict__.get("_meta")
            if isinstance(base_meta, Options):
                fields.update(base_meta.fields)
        for key, field in list(fields.items()):  # each model owns copies of inherited fields
            if key in attrs:
                if not isinstance(attrs[key], Field):  # e.g. ``created = None`` drops it
                    del fields[key]
                continue
            field = copy_field(field)
            field.contribute_to_class(cls, key)
            setattr(cls, key, field)
            fields[key] = field
        for key, field in own:
            fields.pop(key, None)
            field.contribute_to_class(cls, key)
            fields[key] = field

        parent_metas = [base.__dict__.get("_declared_meta") for base in cls.__mro__[1:]]
        cls._meta = Options(cls, meta, fields, parent_metas)
        if not cls._meta.abstract:
            remember(cls)
        return cls

    @staticmethod
    def _check_field_name(model_name, bases, key):
        if key.startswith("_") or key in RESERVED_NAMES:
            raise ImproperlyConfigured(
                f"{model_name}.{key}: field names may not start with '_' or be one of "
                f"{', '.join(sorted(RESERVED_NAMES))}")
        for base in bases:
            existing = getattr(base, key, None)
            if existing is not None and not isinstance(existing, Field):
                raise ImproperlyConfigured(
                    f"{model_name}.{key}: the field name clashes with {base.__name__}.{key}")


class Model(metaclass=ModelBase):
    """Base class of every model. Subclass it and declare fields as attributes.

    Hooks worth overriding:

    ``clean()``    runs on every ``save()``/``create()`` after the fields are
                   cleaned; call ``super().clean()`` first, then enforce
                   cross-field rules by raising ``ValidationError``.
    ``__str__()``  the object's label in the admin (default: "<verbose name> <id>").
    ``save()`` / ``delete()``  may be extended; call ``super()`` to do the write.
    """

    _meta = None
    #: the fields a projected object holds (``from_projection``; ``None``: every field)
    _projected = None
    #: a projected object's stored document (what its query returned)
    _stored = None

    def __init__(self, **data):
        """A new, unsaved object; missing fields take their defaults."""
        meta = type(self)._meta
        if meta is None or meta.abstract:
            raise TypeError(f"{type(self).__name__} is abstract and cannot be instantiated")
        self._data = {}
        self._extra = {}
        self._db = None
        self._persisted = False
        raw_id = data.pop("id", None)
        self.id = parse_id(raw_id) if raw_id is not None else None
        if raw_id is not None and self.id is None:
            raise ValueError(f"{raw_id!r} is not a valid id")
        self.version = data.pop("version", None)
        fill_fields(self, meta.fields, data)

    # -- identity ------------------------------------------------------------
    @property
    def pk(self):
        """Alias of ``id``."""
        return self.id

    def __str__(self):
        return f"{self._meta.verbose_name} {self.id if self.id is not None else '(unsaved)'}"

    def __repr__(self):
        return f"<{type(self).__name__}: {self}>"

    def __eq__(self, other):
        if not isinstance(other, Model) or other._meta.key != self._meta.key:
            return NotImplemented
        if self.id is None or other.id is None:
            return self is other
        return self.id == other.id

    def __hash__(self):
        if self.id is None:
            raise TypeError("an unsaved model object is unhashable")
        return hash((self._meta.key, self.id))

    # -- documents -------------------------------------------------------------
    def to_bson(self):
        """The stored document: ``_id``, ``version``, every field, then unknown keys kept."""
        doc = {}
        if self.id is not None:
            doc["_id"] = self.id
        if self.version is not None:
            doc["version"] = self.version
        for name, field in self._meta.fields.items():
            doc[name] = field.to_bson(self._data.get(name))
        for key, value in self._extra.items():
            doc.setdefault(key, value)
        return doc

    @classmethod
    def from_bson(cls, doc, db=None):
        """An object for a stored document (keys the model does not declare are kept)."""
        obj = cls.__new__(cls)
        obj._data = {}
        obj._db = db
        obj._persisted = "_id" in doc
        obj.id = doc.get("_id")
        obj.version = doc.get("version")
        for name, field in cls._meta.fields.items():
            obj._data[name] = field.from_bson(doc[name]) if name in doc else field.get_default()
        obj._extra = {key: value for key, value in doc.items()
                      if key not in cls._meta.fields and key not in ("_id", "version")}
        return obj

    @classmethod
    def from_projection(cls, doc, fields, db=None):
        """A read-only object holding only ``fields`` of the stored document ``doc``
        (``core.models.projected``): values taken as stored where ``stored_as_is(field)``,
        else through ``Field.from_bson``; a field missing from ``doc`` takes its default.
        Reading another field raises ``NotFetched``; ``save`` and ``delete`` raise
        ``ProjectedObjectError``."""
        return cls.projector(fields, db)(doc)

    @classmethod
    def projector(cls, fields, db=None):
        """``make(doc)``: ``from_projection(doc, fields, db)``, with what does not
        depend on the document (each field, whether it is stored as it is, the fetched
        names) worked out once for a query's documents."""
        declared = cls._meta.fields
        plan = [(name, declared[name], stored_as_is(declared[name])) for name in fields]
        projected = frozenset(fields)

        def make(doc):
            obj = cls.__new__(cls)
            data = obj._data = ProjectedData()
            data.model = cls
            obj._db = db
            obj._persisted = "_id" in doc
            obj.id = doc.get("_id")
            obj.version = doc.get("version")
            for name, field, stored in plan:
                if name not in doc:
                    data[name] = field.get_default()
                elif stored:
                    data[name] = doc[name]
                else:
                    data[name] = field.from_bson(doc[name])
            obj._extra = {}
            obj._projected = projected
            obj._stored = doc
            return obj
        return make

    def fetched(self, name):
        """Whether this object holds field ``name``: always, unless it is a projected one
        (``find(fields=...)``) whose query left ``name`` out."""
        return self._projected is None or name in self._projected

    def _refuse_projected(self, verb):
        if self._projected is not None:
            raise ProjectedObjectError(
                f"a projected {type(self).__name__} (only {', '.join(sorted(self._projected))}"
                f" fetched) cannot be {verb}; fetch the whole object")

    def to_json(self):
        """A JSON-serialisable dict: ``id`` (text), ``version`` and every field."""
        out = {"id": str(self.id) if self.id is not None else None, "version": self.version}
        for name, field in self._meta.fields.items():
            out[name] = field.to_json(self._data.get(name))
        return out

    def get_display(self, name):
        """Human text for field ``name`` (the choice label when it has choices)."""
        return self._meta.get_field(name).display(self._data.get(name))

    # -- validation ------------------------------------------------------------
    def clean(self):
        """Validate and convert every field in place; runs on each ``save()``.

        Raises ``ValidationError`` whose ``errors`` maps each bad field to its
        message. Override to add cross-field rules: call ``super().clean()``
        first, then raise ``ValidationError({"field": "message"})`` (or a plain
        message for the whole object).
        """
        errors = {}
        codes = []
        for name, field in self._meta.fields.items():
            try:
                self._data[name] = field.clean(self._data.get(name))
            except ValidationError as exc:
                errors.update(exc.errors)
                codes.append(exc.code)
        if errors:
            raise ValidationError(errors, code=codes[0] if len(codes) == 1 else None)

    # -- database: class side --------------------------------------------------
    @classmethod
    def _concrete(cls):
        if cls._meta is None or cls._meta.abstract:
            raise TypeError(f"{cls.__name__} is abstract: it has no collection")
        return cls

    @classmethod
    def get_collection(cls, db=None):
        """The ``core.db`` collection of this model in ``db`` (default: the bound database)."""
        return get_database(db)[cls._concrete()._meta.collection]

    @classmethod
    def using(cls, db):
        """This model's class API on ``db`` instead of the bound database.

        ``await Article.using(db).get(id)``; objects it returns save to ``db``.
        """
        if db is None:
            raise TypeError("using() needs a database")
        return BoundModel(cls, get_database(db))

    @classmethod
    async def get(cls, id, *, db=None):
        """The object with this id (``ObjectId`` or 24-hex text), or ``None``.

        A malformed id returns ``None``; it never raises.
        """
        oid = parse_id(id)
        if oid is None:
            return None
        doc = await cls.get_collection(db).find_one({"_id": oid})
        return cls.from_bson(doc, db) if doc is not None else None

    @classmethod
    def find(cls, filter=None, sort=None, *, skip=0, limit=0, db=None, fields=None):
        """A cursor of objects matching ``filter`` (a store filter; ``"id"`` means ``_id``).

        ``sort`` takes ``"-created"``, ``["-created", "title"]`` or ``(field, 1|-1)``
        pairs; by default ``Meta.ordering``. Chain ``.sort()/.skip()/.limit()``,
        then ``await cursor.to_list(n)`` or ``async for``. ``fields`` (names of declared
        fields) fetches only those: the store projects, and the objects are read-only
        projected ones (``from_projection``).
        """
        spec = cls._meta.sort if sort is None else parse_sort(sort)
        projection = None
        if fields is not None:
            fields = [name for name in dict.fromkeys(fields) if name in cls._meta.fields]
            projection = {"version": 1, **{name: 1 for name in fields}}
        cursor = cls.get_collection(db).find(_translate_filter(filter), projection,
                                             sort=spec or None, skip=skip, limit=limit)
        return ModelCursor(cls, cursor, db, fields)

    @classmethod
    async def find_one(cls, filter=None, sort=None, *, db=None):
        """The first object matching ``filter`` (in ``sort`` or default order), or ``None``."""
        found = await cls.find(filter, sort, limit=1, db=db).to_list(1)
        return found[0] if found else None

    @classmethod
    async def count(cls, filter=None, limit=0, *, db=None):
        """How many objects match ``filter``; ``limit`` caps the count (0: no cap)."""
        return await cls.get_collection(db).count_documents(_translate_filter(filter),
                                                            limit=limit)

    @classmethod
    async def create(cls, *, db=None, **data):
        """Build, validate and insert a new object; returns it (``version`` 1).

        Raises ``ValidationError`` (``UniqueError`` for a taken unique value).
        """
        obj = cls(**data)
        obj._db = db
        await obj.save()
        return obj

    @classmethod
    async def ensure_indexes(cls, *, db=None):
        """Create every declared index (``Meta.indexes`` and ``unique``/``index`` fields).

        Idempotent; returns the index names.
        """
        collection = cls.get_collection(db)
        names = []
        for index in cls._meta.indexes:
            names.append(await collection.create_index(index.keys, unique=index.unique,
                                                       name=index.name))
        return names

    # -- database: object side ---------------------------------------------------
    def _database(self, db):
        return get_database(db if db is not None else self._db)

    async def save(self, *, db=None):
        """Insert a new object, or replace the stored one if nobody changed it meanwhile.

        Runs each field's ``pre_save`` (``auto_now``...) and ``clean()`` first.
        An update is ``replace_one({"_id": id, "version": v}, doc with v + 1)``;
        if another writer saved first, nothing is written and
        ``StaleObjectError`` carries the stored document. A taken unique value
        raises ``UniqueError``. Returns the object.
        """
        self._refuse_projected("saved")
        database = self._database(db)
        collection = database[self._concrete()._meta.collection]
        add = not self._persisted
        for field in self._meta.fields.values():
            field.pre_save(self, add)
        self.clean()
        if file_fields(type(self)):
            await self._write_with_files(database, collection, add)
        else:
            await self._write(collection, add)
        self._persisted = True
        if db is not None:
            self._db = db
        await self.after_write(database, deleted=False)
        return self

    async def _write(self, collection, add):
        """Insert or replace the document (``save`` after validation)."""
        if add:
            generated = self.id is None
            if generated:
                self.id = ObjectId()
            old_version, self.version = self.version, 1
            try:
                await collection.insert_one(self.to_bson())
            except DuplicateKeyError as exc:
                error = await self._unique_error(exc, collection)
                self.version = old_version
                if generated:
                    self.id = None
                raise error from None
        else:
            old = self.version
            doc = self.to_bson()
            doc["version"] = (old or 0) + 1
            guard = {"_id": self.id,
                     "version": old if old is not None else {"$exists": False}}
            try:
                result = await collection.replace_one(guard, doc)
            except DuplicateKeyError as exc:
                raise await self._unique_error(exc, collection) from None
            if not result.matched_count:
                current = await collection.find_one({"_id": self.id})
                raise StaleObjectError(type(self), self.id, old, current)
            self.version = doc["version"]

    async def _write_with_files(self, database, collection, add):
        """``_write`` for a model with ``FileField``s: store new uploads first; after the
        write, delete the files the document no longer holds; on failure, the new ones."""
        files = files_of(database)
        version = self.version if self.version is not None else {"$exists": False}
        before = [] if add else referenced_ids(type(self), await collection.find_one(
            {"_id": self.id, "version": version}))
        stored = await store_uploads(self, files)
        try:
            await self._write(collection, add)
        except BaseException:
            await delete_files(files, stored)
            raise
        kept = set(referenced_ids(type(self), self.to_bson()))
        await delete_files(files, [file_id for file_id in before if file_id not in kept])

    async def after_write(self, database, deleted):
        """Called once ``save`` or ``delete`` has written to ``database`` (``deleted``:
        it was a delete that removed the object). Does nothing; override to react to
        the change — the accounts app's users and roles invalidate every process's
        auth cache (``core.auth.sessions.invalidate_auth_cache``)."""

    async def delete(self, *, db=None):
        """Delete the stored object; True if it was there. The object keeps its values."""
        self._refuse_projected("deleted")
        if self.id is None:
            raise ValueError(f"{type(self).__name__} object can't be deleted: it has no id")
        database = self._database(db)
        collection = database[self._concrete()._meta.collection]
        held = []
        if file_fields(type(self)):
            held = referenced_ids(type(self), await collection.find_one({"_id": self.id}))
        result = await collection.delete_one({"_id": self.id})
        self._persisted = False
        if result.deleted_count:
            await delete_files(files_of(database), held)
            await self.after_write(database, deleted=True)
        return bool(result.deleted_count)

    async def reload(self, *, db=None):
        """Refresh values and version from the database; ``DoesNotExist`` if it is gone."""
        database = self._database(db)
        doc = await database[self._concrete()._meta.collection].find_one({"_id": self.id})
        if doc is None:
            raise DoesNotExist(f"{self._meta.verbose_name} {self.id} does not exist")
        fresh = type(self).from_bson(doc, self._db)
        self._data, self._extra, self.version = fresh._data, fresh._extra, fresh.version
        self._projected = self._stored = None          # whole again
        self._persisted = True
        return self

    async def get_related(self, name, *, db=None):
        """The object a ``ReferenceField`` called ``name`` points to, or ``None``."""
        field = self._meta.get_field(name)
        if not hasattr(field, "target"):
            raise TypeError(f"{type(self).__name__}.{name} is not a ReferenceField")
        value = self._data.get(name)
        if value is None:
            return None
        return await field.target.get(value, db=db if db is not None else self._db)

    # -- helpers -----------------------------------------------------------------
    async def _unique_error(self, exc, collection):
        """Turn the driver's ``DuplicateKeyError`` into a ``UniqueError``.

        The violated index comes from the error's ``keyPattern`` or the index
        name in its message (MongoDB, the embedded store). A server that reports
        neither (FerretDB v1) gets one look-up per declared unique index for
        another document holding the same values; that read only names the
        field, the index alone decided the write.
        """
        meta = self._meta
        details = getattr(exc, "details", None)
        details = details if isinstance(details, dict) else {}
        key_pattern = details.get("keyPattern")
        if not isinstance(key_pattern, dict) or not key_pattern:
            key_pattern = None
        text = f"{exc} {details.get('errmsg', '')}"
        match = re.search(r"index:\s*([^\s,]+)", text)
        index_name = match.group(1) if match else None
        paths = list(key_pattern) if key_pattern else None
        if paths is None and index_name is not None:
            index = meta.index_named(index_name)
            if index is not None:
                paths = index.fields
            elif index_name == "_id_":
                paths = ["_id"]
        if paths is None:
            for candidate in meta.indexes:  # a declared index name anywhere in the text
                if candidate.unique and re.search(
                        rf"(?<![\w.]){re.escape(candidate.name)}(?![\w])", text):
                    index_name, paths = candidate.name, candidate.fields
                    break
        if paths is None:
            paths = await self._find_duplicated_paths(collection)
        return self._unique_error_for(paths, index_name)

    async def _find_duplicated_paths(self, collection):
        """The paths of the unique index another stored document collides with, or None."""
        doc = self.to_bson()
        for index in self._meta.indexes:
            if not index.unique or not all(path in doc for path in index.fields):
                continue
            values = {path: doc[path] for path in index.fields}
            if any(isinstance(value, (list, dict)) for value in values.values()):
                continue
            if await collection.find_one({**values, "_id": {"$ne": self.id}}, {"_id": 1}):
                return index.fields
        if not self._persisted and await collection.find_one({"_id": self.id}, {"_id": 1}):
            return ["_id"]
        return None

    def _unique_error_for(self, paths, index_name=None):
        meta = self._meta
        name = str(meta.verbose_name)            # may be a lazy, translatable string
        subject = name[:1].upper() + name[1:]
        if not paths:
            return UniqueError(gettext("%(model)s with these values already exists.")
                               % {"model": subject}, index=index_name)
        if paths == ["_id"]:
            return UniqueError(gettext("%(model)s with this id already exists.")
                               % {"model": subject}, index="_id_")
        labels = [str(meta.fields[p].verbose_name) if p in meta.fields else p for p in paths]
        message = gettext("%(model)s with this %(fields)s already exists.") % {
            "model": subject, "fields": gettext(" and ").join(labels)}
        if index_name is None:
            declared = [i for i in meta.indexes if i.unique and i.fields == list(paths)]
            index_name = declared[0].name if declared else "_".join(f"{p}_1" for p in paths)
        if len(paths) == 1 and paths[0] in meta.fields:
            return UniqueError(message, field=paths[0], index=index_name)
        return UniqueError(message, index=index_name)


def _translate_filter(flt):
    """Top-level ``"id"`` → ``"_id"`` (also inside ``$and/$or/$nor``), and values as
    stored: a ``datetime.date`` → its midnight UTC, a ``Decimal`` → ``Decimal128``."""
    if not isinstance(flt, dict):
        return flt
    out = {}
    for key, value in flt.items():
        if key in ("$and", "$or", "$nor") and isinstance(value, (list, tuple)):
            value = [_translate_filter(sub) for sub in value]
        else:
            value = _stored_value(value)
        out["_id" if key == "id" else key] = value
    return out


def _stored_value(value):
    """A filter value in the form fields store it (dates and decimals; see above)."""
    if isinstance(value, dict):
        return {key: _stored_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_stored_value(item) for item in value]
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return date_to_bson(value)
    if isinstance(value, decimal.Decimal) and value.is_finite():
        return Decimal128(value)
    return value


class ModelCursor:
    """A lazy query yielding model objects; mirrors the ``core.db`` cursor.

    ``sort()`` also takes ``"-field"`` strings. Nothing runs until ``to_list``
    or ``async for``; then the cursor is spent.
    """

    def __init__(self, model, cursor, db=None, fields=None):
        self.model = model
        self.cursor = cursor
        self._db = db
        self.fields = fields            # projected objects of these fields (None: whole)

    def sort(self, key_or_list, direction=None):
        """``sort("-created")``, ``sort("title", -1)`` or ``sort([("a", 1), ("b", -1)])``."""
        spec = parse_sort([(key_or_list, direction)] if direction is not None else key_or_list)
        self.cursor.sort(spec)
        return self

    def skip(self, count):
        self.cursor.skip(count)
        return self

    def limit(self, count):
        """At most ``count`` objects (0: no limit)."""
        self.cursor.limit(count)
        return self

    async def to_list(self, length=None):
        """Up to ``length`` objects (all when ``None``)."""
        docs = await self.cursor.to_list(length)
        if self.fields is not None:
            make = self.model.projector(self.fields, self._db)
            return [make(doc) for doc in docs]
        return [self.model.from_bson(doc, self._db) for doc in docs]

    def __aiter__(self):
        return self._iterate()

    async def _iterate(self):
        make = self.model.projector(self.fields, self._db) if self.fields is not None else \
            functools.partial(self.model.from_bson, db=self._db)
        async for doc in self.cursor:
            yield make(doc)


class BoundModel:
    """``Model.using(db)``: the model's class API on one database.

    Calling it builds an object that saves to that database.
    """

    def __init__(self, model, db):
        self.model = model
        self.db = db

    def __repr__(self):
        return f"<{self.model.__name__} using {self.db!r}>"

    @property
    def _meta(self):
        return self.model._meta

    def __call__(self, **data):
        obj = self.model(**data)
        obj._db = self.db
        return obj

    def get_collection(self):
        return self.model.get_collection(self.db)

    async def get(self, id):
        return await self.model.get(id, db=self.db)

    def find(self, filter=None, sort=None, *, skip=0, limit=0):
        return self.model.find(filter, sort, skip=skip, limit=limit, db=self.db)

    async def find_one(self, filter=None, sort=None):
        return await self.model.find_one(filter, sort, db=self.db)

    async def count(self, filter=None, limit=0):
        return await self.model.count(filter, limit, db=self.db)

    async def create(self, **data):
        return await self.model.create(db=self.db, **data)

    async def ensure_indexes(self):
        return await self.model.ensure_indexes(db=self.db)
