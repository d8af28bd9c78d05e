"""List filters: what ``list_filter`` names become on the list page and in the API list.

Each entry of ``ModelAdmin.list_filter`` is a field name or a ``ListFilter`` subclass
(a custom filter, like Django's ``SimpleListFilter``)::

    class RecentFilter(SimpleListFilter):
        title = "age"
        parameter_name = "age"

        def lookups(self, ctx):
            return [("new", "This week"), ("old", "Older")]

        def filter(self, ctx, value):
            week_ago = utcnow() - datetime.timedelta(days=7)
            return {"created": {"$gte": week_ago} if value == "new" else {"$lt": week_ago}}

    list_filter = ["published", "category", "created", RecentFilter]

A field name picks its filter by field class (``filter_for``, walking the class's MRO):

=================== =============================== =========================================
field               query arguments                 sidebar
=================== =============================== =========================================
boolean             ``?done=1`` / ``0``             All / Yes / No
choices             ``?kind=todo``                  the choices
reference           ``?category=<id>``              readable objects only (searchable with
                    (``?category__search=`` narrows ``?category__search=``), never a label
                    the sidebar)                    of an object the user may not read
list of strings     ``?tags=red`` (contains)        the choices, or a text box
date / datetime     ``?created__gte=``,             today, past 7 days, this month, this
                    ``__lt=``, ``__lte=``           year, and a from–to form
number              ``?rank__gte=``, ``__lte=``     a from–to form
=================== =============================== =========================================

A filter parses its arguments when the ``ChangeList`` is built (a bad value is
``BadListArguments``: a 400 on the page and in the API), runs what it needs from the
store before the list's query (``resolve``), gives the query clause it adds
(``query``), and describes its sidebar section (``sidebar``, awaited by the list page
only). A filter's field may be a dotted path through sub-documents (``address.country``,
``lines.sku``: then any line matches), or through one reference
(``customer.address.country``: ``ReferencePathFilter``, the filter that fits the
remote field, run on the target model first within what the user may read there; see
``core.admin.related``).
On the admin's pages the dates of a datetime filter are days in the user's time zone
(the JSON API reads them in UTC); a ``DateField`` is filtered by calendar date, never
shifted.
"""
import datetime
import re

from core.i18n import gettext
from core.models import fields as model_fields
from core.models.errors import ValidationError

from .errors import BadListArguments

__all__ = ["BadListArguments", "BooleanFilter", "ChoicesFilter", "DateRangeFilter",
           "FieldListFilter", "ListContainsFilter", "ListFilter", "NumberRangeFilter",
           "ReferenceFilter", "ReferencePathFilter", "SimpleListFilter", "filter_for",
           "make_filter"]

UTC = datetime.timezone.utc
#: how many readable objects a reference filter lists (search narrows the rest)
REFERENCE_CHOICES_LIMIT = 30
#: how many searches' choices a reference filter keeps per user and model
MAX_KEPT_SEARCHES = 50
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def capital(text):
    text = str(text)
    return text[:1].upper() + text[1:]


class ListFilter:
    """The base of every list filter: one sidebar section and the clause it adds.

    Subclasses set ``title`` and say which query arguments they read
    (``parameters``), parse them (``parse``; raise ``BadListArguments``), narrow the
    query (``query``) and describe their sidebar (``sidebar``).
    """

    title = None
    parameter_name = None

    def __init__(self, model_admin, ctx):
        self.model_admin = model_admin
        self.ctx = ctx
        self.raw = {}

    def parameters(self):
        """The query arguments this filter reads (the list refuses any other)."""
        return [self.parameter_name]

    def parse(self, args):
        """Called when the list is built: keep this filter's non-empty arguments and
        check them; raise ``BadListArguments`` for a value it cannot take."""
        self.raw = {name: args[name] for name in self.parameters()
                    if args.get(name) not in (None, "")}

    @property
    def active(self):
        """Whether this filter narrows the list."""
        return bool(self.raw)

    async def resolve(self):
        """Called by ``ChangeList.get_filter`` before ``query``: a filter that must ask the
        store first (``ReferencePathFilter``) does it here; the default does nothing."""

    def query(self):
        """The clause this filter adds to the list's query (``None``: none)."""
        return None

    async def sidebar(self, changelist, handler):
        """``{"title", "options": [{"label", "url", "selected"}], "form": {...} | None}``
        for the list page (``handler`` names objects as the user may see them)."""
        return {"title": capital(self.title or self.parameter_name), "options": [],
                "form": None}

    def option(self, changelist, label, changes, selected):
        return {"label": label, "url": changelist.url_with(cursor=None, **changes),
                "selected": selected}

    def all_option(self, changelist):
        return self.option(changelist, gettext("All"), {name: None for name in self.parameters()},
                           not self.active)


