"""Document-level work the embedded store does in Python: update operators
and the seed document of an upsert. Inputs were validated by
``core.db.subset``; errors MongoDB raises while applying an update are raised
here as the same ``pymongo.errors.WriteError`` codes.
"""
import copy
import math

from ..errors import WriteError
from ..subset import INT64_MAX, INT64_MIN, is_operator_doc
from .codec import canonical


def _parent(doc, path, create):
    """The dict holding the last segment of ``path`` (or None when absent)."""
    *heads, last = path.split(".")
    node = doc
    for i, segment in enumerate(heads):
        child = node.get(segment)
        if child is None and segment not in node:
            if not create:
                return None, last
            child = node[segment] = {}
        if not isinstance(child, dict):
            if not create:
                return None, last
            where = ".".join(heads[: i + 1])
            raise WriteError(f"Cannot create field {last!r} in element {{{where}: ...}}", 28)
        node = child
    return node, last


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _checked_sum(current, arg, path):
    """``current + arg`` as MongoDB's ``$inc`` computes it: an int64 overflow is an error
    (code 2, BadValue), as is a float result too big to be finite (outside the subset)."""
    total = current + arg
    if isinstance(total, int) and not INT64_MIN <= total <= INT64_MAX:
        raise WriteError(f"Failed to apply $inc operations to current value ({current}) "
                         f"at {path!r}: the result overflows a 64-bit integer", 2)
    if isinstance(total, float) and not math.isfinite(total):
        raise WriteError(f"Failed to apply $inc operations to current value ({current}) "
                         f"at {path!r}: the result is not a finite number", 2)
    return total


def apply_update(doc, update, inserting=False):
    """Apply ``update`` to ``doc`` in place; return True when it changed."""
    before = copy.deepcopy(doc)
    for op, fields in update.items():
        if op == "$setOnInsert" and not inserting:
            continue
        for path, arg in fields.items():
            if op == "$unset":
                parent, last = _parent(doc, path, create=False)
                if parent is not None:
                    parent.pop(last, None)
                continue
            parent, last = _parent(doc, path, create=True)
            current = parent.get(last)
            present = last in parent
            if op in ("$set", "$setOnInsert"):
                parent[last] = copy.deepcopy(arg)
            elif op == "$inc":
                if not present:
                    parent[last] = arg
                elif not _number(current):
                    raise WriteError(
                        f"Cannot apply $inc to a value of non-numeric type at {path!r}", 14)
                else:
                    parent[last] = _checked_sum(current, arg, path)
            elif op in ("$push", "$addToSet", "$pull"):
                if present and not isinstance(current, list):
                    raise WriteError(f"The field {path!r} must be an array for {op}", 2)
                items = current if present else []
                if op == "$push":
                    parent[last] = items + [copy.deepcopy(arg)]
                elif op == "$addToSet":
                    known = {canonical(item) for item in items}
                    parent[last] = items + ([] if canonical(arg) in known else [copy.deepcopy(arg)])
                elif present:
                    key = canonical(arg)
                    parent[last] = [item for item in items if canonical(item) != key]
    return canonical(before) != canonical(doc)


def upsert_seed(flt):
    """The document an upsert starts from: the filter's equality conditions."""
    seed = {}

    def take(conditions):
        for key, value in conditions.items():
            if key == "$and":
                for sub in value:
                    take(sub)
            elif key.startswith("$"):
                continue
            elif is_operator_doc(value):
                if "$eq" in value:
                    _set_path(seed, key, value["$eq"])
            else:
                _set_path(seed, key, value)
    take(flt)
    return seed


def _set_path(doc, path, value):
    parent, last = _parent(doc, path, create=True)
    parent[last] = copy.deepcopy(value)
