"""The admin's generic handlers: index, list, detail, add, change, delete.

Each handler serves one page for one model (the route gives it the model's
``ModelAdmin`` as ``self.model_admin``) and declares the permission ``action``
it needs. ``AdminHandler.prepare`` enforces, before any database work:

1. a logged-in user (else a redirect to the login page, or 401 for JSON);
2. ``model_admin.may(self, self.required_action())`` (else the 403 page).

Handlers that work on one object then load it (a malformed or unknown id is a
404) and check the object rule with ``may(self, action, obj)`` (else 403).

Every write goes through ``ModelAdmin.save_model`` / ``delete_model`` inside
``self.audited(...)`` (the object and its audit entry together). Messages for the
next page ("flashes") travel in a signed cookie (``flash`` / ``get_flashes``).

The pages live in ``core.admin.views`` by kind — ``base`` (``AdminHandler``, the
index, ``ModelHandler``), ``list``, ``object`` (``ObjectHandler``, detail), ``edit``
(add/change), ``delete``, and ``display`` (``Cell``, formatting); this module is
where apps import them from. Swap one page for one model with a subclass::

    class ArticleDetail(DetailHandler):
        def object_links(self, obj):             # any small hook
            ...

    class ArticleAdmin(ModelAdmin):
        detail_handler = ArticleDetail
"""
from .views.autocomplete import AutocompleteHandler  # noqa: F401
from .views.base import (FLASH_COOKIE, HIDDEN_LABEL, AdminHandler,  # noqa: F401
                         AdminIndexHandler, ModelHandler)
from .views.delete import DeleteHandler  # noqa: F401
from .views.display import Cell, format_datetime, format_value, is_hidden  # noqa: F401
from .views.edit import CreateHandler, FormHandler, UpdateHandler  # noqa: F401
from .views.list import ListHandler  # noqa: F401
from .views.object import DetailHandler, ObjectHandler  # noqa: F401
from .views.transfer import ExportHandler, ImportHandler  # noqa: F401

__all__ = [
    "AdminHandler", "AdminIndexHandler", "AutocompleteHandler", "Cell", "CreateHandler",
    "DeleteHandler", "DetailHandler", "ExportHandler", "FormHandler", "ImportHandler",
    "ListHandler", "ModelHandler", "ObjectHandler", "UpdateHandler", "format_value",
]
