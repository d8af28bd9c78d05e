"""``ChangeList``: one model's list as one request asks for it.

The list page (``ListHandler``) and the JSON API's list (``ApiListHandler``) both
compose it, so both read the same rows the same way::

    changelist = model_admin.get_changelist(ctx, args, secret=cookie_secret)
    await changelist.fetch()           # 400-worthy input: BadListArguments
    changelist.page.objects            # this page's objects (pagination.Page)
    changelist.count_text              # "≈ 12,345", "1,000+", "3"
    changelist.url_with(o="-title")    # the list's URL with one argument changed

``ctx`` is the request (anything with ``current_user``, ``permissions`` and
``db``; the admin's hooks receive it as ``handler``). ``args`` maps each query
argument's name to its (last) value. Parsing happens when the ChangeList is
built: search ``?q=`` (``core.admin.search``), the filters of ``list_filter`` and
``date_hierarchy`` (``core.admin.filters``), sort ``?o=field`` / ``?o=-field`` (a
dotted path through sub-documents too: ``?o=address.city``),
``?per_page=`` and the keyset ``?cursor=`` (signed with ``secret``); any other
argument is ``BadListArguments``. The search is resolved by ``fetch`` (a search
through a reference queries the target model first). Every step is a small method
a subclass may refine, and a ``ModelAdmin`` picks the subclass with
``changelist_class``.
"""
from urllib.parse import quote_plus

from pymongo.errors import ExecutionTimeout

from . import pagination
from .filters import BadListArguments, DateHierarchy, make_filter
from .search import MAX_SEARCH_LENGTH, MAX_SEARCH_WORDS, build_search

__all__ = ["BadListArguments", "ChangeList", "LIST_ARGUMENTS", "MAX_SEARCH_LENGTH",
           "MAX_SEARCH_WORDS", "sortable_path"]

#: query arguments every list understands besides those of its filters
LIST_ARGUMENTS = ("q", "o", "cursor", "per_page")


def sortable_path(opts, name):
    """Whether the list can sort (and page) by ``name``: a field or a dotted path through
    sub-documents to one value that is not hidden, not a list nor a sub-document."""
    try:
        path = opts.field_at(name)
    except KeyError:
        return False
    return not path.many and not any(getattr(f, "hidden", False) for f in path.fields) \
        and not getattr(path.field, "accepts_containers", False)