class SimpleListFilter(ListFilter):
    """A custom filter: ``title``, ``parameter_name``, ``lookups(ctx)`` (the
    ``[(value, label)]`` offered) and ``filter(ctx, value)`` (the query clause for one
    of those values). A value that is not one of the lookups is a 400."""

    def lookups(self, ctx):
        """``[(value, label), ...]`` the sidebar offers; called for every list request."""
        raise NotImplementedError(f"{type(self).__name__} must define lookups()")

    def filter(self, ctx, value):
        """The query clause (a dict) for ``value``, or ``None`` for none."""
        raise NotImplementedError(f"{type(self).__name__} must define filter()")

    def parse(self, args):
        super().parse(args)
        value = self.raw.get(self.parameter_name)
        if value is not None and value not in {str(v) for v, _ in self.lookups(self.ctx)}:
            raise BadListArguments(gettext("Invalid filter %(name)s=%(value)r: %(reason)s") % {
                "name": self.parameter_name, "value": value,
                "reason": gettext("not one of the choices.")})

    def query(self):
        value = self.raw.get(self.parameter_name)
        return None if value is None else self.filter(self.ctx, value)

    async def sidebar(self, changelist, handler):
        section = await super().sidebar(changelist, handler)
        current = self.raw.get(self.parameter_name)
        section["options"] = [self.all_option(changelist)] + [
            self.option(changelist, str(label), {self.parameter_name: str(value)},
                        current == str(value)) for value, label in self.lookups(self.ctx)]
        return section


class FieldListFilter(ListFilter):
    """A filter on one model field (``field_name``); ``filter_for`` picks the class."""

    def __init__(self, model_admin, ctx, field_name, path=None):
        super().__init__(model_admin, ctx)
        self.field_name = field_name
        self.path = path or model_admin.opts.field_at(field_name)
        self.field = self.path.field
        self.parameter_name = field_name
        self.title = self.path.verbose_name
        self.value = None

    def invalid(self, name, raw, message):
        return BadListArguments(gettext("Invalid filter %(name)s=%(value)r: %(reason)s") % {
            "name": name, "value": raw, "reason": message})

    def to_python(self, name, raw, field=None):
        try:
            return (field or self.field).to_python(raw)
        except ValidationError as exc:
            raise self.invalid(name, raw, exc.message) from None

    def parse(self, args):
        super().parse(args)
        raw = self.raw.get(self.parameter_name)
        if raw is not None:
            self.value = self.to_python(self.parameter_name, raw)

    def query(self):
        return None if self.value is None else {self.field_name: self.value}


_FILTERS = []


def filter_for(*field_classes):
    """Class decorator: the ``FieldListFilter`` for fields of these classes (the most
    specific class in a field's MRO wins)."""
    def register(filter_class):
        _FILTERS.extend((cls, filter_class) for cls in field_classes)
        return filter_class
    return register


def filter_class_for(field):
    """The ``FieldListFilter`` class for ``field``, or ``None`` (no filter fits)."""
    if getattr(field, "choices", None) is not None and \
            not isinstance(field, model_fields.ListField):
        return ChoicesFilter
    for cls in type(field).__mro__:
        for registered, filter_class in _FILTERS:
            if registered is cls:
                return filter_class
    return None


def make_filter(model_admin, ctx, entry):
    """The filter object for one ``list_filter`` entry (a field name or a class)."""
    if isinstance(entry, type) and issubclass(entry, ListFilter):
        return entry(model_admin, ctx)
    if isinstance(entry, (tuple, list)) and len(entry) == 2:
        name, filter_class = entry
        return filter_class(model_admin, ctx, name)
    from .related import ReferencePath, reference_path
    path = reference_path(model_admin.opts, entry)
    filter_class = filter_class_for(path.field)
    if filter_class is None:
        raise TypeError(f"No list filter fits {entry!r} ({type(path.field).__name__}).")
    if isinstance(path, ReferencePath):
        return ReferencePathFilter(model_admin, ctx, entry, path, filter_class)
    return filter_class(model_admin, ctx, entry)


