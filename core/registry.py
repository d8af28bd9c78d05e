"""The app registry: which apps are on, their models, routes, templates and commands.

An app is a package listed in ``INSTALLED_APPS``. Its ``app.py`` defines one
``App`` subclass::

    # apps/blog/app.py
    from core.registry import App

    class BlogApp(App):
        label = "blog"
        verbose_name = "Blog"
        models = "apps.blog.models"          # or [Article, Comment]

        def get_routes(self):
            return [(r"/blog/feed/", FeedHandler)]

``Registry(settings).load()`` imports each listed package's ``app`` module,
makes one instance of its ``App`` subclass, and gives each model its key
``"<app_label>.<model_name>"`` (by setting ``model._meta.app_label``). Core never
imports an app by name: adding one line to ``INSTALLED_APPS`` turns an app on.

The registry relies only on these model attributes: ``_meta.app_label``,
``_meta.model_name``, ``_meta.key``, ``_meta.collection``, ``_meta.abstract``
(optional), ``_meta.indexes`` (optional, for ``check``) and the async
classmethod ``ensure_indexes()``.
"""
import importlib
import importlib.util
import inspect
import re
from pathlib import Path

from core.conf import ImproperlyConfigured, names_missing_module

_LABEL = re.compile(r"^[a-z][a-z0-9_]*$")


class App:
    """One installed app. Subclass it in ``<package>/app.py``; declare, then refine.

    Attributes (the common case needs nothing else):

    ``label``         short lower-case name, the first half of model keys; default:
                      the package's last component (``apps.blog`` → ``blog``)
    ``verbose_name``  shown in the admin; default: the label, capitalised
    ``models``        a list of Model classes, or a dotted path to a module whose
                      Model classes (defined there) all belong to the app
    ``templates``     template folder, relative to the package (default
                      ``templates`` if that folder exists)
    ``commands``      dotted path of a module or package of management commands;
                      default ``<package>.management.commands`` or ``<package>.commands``
                      if either exists
    ``admin_object_pages``  pages the app adds to every object in the admin,
                      ``{name: "dotted.path.Handler"}`` mounted at
                      ``/admin/<app>/<model>/<id>/<name>/`` (the audit app adds
                      ``history``)
    ``admin_pages``   whole pages the app adds to the admin, linked in its navigation
                      under the app: ``[{"title", "path", "handler" (a class or
                      "dotted.path"), "permission" ("<app>.<model>:<action>", a
                      callable, or None)}]`` (``core.admin.sites.AdminSite.register_page``)
    (an ``admin`` module in the package, if any, is imported once all apps are
    loaded: that is where ``@core.admin.register`` declarations live)

    Override ``get_models``, ``get_routes``, ``get_template_dir`` or
    ``get_commands_module`` for the rare case; ``ready`` runs once the whole
    registry is loaded; ``first_run`` on a development server's first start.
    """

    label = None
    verbose_name = None
    models = ()
    templates = None
    commands = None
    admin_object_pages = {}
    admin_pages = ()

    def __init__(self, package):
        self.package = package
        self.module = importlib.import_module(package)
        if self.label is None:
            self.label = package.rsplit(".", 1)[-1]
        if not isinstance(self.label, str) or not _LABEL.match(self.label):
            raise ImproperlyConfigured(
                f"app {package!r}: label must be a lower-case identifier, not {self.label!r}")
        if self.verbose_name is None:
            self.verbose_name = self.label.replace("_", " ").capitalize()

    def __repr__(self):
        return f"<App {self.label} ({self.package})>"

    @property
    def path(self):
        """The package's folder."""
        return Path(self.module.__file__).resolve().parent

    def get_models(self):
        """Return the app's Model classes. Called once, by ``Registry.load``."""
        declared = self.models
        if isinstance(declared, str):
            module = _import_for(self, declared, "models")
            return [obj for obj in vars(module).values()
                    if is_model_class(obj) and obj.__module__ == module.__name__]
        models = list(declared or ())
        for model in models:
            if not is_model_class(model):
                raise ImproperlyConfigured(
                    f"app {self.label!r}: models lists {model!r}, which is not a Model class")
        return models

    def get_routes(self):
        """Return the app's own URL specs (``(pattern, Handler[, kwargs[, name]])``).

        Called when the Tornado application is built. The generic admin and API
        routes are not listed here; this is for pages an app adds itself.
        """
        return []

    def get_template_dir(self):
        """The app's template folder, or ``None``."""
        if self.templates:
            folder = Path(self.templates)
            folder = folder if folder.is_absolute() else self.path / folder
            if not folder.is_dir():
                raise ImproperlyConfigured(
                    f"app {self.label!r}: templates folder {folder} does not exist")
            return folder
        folder = self.path / "templates"
        return folder if folder.is_dir() else None

    def get_locale_dir(self):
        """The app's translation catalogs folder (``locale/``, holding
        ``<lang>/LC_MESSAGES/bastion.po``), or ``None``. Override to move it."""
        folder = self.path / "locale"
        return folder if folder.is_dir() else None

    def get_commands_module(self):
        """The module or package holding the app's management commands, or ``None``."""
        if self.commands:
            return _import_for(self, self.commands, "commands")
        for candidate in (f"{self.package}.management.commands", f"{self.package}.commands"):
            if _module_exists(candidate):
                return importlib.import_module(candidate)
        return None

    def get_admin_module(self):
        """Import the app's ``admin`` module (its ``@register`` calls), if it has one.

        Called once by ``Registry.load`` after every app's models are known, so an
        admin module may refer to another app's models.
        """
        name = f"{self.package}.admin"
        return importlib.import_module(name) if _module_exists(name) else None

    def ready(self):
        """Called once after every installed app is loaded; override to wire things up."""

    def first_run(self, run):
        """Called by ``runserver`` on the first run in development; does nothing by default.

        Only when ``FIRST_RUN_DEMO`` is on and no user exists yet, in
        ``INSTALLED_APPS`` order, before serving. ``run`` is a
        ``core.management.firstrun.FirstRun`` (``db``, ``settings``, ``admin_url``,
        ``say(line)``, ``state``). May be a coroutine function. Override to create a
        first user or load demo data.
        """


