"""``Model._meta``: what a model declares, gathered once when the class is built.

A model's inner ``class Meta`` may set:

``app_label``            default: from the module (``apps.blog.models`` → ``blog``)
``collection``           default: ``"<app_label>_<model_name>"``
``ordering``             default sort, e.g. ``["-created", "title"]`` (``"id"`` allowed)
``indexes``              ``[Index(...), ...]`` (plus every ``unique=``/``index=`` field)
``verbose_name``         default: the class name split into words (``BlogPost`` → ``blog post``)
``verbose_name_plural``  default: ``verbose_name + "s"``
``extra_actions``        permission actions beyond read/write/delete, e.g. ``("publish",)``
``abstract``             True: a base class that holds shared fields, with no collection

``ordering``, ``indexes`` and ``extra_actions`` are inherited from a parent
model's Meta when the child does not set them.
"""
import re

from core.db import subset
from core.db.errors import UnsupportedOperation

from .errors import ImproperlyConfigured

DEFAULT_ACTIONS = ("read", "write", "delete", "export")
META_OPTIONS = frozenset((
    "app_label", "collection", "ordering", "indexes", "verbose_name", "verbose_name_plural",
    "extra_actions", "abstract",
))
INHERITED_META_OPTIONS = ("ordering", "indexes", "extra_actions")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class Index:
    """An index to create with ``Model.ensure_indexes()``.

    ``Index("slug", unique=True)``, ``Index("-created")`` (descending),
    ``Index([("category", 1), ("created", -1)])`` or ``Index(["category", "-created"])``.
    ``name`` defaults to MongoDB's (``category_1_created_-1``). ``"id"`` means ``_id``.
    """

    def __init__(self, keys, unique=False, name=None):
        try:
            self.keys = parse_sort(keys)
        except ValueError as exc:
            raise ImproperlyConfigured(f"bad Index keys: {exc}") from None
        if not self.keys:
            raise ImproperlyConfigured("an Index needs at least one field")
        self.unique = bool(unique)
        self.name = name or subset.index_name(self.keys)

    @property
    def fields(self):
        """The indexed paths, in order."""
        return [path for path, _ in self.keys]

    def __eq__(self, other):
        return (isinstance(other, Index) and (self.keys, self.unique, self.name)
                == (other.keys, other.unique, other.name))

    def __hash__(self):
        return hash((tuple(self.keys), self.unique, self.name))

    def __repr__(self):
        unique = ", unique=True" if self.unique else ""
        return f"Index({self.keys!r}{unique}, name={self.name!r})"


def parse_sort(spec):
    """``"-created"`` / ``["-created", "title"]`` / ``[("created", -1)]`` → pairs.

    ``"id"`` becomes ``"_id"``. Raises ``ValueError`` on a bad spec.
    """
    if spec is None:
        return []
    if isinstance(spec, str):
        spec = [spec]
    elif isinstance(spec, dict):
        spec = list(spec.items())
    pairs = []
    for item in spec:
        if isinstance(item, str):
            path, direction = (item[1:], -1) if item.startswith("-") else (item, 1)
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            path, direction = item
        else:
            raise ValueError(f"expected 'field', '-field' or (field, 1|-1), not {item!r}")
        if path == "id":
            path = "_id"
        try:
            subset.normalize_sort([(path, direction)])
        except UnsupportedOperation as exc:
            raise ValueError(str(exc)) from None
        pairs.append((path, direction))
    return pairs


def app_label_from_module(module):
    """``apps.blog.models`` → ``blog``; ``shop.models.order`` → ``shop``; else the last part."""
    parts = (module or "").split(".")
    if len(parts) >= 2 and parts[0] == "apps":
        return parts[1]
    if "models" in parts[1:]:
        return parts[parts.index("models", 1) - 1]
    return parts[-1].strip("_") or "main"