class ReferencePathFilter(ListFilter):
    """A filter through a reference (``customer.address.country``): the filter that fits
    the remote field (``inner``: its arguments and sidebar, named by the whole path),
    whose clause runs on the target model first — within the user's ``read`` there, its
    row scope and object rule — then narrows this list to ``{"customer": {"$in": ids}}``.
    A user who may not read the target model, or that field of it, gets a sidebar
    without choices and no row through a value of it. Exact or refused: too many target
    matches is ``BadListArguments`` (``core.admin.related.readable_ids``)."""

    def __init__(self, model_admin, ctx, field_name, path, filter_class):
        super().__init__(model_admin, ctx)
        self.path = path
        self.field_name = self.parameter_name = field_name
        self.title = path.verbose_name
        self.inner = filter_class(model_admin, ctx, field_name, path.remote)
        self.clause = None

    @property
    def target_admin(self):
        site = getattr(self.model_admin, "site", None)
        return site.get(self.path.target._meta.key) if site is not None else None

    def readable(self):
        from .related import shows_remote
        return shows_remote(self.ctx, self.target_admin, self.path.rest)

    def parameters(self):
        return self.inner.parameters()

    def parse(self, args):
        self.inner.parse(args)
        self.raw = self.inner.raw

    @property
    def active(self):
        return self.inner.active

    async def resolve(self):
        from .related import readable_ids
        self.clause = None
        inner = self.inner.query()
        if not inner:
            return
        if not self.readable():
            self.clause = {"_id": {"$in": []}}
            return
        remote = {self.path.rest: inner[self.field_name]}
        shown = ", ".join(f"{name}={value}" for name, value in self.raw.items())
        ids = await readable_ids(self.ctx, self.target_admin, remote, shown)
        self.clause = {self.path.local.path: {"$in": ids or []}}

    def query(self):
        return self.clause

    async def sidebar(self, changelist, handler):
        if not self.readable():
            section = await super().sidebar(changelist, handler)
            section["options"] = [self.all_option(changelist)]
            return section
        section = await self.inner.sidebar(changelist, handler)
        section["title"] = capital(self.title)
        return section


@filter_for(model_fields.BooleanField)
class BooleanFilter(FieldListFilter):
    async def sidebar(self, changelist, handler):
        section = await super().sidebar(changelist, handler)
        section["options"] = [self.all_option(changelist)] + [
            self.option(changelist, label, {self.parameter_name: raw},
                        self.value is not None and self.value == value)
            for raw, label, value in (("1", gettext("Yes"), True), ("0", gettext("No"), False))]
        return section


class ChoicesFilter(FieldListFilter):
    async def sidebar(self, changelist, handler):
        section = await super().sidebar(changelist, handler)
        section["options"] = [self.all_option(changelist)] + [
            self.option(changelist, str(label), {self.parameter_name: str(value)},
                        self.value is not None and self.value == value)
            for value, label in self.field.choices]
        return section


@filter_for(model_fields.ReferenceField)
class ReferenceFilter(FieldListFilter):
    """``?<field>=<id>``; the sidebar lists readable objects of the target model only,
    narrowed by ``?<field>__search=`` through the target admin's ``search_fields``."""

    def parameters(self):
        return [self.parameter_name, f"{self.field_name}__search"]

    @property
    def active(self):
        return self.value is not None

    async def sidebar(self, changelist, handler):
        section = await super().sidebar(changelist, handler)
        search_name = f"{self.field_name}__search"
        search = self.raw.get(search_name, "")[:100]
        try:
            target = self.field.target
        except LookupError:
            return section
        found, more = await self.choices(handler, target, search)
        options = [self.all_option(changelist)]
        if self.value is not None and all(oid != self.value for oid, _ in found):
            label = (await handler.reference_labels(target, [self.value])).get(
                self.value, (gettext("(hidden)"), None))[0]
            options.append(self.option(changelist, label, {}, True))
        options += [self.option(changelist, label,
                                {self.parameter_name: str(oid), search_name: None},
                                oid == self.value) for oid, label in found]
        section["options"] = options
        target_admin = handler.admin_for(target)
        if more or search or (target_admin and target_admin.get_search_fields(handler)
                              and len(found) >= REFERENCE_CHOICES_LIMIT):
            section["form"] = self.form(changelist, [
                {"name": search_name, "label": f"Find {target._meta.verbose_name}",
                 "type": "search", "value": search}])
        return section

    async def choices(self, handler, target, search):
        """``([(id, label)], more)``: the objects of ``target`` the sidebar offers for
        ``search`` (readable ones only, ``core.admin.search.readable_matches``), kept in
        the handler's ``read_memo`` of ``target`` (so read again after a write to it, or
        a change to the user's grants) when it has one."""
        memo = handler.read_memo(target, "reference_choices") \
            if hasattr(handler, "read_memo") else {}
        held = memo.get(search)
        if held is None:
            from .search import readable_matches
            try:
                found, more = await readable_matches(handler, target, search,
                                                     limit=REFERENCE_CHOICES_LIMIT)
            except BadListArguments:            # too many matches through a reference
                found, more = [], True
            if len(memo) >= MAX_KEPT_SEARCHES:
                memo.clear()
            held = memo[search] = ([(obj.id, handler.label_for(obj)) for obj in found], more)
        return held

    def form(self, changelist, inputs):
        names = {item["name"] for item in inputs}
        hidden = {k: v for k, v in changelist.query_args(cursor=None).items() if k not in names}
        return {"inputs": inputs, "hidden": hidden, "action": changelist.model_admin.url_prefix}


