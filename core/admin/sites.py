"""The admin site: which ``ModelAdmin`` serves each installed model, and its URLs.

``@register(Model)`` (in an app's ``admin.py``, imported by the registry when the
app loads) records the ``ModelAdmin`` class for a model. ``AdminSite(registry)``
then gives every installed model an instance — the registered class, or a plain
``ModelAdmin`` — so an app added to ``INSTALLED_APPS`` is in the admin at once.

Apps add whole pages to the admin too (``App.admin_pages``, or
``site.register_page(app_label, title, path, handler, permission=...)``): each is
mounted at its path and linked in the navigation under its app, for the users who may
see it.
"""
import importlib

from core.i18n import gettext

from .options import ModelAdmin

_registered = {}


def register(*models):
    """Class decorator: ``@register(Article)`` makes the class Article's ``ModelAdmin``."""
    def wrap(admin_class):
        if not (isinstance(admin_class, type) and issubclass(admin_class, ModelAdmin)):
            raise TypeError(f"@register needs a ModelAdmin subclass, not {admin_class!r}")
        for model in models:
            _registered[model] = admin_class
        return admin_class
    return wrap


def registered_admin_class(model):
    """The ``ModelAdmin`` class registered for ``model`` (or its nearest base), else the
    plain one."""
    for klass in getattr(model, "__mro__", (model,)):
        if klass in _registered:
            return _registered[klass]
    return ModelAdmin


async def ensure_search_indexes(registry, db):
    """Give each installed model's collection the search index its ``ModelAdmin``
    declares (``search_fields``); ``{model key: [index names]}``."""
    created = {}
    for key, model in registry.models.items():
        fields = registered_admin_class(model).search_index_fields(model)
        created[key] = await model.get_collection(db).create_search_index(fields)
    return created


class AdminPage:
    """A page an app adds to the admin (``AdminSite.register_page``).

    ``permission`` decides who sees its link: ``"<app>.<model>:<action>"`` (the user
    may do ``action`` on that model, by its ``ModelAdmin.may``), a callable
    ``permission(handler) -> bool``, or ``None`` (every logged-in user). The link is all
    it decides: the page's handler still checks its own rights on every request.
    """

    def __init__(self, site, app_label, title, path, handler, permission=None, name=None):
        if not path.startswith("/admin/") or not path.endswith("/"):
            raise ValueError(f"an admin page's path starts with /admin/ and ends with /: "
                             f"{path!r}")
        if isinstance(handler, str):
            module, _, attr = handler.rpartition(".")
            handler = getattr(importlib.import_module(module), attr)
        self.site, self.app_label, self.title, self.path = site, app_label, title, path
        self.handler, self.permission = handler, permission
        self.name = name or path.strip("/").replace("/", "_")

    def __repr__(self):
        return f"<AdminPage {self.path} of {self.app_label}>"

    def may_see(self, handler):
        """True when ``handler``'s user may see the page's link."""
        if getattr(handler, "current_user", None) is None:
            return False
        if self.permission is None:
            return True
        if callable(self.permission):
            return bool(self.permission(handler))
        key, _, action = self.permission.partition(":")
        admin = self.site.get(key)
        return admin is not None and admin.may(handler, action or "read")


