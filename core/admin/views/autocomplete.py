"""``/admin/<app>/<model>/autocomplete/?q=&cursor=``: readable objects of one model by text,
as JSON, for reference pickers (``ModelAdmin.autocomplete_fields``) and reference filters.

It needs ``read`` on *this* model (the target of the reference being picked), searches
its admin's ``search_fields`` (``core.admin.search``), stays within its row scope
(``ModelAdmin.scoped``) and object rule, and pages by ``_id``: the answer is
``{"results": [{"id", "label"}], "next": cursor or null}``. Labels are of readable
objects only; nothing else is ever named.
"""
import json

from bson import ObjectId

from core.handlers.base import HTTPError

from ..filters import BadListArguments
from ..search import MAX_SEARCH_LENGTH, readable_matches
from .request import ModelRequestHandler

__all__ = ["AutocompleteHandler", "AUTOCOMPLETE_PAGE"]

#: how many objects one answer names
AUTOCOMPLETE_PAGE = 20
ARGUMENTS = ("q", "cursor")


class AutocompleteHandler(ModelRequestHandler):
    """GET only; errors and the 401 for anonymous users are JSON."""

    action = "read"

    def wants_json(self):
        return True

    def arguments(self):
        """``(q, after)`` from the query; unknown arguments and a bad cursor are a 400."""
        unknown = sorted(name for name in self.request.query_arguments if name not in ARGUMENTS)
        if unknown:
            raise HTTPError(400, self.gettext("Unknown query argument %(name)r; autocomplete "
                                              "takes q and cursor.") % {"name": unknown[0][:100]})
        q = self.get_query_argument("q", "").strip()[:MAX_SEARCH_LENGTH]
        raw = self.get_query_argument("cursor", "")
        if raw and not (len(raw) == 24 and ObjectId.is_valid(raw)):
            raise HTTPError(400, self.gettext("The cursor is not valid; start again without it."))
        return q, ObjectId(raw) if raw else None

    async def get(self):
        q, after = self.arguments()
        try:
            found, more = await readable_matches(self, self.model, q, limit=AUTOCOMPLETE_PAGE,
                                                 after=after)
        except BadListArguments as exc:        # too many matches through a reference
            raise HTTPError(400, str(exc)) from None
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps({
            "results": [{"id": str(obj.id), "label": self.label_for(obj)} for obj in found],
            "next": str(found[-1].id) if more and found else None}))
