"""Admin checks: every ``ModelAdmin`` option validated against its model, before serving.

A typo in an option otherwise fails quietly or late: a ``list_display`` column of
"—", a 500 from ``list_filter``, a search that finds nothing. These checks run
where the admin site is built (start-up) and in ``manage.py check``; each problem
is one ``CheckMessage`` naming the model, the admin class, the option, the bad
value and, when one is close, the name that was probably meant::

    from core.admin.checks import check_site, raise_for_errors
    raise_for_errors(check_site(site))      # AdminConfigurationError if any

They look at the declared attributes (``list_display = [...]``), not at the
``get_*`` hooks, which may depend on the request. Every message is an error.

Message ids (``admin.`` + the code), by option (what each option may name is in
docs/admin.md, "Checking the options"):

* ``E001`` not a list or tuple (a string, say); ``E002`` an item is not a string
* ``list_display``: ``E010`` no such field or attribute, ``E011`` hidden, ``E012`` an async
  method of the model (async ``ModelAdmin`` methods are fine)
* ``list_display_links``: ``E020`` not a column
* ``list_filter``: ``E030`` no such field, ``E031`` no filter fits it (text without
  choices, hidden); ``date_hierarchy``: ``E032`` not a date field
* ``list_display``, ``list_filter``, ``ordering``, ``sortable_fields`` take dotted paths
  through sub-documents (``address.country``); ``list_display`` and ``list_filter`` also
  through one reference (``customer.address.country``: ``core.admin.related``).
  ``E033`` a path into a dict or a scalar, through a second reference
  (``customer.account.name``), or through a reference in ``ordering``,
  ``sortable_fields``, ``readonly_fields`` or ``exclude`` (the store cannot sort by
  another collection's values; forms edit this object's own fields)
* ``search_fields``: ``E040`` no such field, ``E041`` holds no text (or hidden)
* ``ordering``: ``E050`` no such field, ``E051`` hidden or a list
* ``sortable_fields``: ``E060`` no such field, ``E061`` hidden or a list
* ``fields`` / ``readonly_fields``: ``E070`` / ``E080`` no such field, ``E071`` /
  ``E081`` hidden; ``exclude``: ``E090`` no such field. ``readonly_fields`` and
  ``exclude`` take dotted paths through sub-documents and lists of them
  (``address.country``, ``lines.unit_price``); ``E033`` as above
* ``actions``: ``E100`` not an ``@action``, ``E101`` a permission the model lacks,
  ``E102`` not ``async``
* ``list_per_page``: ``E110`` not positive, ``E111`` not offered;
  ``list_per_page_choices``: ``E112``
* ``*_handler``: ``E120``; ``changelist_class``: ``E121``; ``form_class``: ``E130``
* ``list_fields``: ``E140`` no such field (a dotted path's first field counts: the list
  fetches whole top-level fields)
* an app page's ``permission`` (``App.admin_pages``, ``AdminSite.register_page``): ``E150``
  not ``"<app>.<model>:<action>"`` naming an installed model, ``E151`` an action that
  model does not declare (the first would hide the page's link from everyone, the second
  from everyone but superusers)
"""
import difflib
import inspect
from dataclasses import dataclass

from core.conf import ImproperlyConfigured
from core.models import fields as model_fields

__all__ = ["AdminConfigurationError", "CheckMessage", "check_model_admin", "check_page",
           "check_site", "raise_for_errors"]

#: the built-in bulk action (``core.admin.options.DELETE_SELECTED``)
DELETE_SELECTED = "delete_selected"
#: ``list_display`` names the list page renders without a field or a method
SPECIAL_COLUMNS = ("id", "__str__", "version")
#: the options naming a page's handler class (``history_handler``: any object page)
HANDLER_OPTIONS = ("list_handler", "detail_handler", "create_handler", "update_handler",
                   "delete_handler", "history_handler")
_MAX_LISTED = 10
#: the options whose dotted paths may go on through one reference (``core.admin.related``)
THROUGH_REFERENCE = ("list_display", "list_filter")