class ChangeList:
    """Search, filters, sort, page size and cursor of one list request, and its page."""

    def __init__(self, model_admin, ctx, args, *, secret):
        self.model_admin = model_admin
        self.ctx = ctx
        self.args = dict(args)
        self.secret = secret
        self.model = model_admin.model
        self.opts = model_admin.opts
        self.q = self.get_search_query()
        self.filters = self.get_filters()
        self.date_hierarchy = self.get_date_hierarchy()
        self.check_arguments()
        self.filter_values = self.get_filter_values()
        self.sort, self.current_o = self.get_sort()
        self.per_page, self.per_page_choices = self.get_per_page()
        self.position = self.get_position()
        self.filter = None                  # the store filter, once ``fetch`` resolved it
        self.page = None
        self.count = self.count_text = self.estimated = None

    def arg(self, name, default=None):
        value = self.args.get(name)
        return default if value is None else value

    # -- parsing (each step may be refined by a subclass) --------------------------------------
    def get_search_query(self):
        """``?q=`` stripped and cut to ``MAX_SEARCH_LENGTH`` characters."""
        return self.arg("q", "").strip()[:MAX_SEARCH_LENGTH]

    async def get_search_filter(self, q):
        """Every word must match some search field (``core.admin.search``: lookups
        ``^prefix``, ``=exact``, contains; paths through references)."""
        return await build_search(self.model_admin, self.ctx, q)

    def get_filters(self):
        """The ``ListFilter`` of every ``list_filter`` entry, its arguments parsed."""
        found = []
        for entry in self.model_admin.get_list_filter(self.ctx):
            list_filter = make_filter(self.model_admin, self.ctx, entry)
            list_filter.parse(self.args)
            found.append(list_filter)
        return found

    def get_date_hierarchy(self):
        """The ``DateHierarchy`` of the admin's ``date_hierarchy`` field, or ``None``."""
        name = self.model_admin.get_date_hierarchy(self.ctx)
        if not name:
            return None
        hierarchy = DateHierarchy(self.model_admin, self.ctx, name)
        hierarchy.parse(self.args)
        return hierarchy

    def allowed_arguments(self):
        """Every query argument this list takes."""
        names = list(LIST_ARGUMENTS)
        for item in self.filters + ([self.date_hierarchy] if self.date_hierarchy else []):
            names += [name for name in item.parameters() if name not in names]
        return names

    def check_arguments(self):
        """An argument no part of the list reads is a mistake: ``BadListArguments``."""
        allowed = self.allowed_arguments()
        unknown = sorted(name for name in self.args if name not in allowed)
        if unknown:
            raise BadListArguments(f"Unknown query argument {unknown[0][:100]!r}; the list "
                                   f"takes {', '.join(sorted(allowed))}.")

    def get_filter_values(self):
        """``{argument: text}`` of the filters that narrow the list."""
        values = {}
        for item in self.filters + ([self.date_hierarchy] if self.date_hierarchy else []):
            if item.active:
                values.update({name: self.args[name] for name in item.parameters()
                               if self.args.get(name) not in (None, "")})
        return values

    def sortable_fields(self):
        """``get_sortable_fields`` minus what cannot be sorted on: unknown names, hidden
        fields, lists and sub-documents, and paths that cross a list (``lines.sku``).
        Dotted paths through sub-documents (``address.city``) sort."""
        return [name for name in self.model_admin.get_sortable_fields(self.ctx)
                if sortable_path(self.opts, name)]

    def get_sort(self):
        """``(sort pairs with _id last, current ?o= value or None)``."""
        raw = self.arg("o")
        if raw:
            name = raw[1:] if raw.startswith("-") else raw
            if name not in self.sortable_fields():
                raise BadListArguments(f"Cannot sort by {raw!r}.")
            direction = -1 if raw.startswith("-") else 1
            return [(name, direction), ("_id", direction)], raw
        pairs = []
        for item in self.model_admin.get_ordering(self.ctx):
            desc = item.startswith("-")
            path = item[1:] if desc else item
            path = "_id" if path == "id" else path
            pairs.append((path, -1 if desc else 1))
        if not pairs or pairs[-1][0] != "_id":
            pairs = [p for p in pairs if p[0] != "_id"]
            pairs.append(("_id", pairs[-1][1] if pairs else -1))
        return pairs, None

    def get_per_page(self):
        """``(rows per page, the sizes offered)``."""
        raw = self.arg("per_page")
        choices = list(self.model_admin.list_per_page_choices)
        if raw is None or raw == "":
            return self.model_admin.list_per_page, choices
        value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else None
        if value not in choices:
            raise BadListArguments(f"per_page must be one of {', '.join(map(str, choices))}.")
        return value, choices

    def get_position(self):
        """The keyset position the signed ``?cursor=`` names (``None``: the first page)."""
        token = self.arg("cursor")
        if not token:
            return None
        try:
            return pagination.decode_cursor(self.secret, token, self.sort)
        except pagination.CursorError as exc:
            raise BadListArguments(str(exc)) from None

    def filter_clauses(self, hierarchy=True):
        """The filters' clauses (and the date hierarchy's, unless ``hierarchy`` is false)."""
        items = self.filters + ([self.date_hierarchy] if hierarchy and self.date_hierarchy
                                else [])
        return [clause for clause in (item.query() for item in items) if clause]

    async def get_filter(self, hierarchy=True):
        """Search and filters, within the admin's row scope (``get_base_filter``)."""
        search = await self.get_search_filter(self.q)
        for item in self.filters:
            await item.resolve()
        clauses = [c for c in (search, *self.filter_clauses(hierarchy)) if c]
        narrowed = {"$and": clauses} if len(clauses) > 1 else (clauses[0] if clauses else {})
        return self.model_admin.scoped(self.ctx, narrowed)

    # -- fetching ----------------------------------------------------------------------------
    async def fetch(self, fields=None):
        """Fetch the page and the count; a query stopped by the store's time budget
        (``ExecutionTimeout``) is ``BadListArguments``: the search was too broad.
        ``fields``: the page's objects hold only those (and the sort keys): projected,
        read-only objects (``core.models.projected``); ``None``: whole objects."""
        db = self.ctx.db
        if self.filter is None:
            self.filter = await self.get_filter()
        try:
            self.page = await pagination.fetch_page(self.model, db, self.filter, self.sort,
                                                    self.position, self.per_page, self.secret,
                                                    fields=fields)
            self.count, self.count_text, self.estimated = await pagination.count_rows(
                self.model, db, self.filter)
        except ExecutionTimeout as exc:              # the store's sentence, never the driver's
            raise BadListArguments(getattr(exc, "message", None) or
                                   "The search took too long and was stopped; try more "
                                   "specific words.") from None
        return self

    @property
    def narrowed(self):
        """Whether search or filters narrow the list (the page offers "clear")."""
        return bool(self.q or self.filter_values)

    # -- URLs ---------------------------------------------------------------------------------
    def query_args(self, **changes):
        """The list's current query arguments with ``changes`` (``None`` drops one)."""
        kept = self.__dict__.get("_kept_args")
        if kept is None:                  # once per list: a page asks for a dozen URLs
            keep = [name for name in self.allowed_arguments() if name != "cursor"]
            kept = self._kept_args = {name: self.args[name] for name in keep
                                      if self.args.get(name) not in (None, "")}
        args = dict(kept)
        for name, value in changes.items():
            if value is None:
                args.pop(name, None)
            else:
                args[name] = value
        return args

    def url_with(self, **changes):
        """The list's URL with ``changes`` to its query arguments: ``query_args(**changes)``
        URL-encoded (as ``urlencode``), each kept argument encoded once per list (a page
        asks for a dozen URLs)."""
        encoded = self.__dict__.get("_encoded_args")
        if encoded is None:
            encoded = self._encoded_args = {name: _encoded(name, value)
                                            for name, value in self.query_args().items()}
        pairs = [_encoded(name, changes[name]) if name in changes else pair
                 for name, pair in encoded.items()
                 if name not in changes or changes[name] is not None]
        pairs += [_encoded(name, value) for name, value in changes.items()
                  if value is not None and name not in encoded]
        return self.model_admin.url_prefix + ("?" + "&".join(pairs) if pairs else "")


def _encoded(name, value):
    """``name=value`` as ``urlencode`` writes one argument."""
    return f"{quote_plus(str(name))}={quote_plus(str(value))}"
