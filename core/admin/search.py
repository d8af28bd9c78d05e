"""``?q=``: what ``search_fields`` match, and finding readable objects by text.

Each entry of ``search_fields`` is a path with an optional lookup prefix:

=================== ==================================================================
``"title"``         contains the word, case-insensitively (the default)
``"^title"``        starts with the word, case-insensitively (an index can serve it)
``"=sku"``          equals the word exactly (an index serves it)
``"author__name"``  through a reference: one query on the target model (within the
                    user's ``read`` grant and its row scope), then
                    ``{"author": {"$in": ids}}``; a target the user may not read, or
                    a field of it hidden from the user (``-read:name``), matches
                    nothing; more than ``MAX_REFERENCE_MATCHES`` targets for one word
                    is a 400 asking for more specific words (``core.admin.related``),
                    never a list cut short
``"meta.sku"``      a path into a sub-document
=================== ==================================================================

The query splits into words; ``"quoted phrases"`` stay one word. Every word must
match some search field. The clause for "contains" is always
``{"$regex": re.escape(word), "$options": "i"}``: the embedded store serves that
shape from its full-text index.
"""
import re

from .related import MAX_REFERENCE_MATCHES, readable_ids

__all__ = ["MAX_REFERENCE_MATCHES", "MAX_SEARCH_LENGTH", "MAX_SEARCH_WORDS", "build_search",
           "readable_matches", "split_words"]

MAX_SEARCH_LENGTH = 200
MAX_SEARCH_WORDS = 10
_WORD = re.compile(r'"([^"]*)"|(\S+)')


def split_words(q):
    """The words of a search: ``'"big cat" dog'`` → ``["big cat", "dog"]``."""
    words = []
    for phrase, word in _WORD.findall(q or ""):
        text = (phrase if phrase else word).strip().strip('"')
        if text:
            words.append(text)
    return words[:MAX_SEARCH_WORDS]


def lookup(entry):
    """``(kind, path)`` for one ``search_fields`` entry: ``"^title"`` → ``("prefix",
    "title")``; kinds are ``contains``, ``prefix`` and ``exact``."""
    if entry.startswith("^"):
        return "prefix", entry[1:]
    if entry.startswith("="):
        return "exact", entry[1:]
    return "contains", entry


def condition(kind, word):
    """The store condition a word sets on one path."""
    if kind == "exact":
        return word
    if kind == "prefix":
        return {"$regex": "^" + re.escape(word), "$options": "i"}
    return {"$regex": re.escape(word), "$options": "i"}


def _site_admin(model_admin, model):
    site = getattr(model_admin, "site", None)
    return site.get(model._meta.key) if site is not None else None


async def path_clause(model_admin, ctx, path, cond, word=""):
    """The clause matching ``cond`` at ``path`` of ``model_admin``'s model, following
    ``__`` through references (``None``: it can match nothing for this user); ``word``
    names the search in the 400 for too many matches through a reference."""
    head, sep, rest = path.partition("__")
    if not sep:
        return {path: cond}
    from core.models import fields as model_fields
    field = model_admin.opts.fields.get(head)
    if not isinstance(field, model_fields.ReferenceField):
        return {path.replace("__", "."): cond}
    try:
        target = field.target
    except LookupError:
        return None
    target_admin = _site_admin(model_admin, target)
    if target_admin is None or not target_admin.may(ctx, "read"):
        return None
    if not target_admin.visible(ctx, [rest.partition("__")[0]]):
        return None                  # a field hidden from the user: a match would reveal it
    inner = await path_clause(target_admin, ctx, rest, cond, word)
    if inner is None:
        return None
    ids = await readable_ids(ctx, target_admin, inner, f"“{word}”")
    return {head: {"$in": ids}} if ids else None


async def build_search(model_admin, ctx, q, entries=None):
    """The store filter for search ``q`` over ``entries`` (default: the admin's
    ``get_search_fields``), or ``None`` when there is nothing to search."""
    entries = model_admin.get_search_fields(ctx) if entries is None else entries
    words = split_words(q)
    if not words or not entries:
        return None
    clauses = []
    for word in words:
        alternatives = []
        for entry in entries:
            kind, path = lookup(entry)
            clause = await path_clause(model_admin, ctx, path, condition(kind, word), word)
            if clause is not None:
                alternatives.append(clause)
        if not alternatives:
            return {"_id": {"$in": []}}                  # this word matches nothing
        clauses.append(alternatives[0] if len(alternatives) == 1 else {"$or": alternatives})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


async def readable_matches(ctx, model, q, *, limit, after=None):
    """``(objects, more)``: up to ``limit`` objects of ``model`` the user may read (the
    grant, the row scope and the object rule) matching ``q`` through the model admin's
    search fields, in the admin's order of ``_id`` after ``after`` (an ``ObjectId``
    cursor); ``more`` says whether another page exists. Without ``read``: ``([], False)``.
    ``BadListArguments`` when a word matches too many objects through a reference.
    """
    admin = ctx.admin_for(model) if hasattr(ctx, "admin_for") else None
    if admin is None or not admin.may(ctx, "read"):
        return [], False
    flt = await build_search(admin, ctx, q) if q else None
    clauses = [c for c in (flt, {"_id": {"$gt": after}} if after is not None else None) if c]
    flt = {"$and": clauses} if len(clauses) > 1 else (clauses[0] if clauses else None)
    found = await model.find(admin.scoped(ctx, flt), [("_id", 1)], limit=limit + 1,
                             db=ctx.db).to_list(None)
    more = len(found) > limit
    return [obj for obj in found[:limit] if admin.may(ctx, "read", obj)], more