def is_model_class(obj):
    """A concrete model class: has ``_meta`` with a ``model_name`` and is not abstract."""
    meta = getattr(obj, "_meta", None) if inspect.isclass(obj) else None
    return (meta is not None and getattr(meta, "model_name", None) is not None
            and not getattr(meta, "abstract", False))


def _module_exists(name):
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _import_for(app, dotted, what):
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError as exc:
        if names_missing_module(exc.name, dotted):
            raise ImproperlyConfigured(
                f"app {app.label!r}: {what} module {dotted!r} does not exist") from None
        raise


class Registry:
    """The installed apps and everything they bring.

    ``apps``    ``{label: App}`` in ``INSTALLED_APPS`` order
    ``models``  ``{"<app_label>.<model_name>": ModelClass}``
    """

    def __init__(self, settings=None, installed_apps=None):
        if installed_apps is None:
            if settings is None:
                from core.conf import settings
            installed_apps = settings.INSTALLED_APPS
        self.settings = settings
        self.installed_apps = list(installed_apps)
        self.apps = {}
        self.models = {}
        self.loaded = False

    def __repr__(self):
        return f"<Registry {len(self.apps)} apps, {len(self.models)} models>"

    # -- loading ---------------------------------------------------------------------------
    def load(self):
        """Import every installed app and collect its models; returns ``self``.

        Raises ``ImproperlyConfigured`` naming the entry that cannot be imported,
        has no ``App`` subclass, or clashes with another app's label or model key.
        """
        if self.loaded:
            return self
        for package in self.installed_apps:
            app = self._load_app(package)
            if app.label in self.apps:
                raise ImproperlyConfigured(
                    f"apps {self.apps[app.label].package!r} and {package!r} both use the "
                    f"label {app.label!r}; set a different App.label on one of them")
            self.apps[app.label] = app
            for model in app.get_models():
                model._meta.app_label = app.label
                key = model._meta.key
                if key in self.models and self.models[key] is not model:
                    raise ImproperlyConfigured(f"two models have the key {key!r}")
                self.models[key] = model
        self.loaded = True
        for app in self.apps.values():
            app.get_admin_module()
        for app in self.apps.values():
            app.ready()
        return self

    def _load_app(self, package):
        if not isinstance(package, str) or not package:
            raise ImproperlyConfigured(f"INSTALLED_APPS entries are package names, not "
                                       f"{package!r}")
        module_name = f"{package}.app"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if names_missing_module(exc.name, module_name):
                what = ("has no app.py" if exc.name == module_name
                        else f"cannot be imported (no module named {exc.name!r})")
                raise ImproperlyConfigured(
                    f"INSTALLED_APPS entry {package!r} {what}") from None
            raise ImproperlyConfigured(
                f"INSTALLED_APPS entry {package!r} failed to import: {exc}") from exc
        except ImproperlyConfigured:
            raise
        except Exception as exc:
            raise ImproperlyConfigured(f"INSTALLED_APPS entry {package!r} failed to import: "
                                       f"{type(exc).__name__}: {exc}") from exc
        classes = [obj for obj in vars(module).values()
                   if inspect.isclass(obj) and issubclass(obj, App) and obj is not App
                   and obj.__module__ == module.__name__]
        if len(classes) != 1:
            found = ", ".join(c.__name__ for c in classes) or "none"
            raise ImproperlyConfigured(f"{module_name} must define exactly one App subclass "
                                       f"(found {found})")
        return classes[0](package)

    def _require_loaded(self):
        if not self.loaded:
            raise RuntimeError("call Registry.load() first")

    # -- lookups ---------------------------------------------------------------------------
    def get_app(self, label):
        self._require_loaded()
        try:
            return self.apps[label]
        except KeyError:
            raise LookupError(f"no installed app with label {label!r}") from None

    def get_model(self, key):
        """The model class for ``"app_label.model_name"`` (case-insensitive)."""
        self._require_loaded()
        try:
            return self.models[key.lower()]
        except (KeyError, AttributeError):
            known = ", ".join(sorted(self.models)) or "none"
            raise LookupError(f"unknown model {key!r} (installed: {known})") from None

    def get_models(self, app_label=None):
        """Model classes, all or one app's, in registration order."""
        self._require_loaded()
        return [m for m in self.models.values()
                if app_label is None or m._meta.app_label == app_label]

    def routes(self):
        """Every app's ``get_routes()``, in ``INSTALLED_APPS`` order."""
        self._require_loaded()
        routes = []
        for app in self.apps.values():
            routes.extend(app.get_routes() or [])
        return routes

    def admin_object_pages(self):
        """``{name: handler class}`` of the object pages the apps add to the admin
        (``App.admin_object_pages``; a later app's page of the same name wins)."""
        self._require_loaded()
        pages = {}
        for app in self.apps.values():
            for name, target in (app.admin_object_pages or {}).items():
                if isinstance(target, str):
                    module, _, attr = target.rpartition(".")
                    target = getattr(importlib.import_module(module), attr)
                pages[name] = target
        return pages

    def template_dirs(self):
        """Every app's template folder, in ``INSTALLED_APPS`` order."""
        self._require_loaded()
        return [d for d in (app.get_template_dir() for app in self.apps.values()) if d]

    def locale_dirs(self):
        """Every app's catalogs folder, in ``INSTALLED_APPS`` order (``core.i18n``)."""
        self._require_loaded()
        return [d for d in (app.get_locale_dir() for app in self.apps.values()) if d]

    def command_modules(self):
        """``[(app, module)]`` for apps that ship management commands."""
        self._require_loaded()
        found = []
        for app in self.apps.values():
            module = app.get_commands_module()
            if module is not None:
                found.append((app, module))
        return found

    # -- database --------------------------------------------------------------------------
    def bind(self, db):
        """Make ``db`` the database every model uses (``core.models.bind``)."""
        from core.models import bind
        bind(db)

    async def ensure_indexes(self):
        """Create every model's declared indexes; returns ``{key: [index names]}``."""
        self._require_loaded()
        created = {}
        for key, model in self.models.items():
            names = await model.ensure_indexes()
            created[key] = list(names or [])
        return created

    async def missing_indexes(self, db):
        """``{key: [declared index names absent from db]}`` for models missing any."""
        self._require_loaded()
        missing = {}
        for key, model in self.models.items():
            declared = [index.name for index in getattr(model._meta, "indexes", None) or []]
            if not declared:
                continue
            existing = await db[model._meta.collection].index_information()
            absent = [name for name in declared if name not in existing]
            if absent:
                missing[key] = absent
        return missing
