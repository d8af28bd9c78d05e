"""The admin's URLs (docs/admin.md), one set per model of an ``AdminSite``.

=========================================== ======================== =========
``/admin/``                                 ``AdminIndexHandler``    logged in
``/admin/<app>/<model>/``                   ``ListHandler``          read (POST: the action's)
``/admin/<app>/<model>/add/``               ``CreateHandler``        write
``/admin/<app>/<model>/autocomplete/``      ``AutocompleteHandler``  read (JSON)
``/admin/<app>/<model>/export/``            ``ExportHandler``        export and read
``/admin/<app>/<model>/import/``            ``ImportHandler``        write
``/admin/<app>/<model>/<id>/``              ``DetailHandler``        read
``/admin/<app>/<model>/<id>/change/``       ``UpdateHandler``        write
``/admin/<app>/<model>/<id>/delete/``       ``DeleteHandler``        delete
``/admin/<app>/<model>/<id>/file/<field>/`` ``FileDownloadHandler``  read (models with files)
``/admin/<app>/<model>/<id>/<page>/``       pages installed apps add (``AdminSite.object_page``):
                                            ``history`` by ``core.audit`` when installed
=========================================== ======================== =========

A ``ModelAdmin`` swaps any of them with ``list_handler = MyList`` (and
``detail_handler``, ``create_handler``, ``update_handler``, ``delete_handler``,
``history_handler``). Handlers get ``model_admin`` and ``site`` as route kwargs.
The pages apps add (``AdminSite.register_page``, ``App.admin_pages``) are mounted at their
own paths with ``site`` as a route kwarg. URLs that name no registered model fall
through to the 404 handler.
"""
import re

from tornado.web import URLSpec

from core.models.files import FileField

from . import handlers
from .views.files import FileDownloadHandler

OBJECT_ID = r"([^/]+)"


def model_routes(model_admin, site):
    """The URL specs of one model's pages."""
    prefix = re.escape(model_admin.url_prefix)
    kwargs = {"model_admin": model_admin, "site": site}
    name = model_admin.key.replace(".", "_")
    pages = [
        ("", model_admin.list_handler or handlers.ListHandler, "list"),
        ("add/", model_admin.create_handler or handlers.CreateHandler, "add"),
        ("autocomplete/", handlers.AutocompleteHandler, "autocomplete"),
        ("export/", model_admin.export_handler or handlers.ExportHandler, "export"),
        ("import/", model_admin.import_handler or handlers.ImportHandler, "import"),
        (f"{OBJECT_ID}/", model_admin.detail_handler or handlers.DetailHandler, "detail"),
        (f"{OBJECT_ID}/change/", model_admin.update_handler or handlers.UpdateHandler,
         "change"),
        (f"{OBJECT_ID}/delete/", model_admin.delete_handler or handlers.DeleteHandler,
         "delete"),
    ]
    if any(isinstance(field, FileField) for field in model_admin.opts.fields.values()):
        pages.append((f"{OBJECT_ID}/file/([A-Za-z_][A-Za-z0-9_]*)/",
                      model_admin.file_handler or FileDownloadHandler, "file"))
    names = set(site.object_pages) if site is not None else set()
    names |= {"history"} if model_admin.history_handler else set()
    for page in sorted(names):
        handler = site.object_page(model_admin, page) if site is not None \
            else getattr(model_admin, f"{page}_handler", None)
        if handler is not None:
            pages.append((f"{OBJECT_ID}/{page}/", handler, page))
    return [URLSpec(prefix + suffix + "$", handler, kwargs, name=f"admin_{name}_{page}")
            for suffix, handler, page in pages]


def admin_routes(site):
    """``/admin/`` plus every model's pages, for ``core.app.make_app``."""
    routes = [URLSpec(r"/admin/$", handlers.AdminIndexHandler, {"site": site},
                      name="admin_index")]
    for model_admin in site.admins.values():
        routes.extend(model_routes(model_admin, site))
    routes.extend(URLSpec(page.path + "$", page.handler, {"site": site}, name=page.name)
                  for page in site.pages)
    return routes