@filter_for(model_fields.ListField)
class ListContainsFilter(FieldListFilter):
    """``?tags=red``: the list holds that item. The sidebar offers the field's choices,
    or a text box."""

    def parse(self, args):
        ListFilter.parse(self, args)
        raw = self.raw.get(self.parameter_name)
        if raw is not None:
            self.value = self.to_python(self.parameter_name, raw, self.field.item_field)
            if self.field.choices is not None and \
                    self.value not in [value for value, _ in self.field.choices]:
                raise self.invalid(self.parameter_name, raw, gettext("not one of the choices."))

    async def sidebar(self, changelist, handler):
        section = await super().sidebar(changelist, handler)
        options = [self.all_option(changelist)]
        if self.field.choices is not None:
            options += [self.option(changelist, str(label), {self.parameter_name: str(value)},
                                    self.value == value) for value, label in self.field.choices]
        else:
            if self.value is not None:
                options.append(self.option(changelist, f"Contains “{self.value}”", {}, True))
            section["form"] = ReferenceFilter.form(self, changelist, [
                {"name": self.parameter_name, "label": gettext("Contains"), "type": "text",
                 "value": self.value or ""}])
        section["options"] = options
        return section


class RangeFilter(FieldListFilter):
    """``?<field>__gte=`` / ``__lte=`` (and ``__lt=``): a from–to range."""

    operators = ("gte", "lte")
    input_type = "number"

    def parameters(self):
        return [f"{self.field_name}__{op}" for op in self.operators]

    def parse(self, args):
        ListFilter.parse(self, args)
        self.bounds = {}
        for op in self.operators:
            name = f"{self.field_name}__{op}"
            if name in self.raw:
                self.bounds[op] = self.convert(name, op, self.raw[name])

    def convert(self, name, op, raw):
        return self.to_python(name, raw)

    @property
    def active(self):
        return bool(self.bounds)

    def query(self):
        if not self.bounds:
            return None
        return {self.field_name: {f"${op}": value for op, value in self.bounds.items()}}

    def form_inputs(self):
        return [{"name": f"{self.field_name}__gte", "label": gettext("From"),
                 "type": self.input_type, "value": self.raw.get(f"{self.field_name}__gte", "")},
                {"name": f"{self.field_name}__lte", "label": gettext("To"),
                 "type": self.input_type, "value": self.raw.get(f"{self.field_name}__lte", "")}]

    async def sidebar(self, changelist, handler):
        section = await super().sidebar(changelist, handler)
        section["options"] = [self.all_option(changelist)]
        section["form"] = ReferenceFilter.form(self, changelist, self.form_inputs())
        return section


@filter_for(model_fields.IntegerField, model_fields.FloatField)
class NumberRangeFilter(RangeFilter):
    """Numbers: ``?rank__gte=10&rank__lte=20``, or one value ``?rank=10``."""

    def parameters(self):
        return [self.field_name] + super().parameters()

    def parse(self, args):
        super().parse(args)
        raw = self.raw.get(self.field_name)
        if raw is not None:
            self.bounds["eq"] = self.to_python(self.field_name, raw)


