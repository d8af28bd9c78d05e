"""``ModelAdmin``: how one model appears in the admin, declared as attributes.

An app says how its models look in ``<app>/admin.py``::

    from core.admin import ModelAdmin, action, register
    from .models import Article

    @register(Article)
    class ArticleAdmin(ModelAdmin):
        list_display = ["title", "category", "published", "created"]
        search_fields = ["title", "body"]
        list_filter = ["published", "category"]
        ordering = ["-created"]
        readonly_fields = ["author", "created"]

        def has_object_permission(self, handler, action, obj):
            # the seed's rule: only the author deletes (superusers bypass every rule)
            return action != "delete" or obj.author == handler.current_user.id

        @action(permission="publish", label="Publish selected articles")
        async def publish_selected(self, handler, objects):
            ...
            return f"Published {len(objects)} articles."

Every hook's ``handler`` is a ``core.context.RequestContext``: it may read
``current_user``, ``permissions``, ``session``, ``db`` and ``registry`` — an admin
page, an API request, a live socket's snapshot, or a ``Context`` built by a command
or a test. A model nobody registers gets a plain ``ModelAdmin``: every installed
model is in the admin. The common case needs attributes only; the rare case overrides one
``get_*`` / ``has_*`` method, or swaps a whole handler (``list_handler = MyList``).
"""
import copy

from core.i18n import gettext_lazy as _l
from core.models.fields import ReferenceField
from core.permissions import UNSCOPED

from .scopes import NOTHING, matches

DEFAULT_PER_PAGE = 50
PER_PAGE_CHOICES = (25, 50, 100, 200)


def _filter_fields(flt):
    """The top-level field names a store filter tests (inside ``$and/$or/$nor`` too)."""
    names = []
    for key, value in (flt or {}).items() if isinstance(flt, dict) else ():
        if key in ("$and", "$or", "$nor") and isinstance(value, (list, tuple)):
            for part in value:
                names += _filter_fields(part)
        elif not key.startswith("$"):
            names.append(key.split(".", 1)[0])
    return names


def _scope_document(obj):
    """``obj`` as stored, for ``matches``: each field's stored form, or its value as it is
    when the object is not clean yet (a form's input, before ``save`` cleans it); a
    projected object's fetched fields (its list fetched those its scopes test)."""
    doc = {"_id": obj.id}
    declared = obj._meta.fields
    for name in declared if obj._projected is None else obj._projected:  # fetched ones
        field, value = declared[name], obj._data.get(name)
        try:
            doc[name] = field.to_bson(value)
        except (ValueError, TypeError):           # ValidationError is a ValueError
            doc[name] = value
    return doc


class AdminAction:
    """A bulk action on the list page: a coroutine taking the selected objects.

    ``permission`` is the action each selected object must allow (the model's
    permission and the object rule are checked per object; objects that fail are
    skipped and reported, never touched). ``confirm`` shows a confirmation page
    first. The function returns a message for the flash, or ``None``.

    The list page calls the function once per selected object (a list of one), so
    that each object's change and its audit entry succeed or fail together; the
    function may raise ``PermissionDenied`` or ``ValidationError`` to refuse one
    object (it is skipped and reported). Its message is shown when one object was
    done; for more, the page says "<label>: done for N <objects>".
    """

    def __init__(self, function, name=None, label=None, permission="write", confirm=False):
        self.function = function
        self.name = name or function.__name__
        self.label = label or self.name.replace("_", " ").capitalize()
        self.permission = permission
        self.confirm = confirm

    async def run(self, model_admin, handler, objects):
        return await self.function(model_admin, handler, objects)

    def __repr__(self):
        return f"<AdminAction {self.name} needs {self.permission!r}>"


def action(function=None, *, name=None, label=None, permission="write", confirm=False):
    """Mark a ``ModelAdmin`` coroutine method as a bulk action (see ``AdminAction``)."""
    def wrap(func):
        func.admin_action = AdminAction(func, name, label, permission, confirm)
        return func
    return wrap(function) if function is not None else wrap


async def delete_selected(model_admin, handler, objects):
    """The built-in bulk delete (always behind a confirmation page), with the delete hooks."""
    for obj in objects:
        await model_admin.before_delete(handler, obj)
        await model_admin.delete_model(handler, obj)
        await model_admin.after_delete(handler, obj)
    return None


