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
built: search ``?q=``, filters ``?<field>=`` for ``list_filter`` fields, sort
``?o=field`` / ``?o=-field``, ``?per_page=`` and the keyset ``?cursor=`` (signed
with ``secret``). Every step is a small method a subclass may refine, and a
``ModelAdmin`` picks the subclass with ``changelist_class``.
"""
import re
from urllib.parse import urlencode

from pymongo.errors import ExecutionTimeout

from core.models.errors import ValidationError

from . import pagination

__all__ = ["BadListArguments", "ChangeList", "MAX_SEARCH_LENGTH", "MAX_SEARCH_WORDS"]

MAX_SEARCH_LENGTH = 200
MAX_SEARCH_WORDS = 10
#: query arguments every list understands besides the ``list_filter`` fields
LIST_ARGUMENTS = ("q", "o", "cursor", "per_page")


class BadListArguments(ValueError):
    """A query argument the list cannot take (a 400 on the page and in the API)."""


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
        self.filter_values = self.get_filter_values()
        self.sort, self.current_o = self.get_sort()
        self.per_page, self.per_page_choices = self.get_per_page()
        self.position = self.get_position()
        self.filter = self.get_filter()
        self.page = None
        self.count = self.count_text = self.estimated = None

    def arg(self, name, default=None):
        value = self.args.get(name)
        return default if value is None else value

    # -- parsing (each step may be refined by a subclass) --------------------------------------
    def get_search_query(self):
        """``?q=`` stripped and cut to ``MAX_SEARCH_LENGTH`` characters."""
        return self.arg("q", "").strip()[:MAX_SEARCH_LENGTH]

    def get_search_filter(self, q):
        """Every word must match some search field (case-insensitive, literally)."""
        names = self.model_admin.get_search_fields(self.ctx)
        if not q or not names:
            return None
        words = q.split()[:MAX_SEARCH_WORDS]
        clauses = [{"$or": [{name: {"$regex": re.escape(word), "$options": "i"}}
                            for name in names]} for word in words]
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def get_filter_values(self):
        """``{field: value}`` from ``?<field>=`` for ``list_filter`` fields."""
        values = {}
        for name in self.model_admin.get_list_filter(self.ctx):
            raw = self.arg(name)
            if raw is None or raw == "":
                continue
            field = self.opts.get_field(name)
            try:
                value = field.to_python(raw)
            except ValidationError as exc:
                raise BadListArguments(f"Invalid filter {name}={raw!r}: {exc.message}") \
                    from None
            if value is not None:
                values[name] = value
        return values

    def sortable_fields(self):
        """``get_sortable_fields`` minus what cannot be sorted on (lists, unknown names)."""
        fields = self.opts.fields
        return [name for name in self.model_admin.get_sortable_fields(self.ctx)
                if name in fields and not getattr(fields[name], "hidden", False)
                and not getattr(fields[name], "accepts_containers", False)]

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

    def get_filter(self):
        """Search and filters, within the admin's row scope (``get_base_filter``)."""
        search = self.get_search_filter(self.q)
        clauses = [c for c in (search, *({k: v} for k, v in self.filter_values.items())) if c]
        narrowed = {"$and": clauses} if len(clauses) > 1 else (clauses[0] if clauses else {})
        return self.model_admin.scoped(self.ctx, narrowed)

    # -- fetching ----------------------------------------------------------------------------
    async def fetch(self):
        """Fetch the page and the count; a query stopped by the store's time budget
        (``ExecutionTimeout``) is ``BadListArguments``: the search was too broad."""
        db = self.ctx.db
        try:
            self.page = await pagination.fetch_page(self.model, db, self.filter, self.sort,
                                                    self.position, self.per_page, self.secret)
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
        keep = ["q", "o", "per_page"] + list(self.model_admin.get_list_filter(self.ctx))
        args = {name: self.args[name] for name in keep if self.args.get(name) not in (None, "")}
        for name, value in changes.items():
            if value is None:
                args.pop(name, None)
            else:
                args[name] = value
        return args

    def url_with(self, **changes):
        """The list's URL with ``changes`` to its query arguments."""
        args = self.query_args(**changes)
        return self.model_admin.url_prefix + (f"?{urlencode(args)}" if args else "")