def start_of_day(moment):
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def date_presets(today):
    """``[(label, first day, day after the last)]`` as calendar dates: today, past 7
    days, this month, this year, counted from ``today`` (a ``date``)."""
    if isinstance(today, datetime.datetime):
        today = today.date()
    month = today.replace(day=1)
    next_month = (month + datetime.timedelta(days=32)).replace(day=1)
    year = today.replace(month=1, day=1)
    return [(gettext("Today"), today, today + datetime.timedelta(days=1)),
            (gettext("Past 7 days"), today - datetime.timedelta(days=6),
             today + datetime.timedelta(days=1)),
            (gettext("This month"), month, next_month),
            (gettext("This year"), year, year.replace(year=year.year + 1))]


def list_zone(ctx):
    """The zone a list's dates are read in: the user's on the admin's pages
    (``ctx.shows_local_times``), UTC elsewhere (the JSON API)."""
    if getattr(ctx, "shows_local_times", False):
        return getattr(ctx, "time_zone", None) or UTC
    return UTC


@filter_for(model_fields.DateTimeField, model_fields.DateField)
class DateRangeFilter(RangeFilter):
    """Dates and datetimes: presets (``__gte`` and ``__lt``) and a from–to form
    (``__gte`` and ``__lte``; a bare date as "to" includes that whole day).

    For a ``DateTimeField`` a bare date is a day in the user's zone on the admin's pages
    (``list_zone``: its local midnight, as UTC) and the presets count from the user's
    today; a ``DateField`` holds calendar dates, compared as they are, never shifted.
    """

    operators = ("gte", "lt", "lte")
    input_type = "date"

    @property
    def date_only(self):
        return isinstance(self.field, model_fields.DateField)

    def start_of(self, name, raw):
        """The first moment of the day ``raw`` names (``YYYY-MM-DD``), as stored."""
        day = self.to_python(name, raw, model_fields.DateField())
        if self.date_only:
            return model_fields.date_to_bson(day)
        local = datetime.datetime.combine(day, datetime.time(0), tzinfo=list_zone(self.ctx))
        return local.astimezone(UTC)

    def convert(self, name, op, raw):
        text = raw.strip()
        if not _DATE_ONLY.match(text):
            if self.date_only:
                raise self.invalid(name, raw, gettext("Enter a valid date (YYYY-MM-DD)."))
            return self.to_python(name, raw)
        start = self.start_of(name, text)
        if op == "lte":            # the whole day: before the next day's start
            next_day = datetime.date.fromisoformat(text) + datetime.timedelta(days=1)
            end = self.start_of(name, next_day.isoformat()) if next_day.year <= 9999 else None
            if end is not None:
                self.bounds["lt"] = min(self.bounds.get("lt", end), end)
            return None
        return start

    def parse(self, args):
        super().parse(args)
        self.bounds = {op: value for op, value in self.bounds.items() if value is not None}

    def now(self):
        """The moment the presets are computed from (aware UTC)."""
        return datetime.datetime.now(UTC)

    def today(self):
        """The calendar day the presets count from: the user's today (``list_zone``);
        for a ``DateField`` too, so "Today" is the day the user is living."""
        return self.now().astimezone(list_zone(self.ctx)).date()

    def form_inputs(self):
        inputs = super().form_inputs()
        for item in inputs:
            item["value"] = item["value"][:10] if _DATE_ONLY.match(item["value"][:10]) else ""
        return inputs

    async def sidebar(self, changelist, handler):
        section = await super().sidebar(changelist, handler)
        gte, lt = self.raw.get(f"{self.field_name}__gte"), self.raw.get(f"{self.field_name}__lt")
        clear = {name: None for name in self.parameters()}
        for label, start, end in date_presets(self.today()):
            start_text, end_text = start.isoformat(), end.isoformat()
            section["options"].append(self.option(
                changelist, label, {**clear, f"{self.field_name}__gte": start_text,
                                    f"{self.field_name}__lt": end_text},
                gte == start_text and lt == end_text))
        return section