class AdminSite:
    """Every installed model's ``ModelAdmin``, keyed by model key, in app order."""

    def __init__(self, registry):
        self.registry = registry
        #: ``{name: handler}`` pages the installed apps add to every object (``history``)
        self.object_pages = registry.admin_object_pages() \
            if hasattr(registry, "admin_object_pages") else {}
        self.admins = {}
        for key, model in registry.models.items():
            self.admins[key] = registered_admin_class(model)(model, site=self)
        #: ``[AdminPage]`` the apps add (``App.admin_pages``, ``register_page``)
        self.pages = []
        for app in getattr(registry, "apps", {}).values():
            for page in getattr(app, "admin_pages", None) or ():
                self.register_page(app.label, **page)

    def register_page(self, app_label, title, path, handler, permission=None, name=None):
        """Add a page to the admin: mounted at ``path`` (``/admin/…/``, with ``site`` as a
        route kwarg), linked as ``title`` in the navigation under the app ``app_label``
        for the users ``permission`` lets see it (``AdminPage``); ``name`` names its route
        (``reverse_url``), by default the path without its slashes (``admin_desk_stats``).
        Call it before ``make_app`` builds the routes; ``App.admin_pages`` entries are
        registered when the site is built. A ``permission`` text naming no installed model
        or an undeclared action is a check error (``core.admin.checks.check_page``)."""
        page = AdminPage(self, app_label, title, path, handler, permission, name)
        if any(known.path == page.path for known in self.pages):
            raise ValueError(f"two admin pages at {page.path}")
        self.pages.append(page)
        return page

    def check(self):
        """Every configuration error of the site's ``ModelAdmin``s (``core.admin.checks``);
        ``make_app``, ``runserver`` and ``manage.py check`` refuse to go on with any."""
        from .checks import check_site
        return check_site(self)

    def scopes(self):
        """``{model key: [scope names]}`` of the admins that declare scopes: what a grant
        may name after its action (``core.permissions.validate_grant``'s ``scopes``)."""
        return {key: admin.scope_names() for key, admin in self.admins.items()
                if admin.scope_names()}

    def object_page(self, model_admin, name):
        """The handler of the extra object page ``name`` (``"history"``) for a model: the
        admin's own ``<name>_handler``, else the one an installed app adds, else None.
        Routes and links both ask this, so a link never points at an unmounted page."""
        return getattr(model_admin, f"{name}_handler", None) or self.object_pages.get(name)

    def __contains__(self, key):
        return key in self.admins

    def get(self, key):
        """The ``ModelAdmin`` for ``"<app>.<model>"``, or ``None``."""
        return self.admins.get(key)

    def for_url(self, app_label, model_name):
        return self.admins.get(f"{app_label}.{model_name}")

    def navigation(self, handler):
        """``[{"label", "models": [{"label", "url", "current"}]}]``: per app, the models
        the user may read, then the app's pages they may see (``base.html``'s menu)."""
        path = handler.request.path
        groups = []
        readable = dict((app.label, admins) for app, admins in self.readable(handler))
        for app in self.registry.apps.values():
            links = []
            for admin in readable.get(app.label, ()):
                plural = str(admin.opts.verbose_name_plural)
                links.append({"label": plural[:1].upper() + plural[1:],
                              "url": admin.url_prefix,
                              "current": path.startswith(admin.url_prefix)})
            links += [{"label": gettext(page.title), "url": page.path, "page": True,
                       "current": path.startswith(page.path)}
                      for page in self.pages
                      if page.app_label == app.label and page.may_see(handler)]
            if links:
                groups.append({"label": app.verbose_name, "models": links})
        return groups

    def readable(self, handler):
        """``[(app, [model admin, ...]), ...]`` the user may read, for the index and nav.

        Worked out once per auth-cache entry (``shared_memo``: the answer depends only on
        the user's grants, through each admin's ``may(handler, "read")``), not on every
        page; an admin whose ``has_permission`` reads anything else (the request) sets
        ``AUTH_CACHE_SECONDS = 0``, as for ``read_memo``."""
        memo = handler.shared_memo() if hasattr(handler, "shared_memo") else None
        memo_key = ("readable admins", self)     # another site's admins are not these
        if memo is not None and memo_key in memo:
            return memo[memo_key]
        groups = []
        for app in self.registry.apps.values():
            admins = [admin for admin in self.admins.values()
                      if admin.opts.app_label == app.label and admin.may(handler, "read")]
            if admins:
                groups.append((app, admins))
        if memo is not None:
            memo[memo_key] = groups
        return groups