@dataclass(frozen=True)
class CheckMessage:
    """One configuration error of one ``ModelAdmin``.

    ``id`` (``"admin.E010"``), ``admin`` (the admin's class name), ``model`` (the
    model key), ``option`` (``"list_display"``), ``index`` (the item's position, or
    ``None`` for the whole option), ``value`` (the bad value), ``text`` (what is
    wrong with it) and ``hint`` (``"Did you mean 'title'?"``, or ``None``).
    ``str()`` is one line.
    """

    id: str
    admin: str
    model: str
    option: str
    value: object
    text: str
    hint: str = None
    index: int = None

    level = "error"

    @property
    def where(self):
        """``list_display[2]`` (or the option alone)."""
        return self.option if self.index is None else f"{self.option}[{self.index}]"

    def __str__(self):
        line = f"{self.model} ({self.admin}): {self.where} {_show(self.value)} {self.text}"
        return f"{line} {self.hint}" if self.hint else line


class AdminConfigurationError(ImproperlyConfigured):
    """Raised by ``raise_for_errors``: ``messages`` holds every ``CheckMessage``.

    An ``ImproperlyConfigured``, so ``manage.py`` prints it as ``error: ...`` and
    exits 1 instead of showing a traceback.
    """

    def __init__(self, messages):
        self.messages = list(messages)
        count = len(self.messages)
        lines = "\n".join(str(message) for message in self.messages)
        super().__init__(f"the admin is misconfigured ({count} error"
                         f"{'' if count == 1 else 's'}):\n{lines}")


def raise_for_errors(messages):
    """Raise ``AdminConfigurationError`` if ``messages`` holds any error; else return."""
    errors = [message for message in messages if message.level == "error"]
    if errors:
        raise AdminConfigurationError(errors)


def check_site(site):
    """Every ``CheckMessage`` of every ``ModelAdmin`` of ``site`` (an ``AdminSite``).

    Called once the site is built, before serving, and by ``manage.py check``; reads
    class attributes only, so it needs no request and no database.
    """
    messages = []
    for model_admin in site.admins.values():
        messages.extend(check_model_admin(model_admin))
    for page in site.pages:
        messages.extend(check_page(site, page))
    return messages


def check_page(site, page):
    """The ``CheckMessage``s of an app page's ``permission`` (a ``core.admin.sites.AdminPage``):
    a ``"<app>.<model>:<action>"`` text must name an installed model and one of its
    actions; a callable or ``None`` is not checked."""
    permission = page.permission
    if permission is None or callable(permission):
        return []
    where = dict(admin=f"page {page.path}", model=page.app_label, option="permission",
                 value=permission)
    if not isinstance(permission, str):
        return [CheckMessage(id="admin.E150", text="must be '<app>.<model>:<action>', a "
                             "callable or None.", **where)]
    key, _, action = permission.partition(":")
    admin = site.get(key)
    if admin is None:
        return [CheckMessage(id="admin.E150", text="names no installed model: the page's "
                             "link would be hidden from everyone, superusers too.",
                             hint=_hint(key, list(site.admins)), **where)]
    declared = admin.opts.actions
    if action and action not in declared:
        return [CheckMessage(id="admin.E151", text=f"names an action {key} does not declare "
                             f"(its actions: {', '.join(declared)}).",
                             hint=_hint(action, declared), **where)]
    return []


def check_model_admin(model_admin):
    """Every ``CheckMessage`` of one ``ModelAdmin`` instance (``[]`` when it is right)."""
    checker = _Checker(model_admin)
    for check in (checker.list_display, checker.list_display_links, checker.list_filter,
                  checker.date_hierarchy,
                  checker.search_fields, checker.ordering, checker.sortable_fields,
                  checker.fields, checker.readonly_fields, checker.exclude, checker.actions,
                  checker.list_per_page, checker.classes, checker.list_fields):
        check()
    return checker.messages


# -- helpers -------------------------------------------------------------------------------------
def _show(value):
    """The bad value as a message shows it: a class by its dotted name, else ``repr``."""
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _hint(value, candidates):
    """``Did you mean 'x'?`` for the closest candidate; else the candidates themselves."""
    candidates = list(dict.fromkeys(candidates))
    if isinstance(value, str):
        close = difflib.get_close_matches(value, candidates, n=1)
        if close:
            return f"Did you mean {close[0]!r}?"
    if not candidates:
        return None
    shown = ", ".join(candidates[:_MAX_LISTED])
    more = f" and {len(candidates) - _MAX_LISTED} more" if len(candidates) > _MAX_LISTED else ""
    return f"Choose from: {shown}{more}."


