"""Scope filters: the query a named scope (``"own"``) stands for, and the same test in Python.

A ``ModelAdmin`` declares scopes by name (``scopes = {"own": lambda ctx: {"author":
ctx.current_user.id}}``). A scoped grant (``"write:own"``) reaches the objects the
scope's filter matches. Lists and counts add the filter to their query
(``ModelAdmin.scoped``); a check on one object already loaded (detail, change,
delete, each object of a bulk action, an API object, a live event) tests the object
against the same filter in Python with ``matches`` — no second query, and the same
answer for an object about to be saved (creating outside one's scope is refused).

A scope filter may use only what ``matches`` understands (``SCOPE_OPERATORS``):
field equality (a list field matches when it holds the value), ``$eq``, ``$ne``,
``$in``, ``$nin``, ``$exists``, and ``$and`` / ``$or`` of such filters. Anything else
raises ``ValueError`` when the filter is built, so a scope never silently matches
more in a query than in Python.
"""
from collections.abc import Mapping

__all__ = ["NOTHING", "SCOPE_OPERATORS", "matches"]

#: a filter no document matches (a user with no reach at all)
NOTHING = {"_id": {"$in": []}}

_MISSING = object()


def _values(doc, path):
    """The value at a dotted ``path`` of ``doc``, or ``_MISSING``."""
    value = doc
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _equal(value, wanted):
    if isinstance(value, list) and not isinstance(wanted, list):
        return wanted in value
    return value == wanted


def _eq(value, arg):
    return value is not _MISSING and _equal(value, arg)


def _ne(value, arg):
    return not _eq(value, arg)


def _in(value, arg):
    _need_list("$in", arg)
    return value is not _MISSING and any(_equal(value, item) for item in arg)


def _nin(value, arg):
    _need_list("$nin", arg)
    return not _in(value, arg)


def _exists(value, arg):
    return (value is not _MISSING) == bool(arg)


def _need_list(name, arg):
    if not isinstance(arg, (list, tuple)):
        raise ValueError(f"{name} needs a list in a scope filter")


#: operator → test(value, argument); every operator a scope filter may use
SCOPE_OPERATORS = {"$eq": _eq, "$ne": _ne, "$in": _in, "$nin": _nin, "$exists": _exists}


def matches(flt, doc):
    """Does the stored document ``doc`` (a dict, ``_id`` included) match ``flt``?

    Raises ``ValueError`` for an operator scope filters may not use.
    """
    if not isinstance(flt, Mapping):
        raise ValueError(f"a scope filter must be a dict, not {type(flt).__name__}")
    for key, wanted in flt.items():
        if key in ("$and", "$or"):
            if not isinstance(wanted, (list, tuple)) or not wanted:
                raise ValueError(f"{key} needs a non-empty list in a scope filter")
            results = [matches(part, doc) for part in wanted]
            if not (all(results) if key == "$and" else any(results)):
                return False
            continue
        if key.startswith("$"):
            raise ValueError(f"a scope filter may not use {key}")
        value = _values(doc, key)
        if isinstance(wanted, Mapping) and any(str(k).startswith("$") for k in wanted):
            for op, arg in wanted.items():
                test = SCOPE_OPERATORS.get(op)
                if test is None:
                    raise ValueError(f"a scope filter may not use {op} (it may use "
                                     f"{', '.join(SCOPE_OPERATORS)}, $and, $or)")
                if not test(value, arg):
                    return False
        elif not _eq(value, wanted):
            return False
    return True
