"""HTTP errors and JSON for the client: a leaf module every layer may import.

``HTTPError(status, message)`` is what handlers raise for a client's mistake (the
message is shown on the error page or as ``{"error": message}``); ``json_default``
is ``json.dumps``'s fallback for what documents hold. Nothing here imports Bastion.
"""
import datetime

import tornado.web
from bson import ObjectId

__all__ = ["HTTPError", "json_default"]


class HTTPError(tornado.web.HTTPError):
    """An HTTP error with a ``message`` meant for the client.

    ``raise HTTPError(409, "That username is taken.")`` answers 409 with that
    text on the error page or as ``{"error": "That username is taken."}``.
    (Tornado's own ``log_message`` is for the server log; a plain
    ``tornado.web.HTTPError`` shows its reason phrase, or for a 4xx its
    log message.)
    """

    def __init__(self, status_code=500, message=None, **kwargs):
        if message is not None:
            message = str(message)         # a lazy translation: in the request's language
        super().__init__(status_code, message, **kwargs)
        self.message = message


def json_default(value):
    """``json.dumps(default=...)`` for what documents hold: ObjectId, datetimes, sets (and
    lazily translated labels)."""
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if hasattr(value, "msgid"):              # a lazy translation (core.i18n.LazyString)
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