def _kind(field):
    """``"an IntegerField"``, ``"a DateTimeField"``."""
    name = type(field).__name__
    return f"{'an' if name[:1] in 'AEIOU' else 'a'} {name}"


def _hidden(field):
    return bool(getattr(field, "hidden", False))


def _is_list(field):
    return bool(getattr(field, "accepts_containers", False))


def _crosses_reference(opts, name):
    """Would ``name`` be a path through one reference (``customer.address.city``)?"""
    from .related import ReferencePath, reference_path
    try:
        return isinstance(reference_path(opts, name), ReferencePath)
    except KeyError:
        return False


def _filterable(field):
    """Does a list filter fit ``field`` (``core.admin.filters.filter_class_for``)?"""
    from .filters import filter_class_for
    return not _hidden(field) and filter_class_for(field) is not None


def _searchable(field):
    """Does ``field`` hold text a case-insensitive regex search can match?"""
    if _hidden(field):
        return False
    if isinstance(field, (model_fields.StringField, model_fields.ListField)):
        return True
    return field.choices is not None and all(isinstance(value, str)
                                             for value, _ in field.choices)


def _sortable(field):
    return not _hidden(field) and not _is_list(field)


def _shown(field):
    return not _hidden(field)


def _what(field, otherwise=None):
    """Why a field does not fit: ``"hidden"``, ``"a list"`` or ``otherwise``."""
    return "hidden" if _hidden(field) else "a list" if _is_list(field) else otherwise


