"""``RequestContext``: what every ``ModelAdmin`` hook receives as ``handler``.

A hook (``may``, ``has_object_permission``, ``get_base_filter``, ``save_model``,
``before_save``, a bulk action, a ``ChangeList`` step...) may read, and only read:

=================== =================================================================
``current_user``    the user document (``None``: anonymous)
``permissions``     their ``core.permissions.Permissions``, computed once per request
``session``         their session (``None`` for a bearer token or outside a request)
``db``              the database the request works on
``registry``        the app registry (installed apps and models)
=================== =================================================================

Admin pages and API handlers are request contexts (``core.handlers.BaseHandler`` has
all five); a live socket re-checks with a ``Context`` snapshot of its handler (a
socket outlives its request); code outside any request — a command, a test, a
script — builds a ``Context`` itself::

    ctx = Context(current_user=alice, permissions=await alice.get_permissions(registry),
                  db=db, registry=registry)
    admin.may(ctx, "read")

``isinstance(obj, RequestContext)`` tells whether ``obj`` offers the five names.
"""
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = ["Context", "RequestContext"]


@runtime_checkable
class RequestContext(Protocol):
    """Who is asking, and where: the five names a ``ModelAdmin`` hook may read."""

    current_user: Any
    permissions: Any
    session: Any
    db: Any
    registry: Any


@dataclass
class Context:
    """A ``RequestContext`` made by hand (commands, live sockets, tests, scripts).

    ``extra`` holds anything else a project's hooks need (``ctx.extra["tenant"]``).
    """

    current_user: Any = None
    permissions: Any = None
    db: Any = None
    registry: Any = None
    session: Any = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def of(cls, handler):
        """A snapshot of ``handler``'s context (its user, permissions, session now)."""
        return cls(current_user=handler.current_user, permissions=handler.permissions,
                   db=handler.db, registry=handler.registry, session=handler.session)