class DateHierarchy:
    """``date_hierarchy = "created"``: drill down year → month → day with
    ``?created__year=&created__month=&created__day=``.

    The links offered are found with indexed queries only: the first object at or after
    a moment, sorted on the field (``limit 1``), one query per year, month or day that
    has objects, never a count (``ModelAdmin.date_hierarchy_max_steps`` bounds them).
    """

    max_steps = 40

    def __init__(self, model_admin, ctx, field_name):
        self.model_admin = model_admin
        self.ctx = ctx
        self.field_name = field_name
        self.field = model_admin.opts.get_field(field_name)
        self.year = self.month = self.day = None

    def parameters(self):
        return [f"{self.field_name}__{part}" for part in ("year", "month", "day")]

    def parse(self, args):
        values = {}
        for part, low, high in (("year", 1, 9999), ("month", 1, 12), ("day", 1, 31)):
            name = f"{self.field_name}__{part}"
            raw = args.get(name)
            if raw in (None, ""):
                continue
            if not (raw.isascii() and raw.isdigit() and low <= int(raw) <= high):
                raise BadListArguments(f"Invalid {name}={raw!r}: a {part} from {low} to "
                                       f"{high}.")
            values[part] = int(raw)
        if "day" in values and "month" not in values or "month" in values and \
                "year" not in values:
            raise BadListArguments(f"{self.field_name}__day needs __month, and __month "
                                   "needs __year.")
        try:
            if "day" in values:
                datetime.date(values["year"], values["month"], values["day"])
        except ValueError:
            raise BadListArguments("That day does not exist.") from None
        self.year, self.month, self.day = (values.get(p) for p in ("year", "month", "day"))

    @property
    def active(self):
        return self.year is not None

    def span(self):
        """``(start, end)`` of the chosen year, month or day, or ``(None, None)``."""
        if self.year is None:
            return None, None
        if self.day is not None:
            start = datetime.datetime(self.year, self.month, self.day, tzinfo=UTC)
            return start, start + datetime.timedelta(days=1)
        if self.month is not None:
            start = datetime.datetime(self.year, self.month, 1, tzinfo=UTC)
            return start, (start + datetime.timedelta(days=32)).replace(day=1)
        start = datetime.datetime(self.year, 1, 1, tzinfo=UTC)
        return start, start.replace(year=self.year + 1) if self.year < 9999 else None

    def query(self):
        start, end = self.span()
        if start is None:
            return None
        bounds = {"$gte": start}
        if end is not None:
            bounds["$lt"] = end
        return {self.field_name: bounds}

    def next_step(self, moment):
        """The start of the unit after the one holding ``moment`` (the level below the
        chosen one: years at the top, months in a year, days in a month)."""
        if self.year is None:
            return moment.replace(year=moment.year + 1, month=1, day=1, hour=0, minute=0,
                                  second=0, microsecond=0) if moment.year < 9999 else None
        if self.month is None:
            return (moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
                    + datetime.timedelta(days=32)).replace(day=1)
        return start_of_day(moment) + datetime.timedelta(days=1)

    async def steps(self, model, db, flt):
        """The moments (one per year, month or day holding objects) within ``flt`` (the
        list's query without this hierarchy's own clause), by indexed ``limit 1`` reads."""
        start, end = self.span()
        found, cursor = [], start
        for _ in range(self.max_steps):
            bounds = {} if cursor is None else {"$gte": cursor}
            if end is not None:
                bounds["$lt"] = end
            bounds = bounds or {"$ne": None}
            clause = {self.field_name: bounds}
            query = {"$and": [flt, clause]} if flt else clause
            first = await model.find(query, [(self.field_name, 1)], limit=1,
                                     db=db).to_list(1)
            moment = first[0]._data.get(self.field_name) if first else None
            if not isinstance(moment, datetime.datetime):
                break
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            found.append(moment)
            cursor = self.next_step(moment)
            if cursor is None:
                break
        return found

    async def links(self, changelist, db, flt):
        """``{"back": [(label, url)], "items": [(label, url)]}`` for the list page."""
        name = self.field_name
        clear = {f"{name}__{p}": None for p in ("year", "month", "day")}
        back = []
        if self.year is not None:
            back.append((gettext("All dates"), changelist.url_with(cursor=None, **clear)))
        if self.month is not None:
            back.append((str(self.year), changelist.url_with(
                cursor=None, **{**clear, f"{name}__year": str(self.year)})))
        if self.day is not None:
            back.append((datetime.date(self.year, self.month, 1).strftime("%B %Y"),
                         changelist.url_with(cursor=None, **{
                             **clear, f"{name}__year": str(self.year),
                             f"{name}__month": str(self.month)})))
        items = []
        if self.day is None:
            for moment in await self.steps(changelist.model, db, flt):
                args = {f"{name}__year": str(moment.year)}
                label = str(moment.year)
                if self.year is not None:
                    args[f"{name}__month"] = str(moment.month)
                    label = moment.strftime("%B")
                if self.month is not None:
                    args[f"{name}__day"] = str(moment.day)
                    label = moment.strftime("%B %-d")
                items.append((label, changelist.url_with(cursor=None, **{**clear, **args})))
        return {"back": back, "items": items}