class _Checker:
    """The checks of one ``ModelAdmin``; each method appends to ``self.messages``."""

    def __init__(self, model_admin):
        self.admin = model_admin
        self.admin_class = type(model_admin)
        self.model = model_admin.model
        self.opts = model_admin.opts
        self.fields_by_name = dict(self.opts.fields)
        self.messages = []

    @property
    def model_name(self):
        return getattr(self.opts, "object_name", None) or self.model.__name__

    def error(self, id, option, value, text, hint=None, index=None):
        self.messages.append(CheckMessage(
            id=id, admin=self.admin_class.__name__, model=self.opts.key, option=option,
            value=value, text=text, hint=hint, index=index))

    def names(self, option, allow_none=False):
        """The option's ``(index, name)`` pairs, after E001/E002; ``[]`` if unusable."""
        value = getattr(self.admin, option, None)
        if value is None and allow_none:
            return []
        if not isinstance(value, (list, tuple)):
            kind = "a string" if isinstance(value, str) else type(value).__name__
            self.error("admin.E001", option, value,
                       f"must be a list or tuple of names, not {kind}.",
                       hint=f"Write [{value!r}]." if isinstance(value, str) else None)
            return []
        pairs = []
        from .filters import ListFilter
        for index, item in enumerate(value):
            if isinstance(item, str):
                pairs.append((index, item))
            elif option == "list_filter" and isinstance(item, type) and \
                    issubclass(item, ListFilter):
                continue                      # a custom filter: its own code decides
            else:
                self.error("admin.E002", option, item, "is not a name (a string).",
                           index=index)
        return pairs

    def shown_fields(self):
        return [name for name, field in self.fields_by_name.items() if not _hidden(field)]

    # -- the list page -------------------------------------------------------------------------
    def own_methods(self):
        """Callables the admin subclass adds (for hints; ``ModelAdmin``'s are left out)."""
        own = {}
        for klass in reversed(self.admin_class.__mro__):
            if klass is not object and not klass.__module__.startswith("core.admin."):
                own.update(vars(klass))
        return [name for name, value in own.items()
                if not name.startswith("_") and callable(value)]

    def model_attributes(self):
        from core.models import Model
        base = set(dir(Model))
        return [name for name in dir(self.model)
                if name not in base and not name.startswith("_")]

    def path(self, option, name, index):
        """The ``FieldPath`` of a dotted ``name`` (for ``list_display`` and ``list_filter``
        also a ``core.admin.related.ReferencePath`` through one reference), or ``None``
        after an error: ``E033`` for a path through a reference where the option takes
        none (or through two), a dict or a scalar, else the option's "no such field" id."""
        from .related import reference_path
        try:
            if option in THROUGH_REFERENCE:
                return reference_path(self.opts, name)
            try:
                return self.opts.field_at(name)
            except KeyError as exc:
                if exc.args[-1] == "through" and _crosses_reference(self.opts, name):
                    raise KeyError(f"{exc.args[0].split(':')[0]}: {option} cannot follow "
                                   "a reference (only list_display and list_filter do)",
                                   "through") from None
                raise
        except KeyError as exc:
            head = name.split(".")[0]
            known = exc.args[-1] == "through"
            code = "admin.E033" if known else {
                "list_display": "admin.E010", "list_filter": "admin.E030",
                "ordering": "admin.E050", "sortable_fields": "admin.E060",
                "readonly_fields": "admin.E080", "exclude": "admin.E090"}[option]
            self.error(code, option, name, f"is not a path to a field of {self.model_name}: "
                       f"{exc.args[0]}.", index=index, hint=None
                       if head in self.fields_by_name else _hint(head, self.shown_fields()))
            return None

    def list_display(self):
        for index, name in self.names("list_display", allow_none=True):
            if "." in name:
                path = self.path("list_display", name, index)
                if path is not None and any(_hidden(f) for f in path.fields):
                    self.error("admin.E011", "list_display", name,
                               f"goes through a hidden field of {self.model_name}: the list "
                               "never shows it.", index=index)
                continue
            field = self.fields_by_name.get(name)
            if field is not None:
                if _hidden(field):
                    self.error("admin.E011", "list_display", name,
                               f"is a hidden field of {self.model_name}: the list never "
                               "shows it.", index=index)
                continue
            if name in SPECIAL_COLUMNS:
                continue
            method = getattr(self.admin, name, None)
            owner = self.admin_class.__name__
            if not callable(method) and hasattr(self.model, name):
                method, owner = getattr(self.model, name), self.model_name
            if callable(method) or hasattr(self.model, name):
                if inspect.iscoroutinefunction(method) and owner == self.model_name:
                    self.error("admin.E012", "list_display", name,
                               f"is an async method of {owner}: a model's column method "
                               "must return the value (async columns are ModelAdmin "
                               "methods).", index=index)
                continue
            self.error("admin.E010", "list_display", name,
                       f"is not a field of {self.model_name}, a method of "
                       f"{self.admin_class.__name__} or of {self.model_name}.",
                       hint=_hint(name, self.shown_fields() + list(SPECIAL_COLUMNS[:2])
                                  + self.own_methods() + self.model_attributes()),
                       index=index)

    def columns(self):
        """The list page's columns as declared (``get_list_display``'s default otherwise)."""
        declared = self.admin.list_display
        if isinstance(declared, (list, tuple)) and declared:
            return [name for name in declared if isinstance(name, str)]
        editable = [name for name, field in self.fields_by_name.items()
                    if getattr(field, "editable", True)
                    and name not in (self.admin.exclude or ())]
        return editable[:5] or ["id"]

    def list_display_links(self):
        columns = self.columns()
        for index, name in self.names("list_display_links", allow_none=True):
            if name not in columns:
                self.error("admin.E020", "list_display_links", name,
                           "is not a column of list_display.", hint=_hint(name, columns),
                           index=index)

    def field_names(self, option, ids, accept=_shown, why=None, allow_none=False,
                    paths=False):
        """An option naming model fields: ``ids[0]`` for a name that is no field,
        ``ids[1]`` for a field ``accept`` refuses (``why(field)`` says why); with
        ``paths``, dotted paths through sub-documents too (``self.path``)."""
        valid = [name for name, field in self.fields_by_name.items() if accept(field)]
        for index, name in self.names(option, allow_none):
            if paths and "." in name:
                path = self.path(option, name, index)
                if path is None:
                    continue
                field = path.field
                if any(_hidden(f) for f in path.fields[:-1]) or not accept(field) or \
                        (option == "sortable_fields" and path.many):
                    self.error(ids[1], option, name, "crosses a list: the list cannot sort "
                               "by it." if path.many and accept(field) else why(field),
                               index=index)
                continue
            field = self.fields_by_name.get(name)
            if field is None:
                self.error(ids[0], option, name, f"is not a field of {self.model_name}.",
                           hint=_hint(name, valid), index=index)
            elif not accept(field):
                self.error(ids[1], option, name, why(field),
                           hint=None if _hidden(field) and accept is _shown else
                           _hint(None, valid), index=index)

    def list_filter(self):
        self.field_names("list_filter", ("admin.E030", "admin.E031"), _filterable, lambda f: (
            f"is {_what(f, f'{_kind(f)} without choices')}: the filter sidebar offers "
            "booleans, choices, references, lists, dates and numbers only."), paths=True)

    def date_hierarchy(self):
        name = getattr(self.admin, "date_hierarchy", None)
        if name is None:
            return
        field = self.fields_by_name.get(name) if isinstance(name, str) else None
        if not isinstance(field, model_fields.DateTimeField) or _hidden(field):
            dates = [n for n, f in self.fields_by_name.items()
                     if isinstance(f, model_fields.DateTimeField) and not _hidden(f)]
            self.error("admin.E032", "date_hierarchy", name,
                       f"is not a date field of {self.model_name}.", hint=_hint(
                           name if isinstance(name, str) else None, dates))

    def search_fields(self):
        """Entries are paths with an optional ``^`` / ``=`` prefix; a path through a
        reference (``author__username``) is checked on the target model, a dotted path
        (``meta.sku``) only for its first field."""
        from .search import lookup
        for index, entry in self.names("search_fields"):
            path = lookup(entry)[1]
            model, opts_fields, name = self.model_name, self.fields_by_name, path
            while "__" in name:
                head, _, rest = name.partition("__")
                field = opts_fields.get(head)
                if not isinstance(field, model_fields.ReferenceField):
                    break
                try:
                    target = field.target
                except LookupError:
                    break
                model, opts_fields, name = target.__name__, target._meta.fields, rest
            field = opts_fields.get(name.split(".")[0].split("__")[0])
            valid = [n for n, f in opts_fields.items() if _searchable(f)]
            if field is None:
                self.error("admin.E040", "search_fields", entry,
                           f"is not a field of {model}.", hint=_hint(name, valid), index=index)
            elif "." not in name and not _searchable(field):
                self.error("admin.E041", "search_fields", entry,
                           f"is {_what(field, f'{_kind(field)}, which holds no text')}: "
                           "search matches text fields (strings, lists of strings, text "
                           "choices) only.", hint=_hint(None, valid),
                           index=index)

    def ordering(self):
        valid = self.shown_fields() + ["id"]
        for index, item in self.names("ordering", allow_none=True):
            name = item[1:] if item.startswith("-") else item
            field = self.fields_by_name.get(name)
            if name == "id":
                continue
            if "." in name:
                path = self.path("ordering", name, index)
                hidden = path is not None and any(_hidden(f) for f in path.fields)
                if path is not None and (hidden or path.many or not _sortable(path.field)):
                    self.error("admin.E051", "ordering", item,
                               f"is {'hidden' if hidden else 'a list or crosses one'}: the "
                               "list cannot sort (and page) by it.", index=index)
                continue
            if field is None:
                hint = _hint(name, valid)
                if item.startswith("-") and hint and hint.startswith("Did you mean"):
                    hint = f"Did you mean '-{difflib.get_close_matches(name, valid, 1)[0]}'?"
                self.error("admin.E050", "ordering", item,
                           f"is not a field of {self.model_name} or 'id' (with an optional "
                           "'-' for descending).", hint=hint, index=index)
            elif not _sortable(field):
                self.error("admin.E051", "ordering", item,
                           f"is {'a hidden' if _hidden(field) else 'a list'} field of "
                           f"{self.model_name}: the list cannot sort (and page) by it.",
                           index=index)

    def sortable_fields(self):
        self.field_names("sortable_fields", ("admin.E060", "admin.E061"), _sortable,
                         lambda f: f"is {_what(f)}: the list cannot sort by it.",
                         allow_none=True, paths=True)

    # -- forms and detail pages (they show model fields only, no methods) ------------------------
    def fields(self):
        self.field_names("fields", ("admin.E070", "admin.E071"), why=self.never_shown,
                         allow_none=True)

    def readonly_fields(self):
        self.field_names("readonly_fields", ("admin.E080", "admin.E081"), why=self.never_shown,
                         paths=True)

    def never_shown(self, field):
        return f"is a hidden field of {self.model_name}: forms never show it."

    def exclude(self):
        self.field_names("exclude", ("admin.E090", None), accept=lambda field: True,
                         paths=True)

    def list_fields(self):
        """Stored fields the list page fetches; ``None`` fetches whole objects. A name that
        is no field would be dropped silently (``ModelAdmin.get_list_fields``)."""
        valid = list(self.fields_by_name)
        for index, name in self.names("list_fields", allow_none=True):
            if name.split(".", 1)[0] not in self.fields_by_name:
                self.error("admin.E140", "list_fields", name,
                           f"is not a field of {self.model_name}: the list page would not "
                           "fetch it.", hint=_hint(name.split(".", 1)[0], valid), index=index)

    # -- actions -----------------------------------------------------------------------------
    def actions(self):
        declared = [name for name in dir(self.admin_class)
                    if getattr(getattr(self.admin_class, name, None), "admin_action", None)]
        valid = [DELETE_SELECTED] + declared
        model_actions = tuple(getattr(self.opts, "actions", ()) or ())
        for index, name in self.names("actions", allow_none=True):
            if name == DELETE_SELECTED:
                continue
            method = getattr(self.admin_class, name, None)
            bulk = getattr(method, "admin_action", None)
            if bulk is None:
                self.error("admin.E100", "actions", name,
                           f"is not 'delete_selected' nor a method of "
                           f"{self.admin_class.__name__} decorated with @action.",
                           hint=_hint(name, valid), index=index)
                continue
            if model_actions and bulk.permission not in model_actions:
                self.error("admin.E101", "actions", name,
                           f"needs the permission {bulk.permission!r}, which "
                           f"{self.model_name} does not declare (its actions: "
                           f"{', '.join(model_actions)}).",
                           hint=_hint(bulk.permission, model_actions), index=index)
            if not inspect.iscoroutinefunction(bulk.function):
                self.error("admin.E102", "actions", name,
                           "is not an async method: the list page awaits every action.",
                           hint="Declare it with 'async def'.", index=index)

    # -- paging ------------------------------------------------------------------------------
    def list_per_page(self):
        choices = self.admin.list_per_page_choices
        usable = isinstance(choices, (list, tuple)) and bool(choices) and all(
            isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in choices)
        if not usable:
            self.error("admin.E112", "list_per_page_choices", choices,
                       "must be a non-empty list of positive integers.")
        per_page = self.admin.list_per_page
        if isinstance(per_page, bool) or not isinstance(per_page, int) or per_page < 1:
            self.error("admin.E110", "list_per_page", per_page,
                       "must be a positive integer.")
        elif usable and per_page not in choices:
            close = min(choices, key=lambda c: abs(c - per_page))
            self.error("admin.E111", "list_per_page", per_page,
                       f"is not one of list_per_page_choices "
                       f"({', '.join(map(str, choices))}).",
                       hint=f"Did you mean {close}?")

    # -- swapped classes ---------------------------------------------------------------------
    def classes(self):
        """``*_handler``, ``changelist_class``, ``form_class``: ``None`` or a subclass of
        the class each replaces."""
        import wtforms

        from .changelist import ChangeList
        from .handlers import (CreateHandler, DeleteHandler, DetailHandler, ListHandler,
                               ObjectHandler, UpdateHandler)
        handlers = (ListHandler, DetailHandler, CreateHandler, UpdateHandler, DeleteHandler,
                    ObjectHandler)
        expected = [(option, "admin.E120", base) for option, base in
                    zip(HANDLER_OPTIONS, handlers)]
        expected += [("changelist_class", "admin.E121", ChangeList),
                     ("form_class", "admin.E130", wtforms.Form)]
        for option, id, base in expected:
            value = getattr(self.admin, option, None)
            if value is not None and not (isinstance(value, type) and issubclass(value, base)):
                self.error(id, option, value, f"must be None or a subclass of {_show(base)}.")