DELETE_SELECTED = AdminAction(delete_selected, "delete_selected", _l("Delete selected"),
                              permission="delete", confirm=True)


class ModelAdmin:
    """Declarative admin options for one model; one instance per model per site.

    Attributes (defaults in brackets):

    ``list_display``     columns of the list page [the first five editable fields]
    ``list_display_links`` columns linking to the object [the first column]
    ``empty_value_display`` what an empty value shows as ["—"]
    ``list_editable``    columns edited in the list, saved in one POST (each row with its
                         version check, audit entry and object rule)
    ``search_fields``    fields ``?q=`` searches, case-insensitively, any word in any
                         field [none: no search box]
    ``list_filter``      fields offered as filters, ``?<field>=<value>`` [none]
    ``ordering``         default sort, e.g. ``["-created"]`` [the model's Meta.ordering,
                         else newest first]
    ``sortable_fields``  fields a user may sort by with ``?o=`` [list_display fields and
                         paths, not references]
    ``list_per_page`` / ``list_per_page_choices``  page size and the sizes offered
    ``list_fields``      stored fields the list page fetches besides those its columns,
                         sort, editable columns and scopes name: what a column method
                         or ``__str__`` reads [none; ``None``: fetch whole objects]
    ``fields``           form fields, in order [every editable field]
    ``readonly_fields``  shown on forms but never written from a request
    ``exclude``          never on forms or detail pages
    ``form_class``       a WTForms form to use instead of the generated one
    ``fieldsets``        ``[(title or None, {"fields": [...], "classes": ["collapse"] or ["tab"],
                         "description": "..."})]``: titled groups on the forms
    ``prepopulated_fields`` ``{"slug": ("title",)}``: filled from other fields as one
                         types (``static/prepopulate.js``)
    ``save_as``          a "Save as new" button on the change page
    ``save_on_top``      the save buttons above the form too
    ``view_on_site``     a "View on site" link: ``True`` uses the model's
                         ``get_absolute_url``, a method ``view_on_site(self, obj)``
                         gives the URL, ``False`` hides it
    ``raw_id_fields``    references edited as an id input with a "look up" link
    ``autocomplete_fields`` references picked by search-as-you-type
                         (``/admin/<app>/<model>/autocomplete/``; needs ``read`` there)
    ``date_hierarchy``   a date field the list drills down by (year → month → day)
    ``actions``          bulk action names (methods decorated with ``@action``)
                         [``["delete_selected"]``]
    ``scopes``           ``{name: builder(handler) -> filter}`` a grant may name
                         (``"write:own"``: only the objects the filter matches) [none]
    ``changelist_class`` the ``ChangeList`` (search, filters, sort, pages) the list
                         page and the API list compose [``core.admin.changelist.ChangeList``]
    ``list_handler`` … ``history_handler``  handler classes; swap one for a subclass
    """

    list_display = None
    list_display_links = None
    list_editable = ()
    empty_value_display = "—"
    search_fields = ()
    list_filter = ()
    date_hierarchy = None
    ordering = None
    sortable_fields = None
    list_per_page = DEFAULT_PER_PAGE
    list_per_page_choices = PER_PAGE_CHOICES
    list_fields = ()
    fields = None
    readonly_fields = ()
    exclude = ()
    form_class = None
    raw_id_fields = ()
    autocomplete_fields = ()
    fieldsets = None
    prepopulated_fields = {}
    save_as = False
    save_on_top = False
    view_on_site = True
    actions = ("delete_selected",)
    scopes = {}

    changelist_class = None

    # handler classes; None means the site's defaults (core.admin.handlers)
    list_handler = None
    detail_handler = None
    create_handler = None
    update_handler = None
    delete_handler = None
    history_handler = None
    file_handler = None
    export_handler = None
    import_handler = None

    def __init__(self, model, site=None):
        self.model = model
        self.site = site
        self.opts = model._meta

    def __repr__(self):
        return f"<{type(self).__name__} for {self.opts.key}>"

    def check(self):
        """This admin's configuration errors (``core.admin.checks``: every option against
        the model, with the closest valid name); the site checks every admin at start-up."""
        from .checks import check_model_admin
        return check_model_admin(self)

    # -- names -----------------------------------------------------------------------------
    @property
    def key(self):
        """The permission key, ``"<app>.<model>"``."""
        return self.opts.key

    @property
    def url_prefix(self):
        """``/admin/<app>/<model>/``."""
        return f"/admin/{self.opts.app_label}/{self.opts.model_name}/"

    def object_url(self, obj, suffix=""):
        return f"{self.url_prefix}{obj.id}/{suffix}"

    # -- what is shown ---------------------------------------------------------------------
    def editable_field_names(self):
        return [name for name, field in self.opts.fields.items()
                if getattr(field, "editable", True) and name not in self.exclude]

    def get_list_display(self, handler):
        """Columns of the list page (field names, or names of methods taking ``obj``)."""
        names = list(self.list_display) if self.list_display else \
            (self.editable_field_names()[:5] or ["id"])
        return self.visible(handler, names)

    def get_list_display_links(self, handler):
        columns = self.get_list_display(handler)
        return list(self.list_display_links or columns[:1])

    def get_list_editable(self, handler):
        """Columns edited right in the list (saved together, each row on its own); never
        a field the user may not write or see (``-write:FIELD``, ``-read:FIELD``)."""
        frozen = self.frozen_fields(handler) | self.hidden_fields(handler)
        return [name for name in self.list_editable if name.split(".", 1)[0] not in frozen]

    def get_list_fields(self, handler):
        """The stored fields the list page fetches (its objects hold only those, read-only),
        or ``None`` for whole objects. Asked once per list page. Default: the fields the
        columns name (a dotted path's first field), the editable ones and ``list_fields`` —
        never a field hidden from the user — and the fields the scopes' filters test (even
        a hidden one: it judges which rows the user may edit and is never shown).
        A column method or label reading a field left out makes the page fetch whole
        objects instead (same page, slower): add that field to ``list_fields``."""
        if self.list_fields is None:
            return None
        shown = [*self.get_list_display(handler), *self.get_list_editable(handler),
                 *self.list_fields]
        tested = []                    # the scopes' fields: read to judge rows, never shown
        for scope in self.get_scopes():
            tested += _filter_fields(self.scope_filter(handler, scope))
        declared, hidden = self.opts.fields, self.hidden_fields(handler)
        heads = [name.split(".", 1)[0] for name in shown if name.split(".", 1)[0] not in hidden]
        return [name for name in dict.fromkeys(heads + tested) if name in declared]

    def get_search_fields(self, handler):
        """Fields ``?q=`` searches, with their lookups (``^title``, ``=sku``,
        ``author__name``); never a hidden one: a match would reveal it."""
        hidden = self.hidden_fields(handler)
        return [entry for entry in self.search_fields
                if entry.lstrip("^=").split("__")[0].split(".")[0] not in hidden]

    @classmethod
    def search_index_fields(cls, model):
        """The fields the database indexes for ``?q=``: the declared ``search_fields`` that
        are ``model``'s own (a lookup prefix such as ``^`` or ``=`` dropped; searches through
        references are not indexed). Read once, when indexes are created (start-up,
        ``manage.py ensure_indexes``); overriding it changes what is indexed, never what
        a search finds."""
        fields = []
        for name in cls.search_fields:
            name = name.lstrip("^=@")
            if name in model._meta.fields and name not in fields:
                fields.append(name)
        return fields

    def get_list_filter(self, handler):
        """``list_filter`` entries: field names and ``ListFilter`` classes (never a field
        hidden from this user)."""
        hidden = self.hidden_fields(handler)
        return [entry for entry in self.list_filter
                if not isinstance(entry, str) or entry.split(".", 1)[0] not in hidden]

    def get_date_hierarchy(self, handler):
        """The date field the list drills down by (year → month → day), or ``None``
        (also when the field is hidden from this user)."""
        name = self.date_hierarchy
        return None if name in self.hidden_fields(handler) else name

    def get_ordering(self, handler):
        """Default sort as ``["-created", ...]``; ``_id`` is always appended as tie-breaker.
        Never by a field hidden from the user: the order, and the page cursor holding the
        last row's sort values, would reveal it."""
        ordering = list(self.ordering or getattr(self.opts, "ordering", None) or ["-id"])
        shown = [item for item in ordering
                 if self.visible(handler, [item.lstrip("-")])]
        return shown or ["-id"]

    def get_sortable_fields(self, handler):
        """Columns ``?o=`` may sort by: ``sortable_fields``, else the ``list_display``
        fields and dotted paths through sub-documents, except references (their ids
        would order the rows by nothing the user sees; name one in ``sortable_fields``
        to group rows by it)."""
        if self.sortable_fields is not None:
            return self.visible(handler, self.sortable_fields)
        found = []
        for name in self.get_list_display(handler):
            try:
                field = self.opts.field_at(name).field
            except KeyError:
                continue
            if not isinstance(field, ReferenceField):
                found.append(name)
        return found

    def get_fields(self, handler, obj=None):
        """The fields of the add/change forms and the detail page, in order: ``fields``,
        else every editable field then the automatic ones (``created``); read-only ones
        are rendered as text. Hidden fields and ``exclude`` are never included.
        ``readonly_fields`` not listed are added, so ``readonly_fields = ["created"]``
        shows ``created`` as text. Overriding this hides a field everywhere an object is
        shown: forms, the detail page, exports. Never a field hidden from the user."""
        fields = self.opts.fields
        declared = self.fields or [name for _title, options in (self.fieldsets or ())
                                   for name in options.get("fields", ())]
        names = list(declared) if declared else self.editable_field_names() + [
            name for name, field in fields.items()
            if not getattr(field, "editable", True)]
        names += [name for name in self.get_readonly_fields(handler, obj)
                  if name not in names and name in fields]
        return self.visible(handler, [name for name in names if name not in self.exclude
                                      and not getattr(fields.get(name), "hidden", False)])

    def get_fieldsets(self, handler, obj=None):
        """``[(title, {"fields": [...], ...})]`` for the forms, or ``None`` (one group)."""
        return [(title, dict(options)) for title, options in self.fieldsets] \
            if self.fieldsets else None

    def get_prepopulated_fields(self, handler, obj=None):
        """``{field: (source fields...)}`` filled as one types (new objects only)."""
        return dict(self.prepopulated_fields)

    def get_view_on_site_url(self, obj):
        """The object's public URL for "View on site", or ``None``."""
        if callable(self.view_on_site):
            return self.view_on_site(obj)
        if self.view_on_site and hasattr(obj, "get_absolute_url"):
            return obj.get_absolute_url()
        return None

    def get_export_fields(self, handler):
        """Columns of an export after ``id`` (and of an import): the detail page's fields."""
        return [name for name in self.get_fields(handler) if name in self.opts.fields]

    def get_readonly_fields(self, handler, obj=None):
        """Fields shown but never written from a request: ``readonly_fields`` and the
        fields frozen for the user."""
        frozen = [name for name in sorted(self.frozen_fields(handler))
                  if name not in self.readonly_fields]
        return self.visible(handler, list(self.readonly_fields) + frozen)

    def get_form_class(self, handler, obj=None):
        """The WTForms class for add/change pages (generated from the model by default)."""
        if self.form_class is not None:
            return self.form_class
        from .forms import model_form
        return model_form(self.model, self.get_fields(handler, obj),
                          self.get_readonly_fields(handler, obj),
                          raw_id_fields=self.get_raw_id_fields(handler),
                          autocomplete_fields=self.get_autocomplete_fields(handler),
                          exclude=self.exclude)

    def get_raw_id_fields(self, handler):
        """References edited as an id input with a "look up" link (no ``<select>``)."""
        return list(self.raw_id_fields)

    def get_autocomplete_fields(self, handler):
        """References picked by searching the target admin's ``search_fields`` (an id
        input with a "look up" link without JavaScript)."""
        return list(self.autocomplete_fields)

    def get_actions(self, handler):
        """``{name: AdminAction}`` the user may see (those whose permission they hold)."""
        found = {}
        for name in self.actions:
            if name == "delete_selected":
                bulk = DELETE_SELECTED
            else:
                method = getattr(type(self), name, None)
                bulk = getattr(method, "admin_action", None)
                if bulk is None:
                    raise AttributeError(f"{type(self).__name__}.{name} is not an @action")
            if self.has_permission(handler, bulk.permission):
                found[bulk.name] = bulk
        return found

    def object_label(self, obj):
        """How an object is named on pages, in the audit log and on delete pages."""
        return str(obj)

    def get_changelist(self, handler, args, *, secret):
        """The ``ChangeList`` for one list request (``args``: query argument → value);
        raises ``BadListArguments`` for arguments the list cannot take."""
        from .changelist import ChangeList
        return (self.changelist_class or ChangeList)(self, handler, args, secret=secret)

    # -- queries -----------------------------------------------------------------------------
    def get_base_filter(self, handler):
        """A filter every query of this admin adds (row-level scoping); ``{}`` by default."""
        return {}

    def get_scopes(self):
        """``{name: builder}``: the scopes a grant may name (``"write:own"``); each
        ``builder(handler)`` returns the filter of the objects the scope reaches for the
        current user (``core.admin.scopes`` lists what a filter may use). Called to
        validate grants (any user) and per request; ``scopes`` by default. Override to
        compute the names, e.g. from settings."""
        return dict(self.scopes or {})

    def scope_names(self):
        """The scope names grants on this model may use, sorted."""
        return sorted(self.get_scopes())

    def scope_filter(self, handler, name):
        """The filter of scope ``name`` for this request (``NOTHING`` for an unknown name:
        a stored grant whose scope the admin no longer declares reaches nothing)."""
        builder = self.get_scopes().get(name)
        if builder is None:
            return dict(NOTHING)
        flt = builder(handler)
        matches(flt, {})                       # refuses operators Python cannot test
        return flt

    def reach_filter(self, handler, action="read"):
        """The filter of the objects ``action`` reaches for this user: ``{}`` for an
        unscoped grant, the ``$or`` of the scopes' filters for a scoped one, ``NOTHING``
        without the action. The engine answers (``Permissions.reach``)."""
        reach = self.reach(handler, action)
        if reach is UNSCOPED:
            return {}
        if not reach:
            return dict(NOTHING)
        filters = [self.scope_filter(handler, name) for name in sorted(reach)]
        return filters[0] if len(filters) == 1 else {"$or": filters}

    def has_row_scope(self, handler, action="read"):
        """Do this user's queries for ``action`` carry a filter (base filter or scope)?"""
        return bool(self.get_base_filter(handler)) or \
            self.reach(handler, action) is not UNSCOPED

    def scoped(self, handler, flt=None, action="read"):
        """``flt`` narrowed by ``get_base_filter`` and by the reach of the user's ``action``
        grant (``reach_filter``: ``"read:own"`` lists only their own) — the one way
        pages, the API, the ``ChangeList``, reference look-ups and live events apply the
        row scope, as a query filter, never by filtering fetched rows."""
        parts = [part for part in (self.get_base_filter(handler) or {},
                                   self.reach_filter(handler, action), flt or {}) if part]
        if not parts:
            return {}
        return dict(parts[0]) if len(parts) == 1 else {"$and": parts}

    def in_scope(self, handler, name, obj):
        """Does scope ``name`` reach ``obj`` (as it is in memory)? ``matches`` on its
        document; the engine asks this for scoped grants on one object."""
        if name not in self.get_scopes():
            return False
        return matches(self.scope_filter(handler, name), _scope_document(obj))

    # -- fields the user may see and write (field permissions) -------------------------------
    def hidden_fields(self, handler):
        """Fields this user may not see: never on a page, in a list column, a form, an
        API body, the OpenAPI schema, a history entry or a live event (``-read:field``
        grants; ``Permissions.hidden_fields``). Every output path asks this."""
        perms = getattr(handler, "permissions", None)
        return perms.hidden_fields(self.key) if hasattr(perms, "hidden_fields") else frozenset()

    def frozen_fields(self, handler):
        """Fields this user may see but not write (``-write:field``), hidden ones included:
        read-only on forms, a 422 in the API."""
        perms = getattr(handler, "permissions", None)
        return perms.frozen_fields(self.key) if hasattr(perms, "frozen_fields") else frozenset()

    def redact_for_display(self, handler, objects):
        """Called with the objects a list (page or API) or a read-only object page is about
        to show, after every permission check; nothing is saved afterwards. The default
        does nothing; the audit log drops from each entry's ``changes`` the fields hidden
        from the user on the entry's model."""

    def shown_object_label(self, handler, obj):
        """``object_label(obj)`` as this user may see it: a label that would read otherwise
        with the fields hidden from the user left out (``Customer.__str__`` returning its
        ``name`` under ``-read:name``) would reveal them, so it becomes
        ``"<verbose name> <id>"``. Every page, list, flash, choice and autocomplete asks
        this (through ``label_for``)."""
        label = self.object_label(obj)
        hidden = self.hidden_fields(handler)
        if not hidden:
            return label
        blanked = copy.copy(obj)
        blanked._data = {name: value for name, value in obj._data.items()
                         if name not in hidden}
        try:
            same = self.object_label(blanked) == label
        except Exception:            # a label that cannot be built without them needs them
            same = False
        return label if same else f"{str(self.opts.verbose_name).capitalize()} {obj.id}"

    def visible(self, handler, names):
        """``names`` without the fields hidden from this user, nor their parts
        (``address.city`` when ``address`` is hidden); order kept."""
        hidden = self.hidden_fields(handler)
        return [name for name in names if name.split(".", 1)[0] not in hidden]

    # -- permissions ------------------------------------------------------------------------
    def has_permission(self, handler, action):
        """May the current user do ``action`` on this model at all? (the dict decides)."""
        return handler.permissions.has(self.key, action)

    def has_object_permission(self, handler, action, obj):
        """The per-object rule, on top of the model-level grant; ``True`` by default.

        Override to narrow (e.g. only the author may delete). Superusers bypass it.
        Bulk actions ask it for every selected object.
        """
        return True

    def may(self, handler, action, obj=None):
        """The one check handlers make: the grant, and with ``obj`` the grant's reach (for a
        scoped grant, ``in_scope``) and the object rule (superusers pass both)."""
        if obj is None:
            return self.has_permission(handler, action)

        perms = handler.permissions
        extra = {}
        if hasattr(perms, "reach"):            # the engine tests a scoped grant's reach
            extra["scope_match"] = lambda name, target: self.in_scope(handler, name, target)
        return perms.has(
            self.key, action, obj=obj,
            object_rule=lambda user, act, target: self.has_object_permission(handler, act, target),
            **extra)

    def reach(self, handler, action):
        """The engine's answer for ``action`` on this model: ``UNSCOPED``, scope names or
        ``None``. A context without permissions (a command's) and a permissions object
        without ``reach`` know no scopes: unscoped."""
        perms = getattr(handler, "permissions", None)
        if perms is None:
            return UNSCOPED
        if not hasattr(perms, "reach"):
            return UNSCOPED if perms.has(self.key, action) else None
        return perms.reach(self.key, action)

    def scope_refusal(self, handler, obj, action="write"):
        """Why saving ``obj`` as it now is would put it outside the user's ``action`` reach
        (a message for the form or the 422), or ``None``. Called on every channel before
        ``save_model`` (creating or changing an object into someone else's scope)."""
        reach = self.reach(handler, action)
        if reach is UNSCOPED or reach is None:
            return None
        if any(self.in_scope(handler, name, obj) for name in sorted(reach)):
            return None
        return (f"You may {action} only {self.opts.verbose_name_plural} within your "
                f"scope ({', '.join(sorted(reach))}); this one would be outside it.")

    async def object_refusal(self, handler, action, obj):
        """Why ``action`` on ``obj`` is refused beyond the grant and the object rule (a
        message for the 403 page, naming no object the user may not read), or ``None``.

        Called after ``may`` on every object page, for each object of a bulk action
        and by the API; override for rules that need the database (the accounts admin
        compares stored grants here). Superusers are not exempt: the override decides.
        """
        return None

    # -- saving ------------------------------------------------------------------------------
    async def save_model(self, handler, obj, form, change):
        """Save ``obj`` after the form's data was put on it; override to set extra fields."""
        await obj.save(db=handler.db)

    async def delete_model(self, handler, obj):
        """Delete one object (single delete page and the bulk action both call this)."""
        await obj.delete(db=handler.db)

    # -- around saves and deletes ---------------------------------------------------------------
    async def before_save(self, handler, obj, change):
        """Called on every channel (form, API, ...) just before ``save_model``, inside the
        write's audit block: set derived fields, or raise ``ValidationError`` /
        ``PermissionDenied`` to refuse the save (nothing is written)."""

    async def after_save(self, handler, obj, change):
        """Called once the object and its audit entry are saved: post-commit side effects
        (mail, a cache, a webhook). An error here is the request's, the save stays."""

    async def before_delete(self, handler, obj):
        """Called on every channel (page, bulk, API) just before ``delete_model``; raise
        ``PermissionDenied`` to refuse (nothing is deleted)."""

    async def after_delete(self, handler, obj):
        """Called once the object is deleted and its entry recorded (post-commit)."""
