"""Projections applied in Python (the embedded store, and servers without them)."""
import copy


def project(doc, mode, paths, include_id):
    """Apply a normalized projection (see ``subset.normalize_projection``)."""
    if mode is None:
        return doc
    if mode == "include":
        out = {}
        if include_id and "_id" in doc:
            out["_id"] = doc["_id"]
        for path in paths:
            _copy_path(doc, out, path.split("."))
        return out
    out = copy.deepcopy(doc)
    if not include_id:
        out.pop("_id", None)
    for path in paths:
        _drop_path(out, path.split("."))
    return out


def _copy_path(source, target, segments):
    head, rest = segments[0], segments[1:]
    if head not in source:
        return
    value = source[head]
    if not rest:
        target[head] = copy.deepcopy(value)
    elif isinstance(value, dict):
        _copy_path(value, target.setdefault(head, {}), rest)
    elif isinstance(value, list):
        items = target.setdefault(head, [{} for item in value if isinstance(item, dict)])
        for item, out in zip([i for i in value if isinstance(i, dict)], items):
            _copy_path(item, out, rest)


def _drop_path(target, segments):
    head, rest = segments[0], segments[1:]
    if head not in target:
        return
    if not rest:
        del target[head]
    elif isinstance(target[head], dict):
        _drop_path(target[head], rest)
    elif isinstance(target[head], list):
        for item in target[head]:
            if isinstance(item, dict):
                _drop_path(item, rest)