def verbose_from_class_name(name):
    """``BlogPost`` → ``blog post``; ``HTTPLog`` → ``http log``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name)
    return words.lower().strip()


class Options:
    """Everything a model declares; available as ``Model._meta``.

    ``fields`` is an ordered ``{name: Field}`` in declaration order (inherited
    fields first). ``app_label`` may be reassigned by an app registry; ``key``
    and the default ``collection`` follow it.
    """

    def __init__(self, model, meta, fields, parent_metas=()):
        declared = {k: v for k, v in vars(meta).items() if not k.startswith("_")} if meta else {}
        unknown = set(declared) - META_OPTIONS
        if unknown:
            raise ImproperlyConfigured(
                f"{model.__name__}.Meta has unknown option(s): {', '.join(sorted(unknown))}")
        for option in INHERITED_META_OPTIONS:
            if option not in declared:
                for parent in parent_metas:
                    if parent is not None and hasattr(parent, option):
                        declared[option] = getattr(parent, option)
                        break

        self.model = model
        self.object_name = model.__name__
        self.model_name = model.__name__.lower()
        self.abstract = bool(declared.get("abstract", False))
        self.fields = fields
        self.app_label = declared.get("app_label") or app_label_from_module(model.__module__)
        self._collection = declared.get("collection")
        self.verbose_name = declared.get("verbose_name") or verbose_from_class_name(
            model.__name__)
        self.verbose_name_plural = declared.get("verbose_name_plural") or (
            f"{self.verbose_name}s")

        ordering = declared.get("ordering") or []
        self.ordering = [ordering] if isinstance(ordering, str) else list(ordering)
        try:
            self.sort = parse_sort(self.ordering)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{model.__name__}.Meta.ordering: {exc}") from None
        for path, _ in self.sort:
            self._check_path(path, "ordering")

        extra = declared.get("extra_actions") or ()
        if isinstance(extra, str):
            extra = (extra,)
        actions = list(DEFAULT_ACTIONS)
        for action in extra:
            if not isinstance(action, str) or not _NAME.match(action):
                raise ImproperlyConfigured(f"{model.__name__}: action names are lower-case "
                                           f"identifiers, not {action!r}")
            if action not in actions:
                actions.append(action)
        self.extra_actions = tuple(actions[len(DEFAULT_ACTIONS):])
        self.actions = tuple(actions)

        self.indexes = self._collect_indexes(declared.get("indexes") or ())

    # -- derived names -------------------------------------------------------
    @property
    def key(self):
        """The permission key: ``"<app_label>.<model_name>"``."""
        return f"{self.app_label}.{self.model_name}"

    @property
    def collection(self):
        """The MongoDB collection name."""
        return self._collection or f"{self.app_label}_{self.model_name}"

    @collection.setter
    def collection(self, value):
        self._collection = value

    @property
    def field_names(self):
        return list(self.fields)

    def get_field(self, name):
        """The field called ``name``; ``KeyError`` naming the model if there is none."""
        try:
            return self.fields[name]
        except KeyError:
            raise KeyError(f"{self.object_name} has no field {name!r}") from None

    def field_at(self, path):
        """The ``FieldPath`` of a dotted path through sub-documents (``address.country``,
        ``lines.sku``; a plain name too); ``KeyError`` with a sentence when a part is no
        field or the path would go through a reference, a dict or a scalar."""
        from .fields import resolve_path
        return resolve_path(self.fields, path, self.object_name)

    def __repr__(self):
        return f"<Options for {self.object_name} ({self.key})>"

    # -- helpers ---------------------------------------------------------------
    def _check_path(self, path, where):
        head = path.split(".")[0]
        if head not in self.fields and head not in ("_id", "version"):
            raise ImproperlyConfigured(
                f"{self.object_name}.Meta.{where} names unknown field {head!r}")

    def _collect_indexes(self, declared):
        indexes = []
        for name, field in self.fields.items():
            if field.unique:
                indexes.append(Index(name, unique=True))
            elif field.index:
                indexes.append(Index(name))
        for entry in declared:
            index = entry if isinstance(entry, Index) else Index(entry)
            for path in index.fields:
                self._check_path(path, "indexes")
            indexes.append(index)
        seen = {}
        for index in indexes:
            if index.name in seen:
                if seen[index.name] != index:
                    raise ImproperlyConfigured(
                        f"{self.object_name}: two different indexes are named {index.name!r}")
                continue
            seen[index.name] = index
        return list(seen.values())

    def index_named(self, name):
        for index in self.indexes:
            if index.name == name:
                return index
        return None
