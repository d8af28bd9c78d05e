"""The admin: generic handlers for every installed model, declared per model.

Public API: ``ModelAdmin`` (declarative options), ``register`` (the decorator an
app's ``admin.py`` uses), ``action`` (bulk actions), ``AdminSite``, and
``SimpleListFilter`` / ``ListFilter`` (custom list filters, ``core.admin.filters``),
``format_html`` (columns returning markup with their values escaped).
"""
from .filters import ListFilter, SimpleListFilter  # noqa: F401
from .options import AdminAction, ModelAdmin, action  # noqa: F401
from .sites import AdminSite, register  # noqa: F401
from .views.display import format_html  # noqa: F401
