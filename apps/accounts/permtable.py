"""Who may do what, and why: the rows ``whocan``, ``permmatrix`` and the admin's matrix page
print.

Every row comes from the engine (``core.permissions.Permissions.grant_table``) for one
subject — a user (their own dict and their roles') or a role (its dict alone)::

    {"kind": "user", "name": "alice", "model": "blog.article", "action": "delete",
     "reach": ["own"] or "all",
     "sources": [{"source": "role:authors", "scope": "own", "until": None}]}

so an export says exactly what the engine enforces. Inactive users may do nothing
and have no rows; a superuser's rows are every action of every model, sourced
``superuser``.
"""
import csv
import io

from core.permissions import Permissions, source_label

from .models import Role, User

__all__ = ["COLUMNS", "load_subjects", "matrix_rows", "reach_text", "rows_as", "sources_text"]

#: the columns of the CSV export and of the matrix page, in order
COLUMNS = ("kind", "name", "model", "action", "reach", "sources")


async def load_subjects(registry, *, db=None, users=True, roles=True, now=None, limit=0):
    """``[(kind, name, Permissions)]``: every user (by username), then every role (by
    name), each with the engine's answer at ``now``; ``limit`` caps each kind (0: all)."""
    role_docs = await Role.find({}, sort=["name"], limit=limit, db=db).to_list(None)
    loaded = {role.name: role.permissions for role in role_docs}
    subjects = []
    if users:
        for user in await User.find({}, sort=["username"], limit=limit, db=db).to_list(None):
            wanted = {name: loaded[name] for name in (user.roles or []) if name in loaded}
            missing = [name for name in (user.roles or []) if name not in loaded]
            if missing:          # roles beyond ``limit`` still count for their holders
                wanted.update(await Role.load(missing, db=db))
            subjects.append(("user", user.username,
                             Permissions(user, wanted, registry, now=now)))
    if roles:
        for role in role_docs:
            holder = {"username": role.name, "is_active": True, "is_superuser": False,
                      "permissions": {}, "roles": [role.name]}
            subjects.append(("role", role.name, Permissions(
                holder, {role.name: role.permissions}, registry, now=now)))
    return subjects


def matrix_rows(subjects, model=None, action=None):
    """The rows for ``subjects`` (``load_subjects``), optionally one model and action."""
    rows = []
    for kind, name, perms in subjects:
        for row in perms.grant_table():
            if (model is None or row["model"] == model) and \
                    (action is None or row["action"] == action):
                rows.append({"kind": kind, "name": name, **row})
    return rows


def reach_text(reach):
    """``"all"`` or the scope names, ``"own|team"``."""
    return reach if isinstance(reach, str) else "|".join(reach)


def sources_text(sources, translate=None):
    """``"role:authors (scope own); user (until 2026-12-31T18:00Z)"``; with ``translate``
    (a page's ``_``) in the page's language (``core.permissions.source_label``)."""
    return "; ".join(source_label(s["source"], s["scope"], s["until"], translate=translate)
                     for s in sources)


def rows_as(rows, fmt):
    """The rows as ``csv``, ``json`` (a list) or ``md`` (a table) text."""
    if fmt == "json":
        import json
        return json.dumps(rows, indent=2)
    flat = [[row["kind"], row["name"], row["model"], row["action"], reach_text(row["reach"]),
             sources_text(row["sources"])] for row in rows]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(flat)
        return out.getvalue().rstrip("\n")
    if fmt == "md":
        lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
                  for row in flat]
        return "\n".join(lines)
    raise ValueError(f"unknown format {fmt!r} (csv, json or md)")
