"""The admin site: which ``ModelAdmin`` serves each installed model, and its URLs.

``@register(Model)`` (in an app's ``admin.py``, imported by the registry when the
app loads) records the ``ModelAdmin`` class for a model. ``AdminSite(registry)``
then gives every installed model an instance — the registered class, or a plain
``ModelAdmin`` — so an app added to ``INSTALLED_APPS`` is in the admin at once.
"""
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

    def readable(self, handler):
        """``[(app, [model admin, ...]), ...]`` the user may read, for the index and nav."""
        groups = []
        for app in self.registry.apps.values():
            admins = [admin for admin in self.admins.values()
                      if admin.opts.app_label == app.label and admin.may(handler, "read")]
            if admins:
                groups.append((app, admins))
        return groups
