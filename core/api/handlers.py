"""The JSON API's handlers: one model's list and one object, through its ``ModelAdmin``.

=================================== ====================== ==========================
``/api/<app>/<model>/``             ``ApiListHandler``     GET (read), POST (write)
``/api/<app>/<model>/<id>``         ``ApiObjectHandler``   GET (read), PUT/PATCH (write),
                                                           DELETE (delete)
``/api/openapi.json``               ``OpenAPIHandler``     logged in
=================================== ====================== ==========================

They share the admin pages' rules, not their HTML (``core.admin.views.request.
ModelRequestHandler``): the same ``may`` checks (model grant in ``prepare``, the object
rule on the loaded object), the same list (``core.admin.changelist.ChangeList``), the
same save and delete path (``save_object`` / ``delete_object``: the admin's hooks and
the audit entry together). A request proves who it is with ``Authorization: Bearer
<token>`` (``core.auth.tokens``; no XSRF token needed) or with the session cookie
plus the ``X-XSRFToken`` header on unsafe methods.

Every error is ``{"error": "...", "fields": {...}}`` with its status (the texts in the
request's language, like the pages; the keys and statuses never change): 400 malformed
JSON, cursor or query argument; 401; 403; 404; 405; 409 stale version or a taken
unique value; 413 a body over ``API_MAX_BODY_SIZE`` (1 MiB); 415 not JSON;
422 invalid fields.
"""
import json

from core.admin.views.request import ModelRequestHandler, ObjectLoading
from core.admin.pagination import COUNT_CAP
from core.auth.tokens import TokenStore
from core.handlers.base import HTTPError
from core.i18n import gettext
from core.models.errors import StaleObjectError, UniqueError, ValidationError
from core.permissions import PermissionDenied

from .serialization import BodyError, model_errors, parse_body, to_representation

__all__ = ["ApiError", "ApiHandler", "ApiListHandler", "ApiNotFoundHandler",
           "ApiObjectHandler", "OpenAPIHandler", "api_path"]

DEFAULT_MAX_BODY_SIZE = 1024 * 1024


class ApiError(HTTPError):
    """An API error with per-field messages: ``{"error": message, "fields": fields}``."""

    def __init__(self, status_code, message, fields=None, **extra):
        super().__init__(status_code, message)
        self.fields = fields or {}
        self.extra = extra


def api_path(model_admin, obj=None):
    """``/api/<app>/<model>/`` or, with ``obj``, ``/api/<app>/<model>/<id>``."""
    base = f"/api/{model_admin.opts.app_label}/{model_admin.opts.model_name}/"
    return base if obj is None else f"{base}{obj.id}"


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _check_text(value):
    """Refuse strings a store cannot keep (lone surrogates), in keys and values."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ApiError(400, gettext("The body holds text that is not valid "
                                            "Unicode.")) from None
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


class ApiHandler(ModelRequestHandler):
    """Base of the API handlers: token or session auth, JSON errors, body limits.

    ``auth_method`` is ``"token"`` or ``"session"`` once ``prepare`` ran; ``token``
    the token document for a Bearer request.
    """

    login_required = True
    auth_method = None
    token = None
    allowed_methods = ()

    def wants_json(self):
        return True

    # -- authentication ----------------------------------------------------------------------
    def authorization(self):
        return self.request.headers.get("Authorization")

    def check_xsrf_cookie(self):
        """Called by Tornado before ``prepare`` for unsafe methods.

        A request carrying ``Authorization`` is authenticated by it alone (no cookie is
        looked at), so it needs no XSRF token; nor does one without a session cookie
        (it is anonymous: ``prepare`` answers 401). A session-authenticated request
        must send the ``_xsrf`` cookie's value in ``X-XSRFToken``.
        """
        if self.authorization() is not None:
            return None
        from core.auth.mixins import SESSION_COOKIE
        if self.get_cookie(SESSION_COOKIE) is None:
            return None
        return super().check_xsrf_cookie()

    async def load_current_user(self):
        """The Bearer token's user (401 when the token is bad), else the session's."""
        header = self.authorization()
        if header is None:
            user = await super().load_current_user()
            self.auth_method = "session" if user is not None else None
            return user
        scheme, _, raw = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise ApiError(401, self.gettext("Use 'Authorization: Bearer <token>'."))
        doc = await TokenStore(self.db).authenticate(raw.strip())
        if doc is None:
            raise ApiError(401, self.gettext("The token is not valid: unknown, revoked or "
                                             "expired."))
        user_model = self.get_user_model()
        user = await user_model.get(doc.get("user_id"), db=self.db) if user_model else None
        if user is None or not getattr(user, "is_active", False):
            raise ApiError(401, self.gettext("The token's user is inactive or gone."))
        self.auth_method, self.token = "token", doc
        return user

    # -- the request -------------------------------------------------------------------------
    def max_body_size(self):
        return int(self.settings.get("API_MAX_BODY_SIZE") or DEFAULT_MAX_BODY_SIZE)

    def resolve_model_admin(self):
        """Called first in ``prepare``: the ``ModelAdmin`` the URL names (404 if none)."""

    async def prepare(self):
        """Body size (413), the model (404), the user (401), the model grant (403)."""
        limit = self.max_body_size()
        length = self.request.headers.get("Content-Length")
        if (length is not None and length.strip().isdigit() and int(length) > limit) or \
                len(self.request.body or b"") > limit:
            raise ApiError(413, self.gettext("The body is larger than %(limit)s bytes.") % {
                "limit": limit})
        self.resolve_model_admin()
        await super().prepare()

    def required_action(self):
        return None

    def json_body(self):
        """The request body as a JSON object (415 not JSON, 400 malformed)."""
        media = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not (media == "application/json" or
                (media.startswith("application/") and media.endswith("+json"))):
            raise ApiError(415, self.gettext("Send the body as application/json."))
        try:
            data = json.loads((self.request.body or b"").decode("utf-8"),
                              parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise ApiError(400, self.gettext("The body is not valid JSON: %(reason)s") % {
                "reason": str(exc)[:200]}) from None
        if not isinstance(data, dict):
            raise ApiError(400, self.gettext("The body must be a JSON object."))
        _check_text(data)
        return data

    def respond(self, data, status=200):
        self.write_json(data, status=status)

    def method_not_allowed(self, *args, **kwargs):
        raise ApiError(405, self.gettext("%(method)s is not allowed here; use %(allowed)s.") % {
            "method": self.request.method, "allowed": ", ".join(self.allowed_methods)})

    # -- errors ------------------------------------------------------------------------------
    def write_error(self, status_code, **kwargs):
        exc_info = kwargs.get("exc_info")
        exception = exc_info[1] if exc_info else None
        if status_code == 401:
            self.set_header("WWW-Authenticate", 'Bearer realm="api"')
        if status_code == 405 and self.allowed_methods:
            self.set_header("Allow", ", ".join(self.allowed_methods))
        if status_code >= 500:
            return super().write_error(status_code, **kwargs)
        body = {"error": self.get_error_message(status_code, exception),
                "fields": dict(getattr(exception, "fields", None) or {})}
        body.update(getattr(exception, "extra", None) or {})
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(body))

    # -- writing -----------------------------------------------------------------------------
    async def check_references(self, values):
        """422 unless every reference in ``values`` names an object the user may read
        (one they may not read is answered as if it did not exist)."""
        errors = {}
        for name, field in self.opts.fields.items():
            value = values.get(name)
            if value is None or not hasattr(field, "target"):
                continue
            try:
                target = field.target
            except LookupError:
                continue
            if not await self.readable_objects(target, {"_id": value}, limit=1):
                errors[name] = self.gettext("No %(name)s with id %(id)s.") % {
                    "name": target._meta.verbose_name, "id": repr(str(value))}
        if errors:
            raise ApiError(422, self.gettext("The body names objects that do not exist."),
                           errors)

    def parse(self, body, obj=None, partial=False):
        try:
            return parse_body(self.model_admin, self, body, obj, partial=partial)
        except BodyError as exc:
            raise ApiError(exc.status, exc.message, exc.fields) from None

    async def save(self, obj, change, before=None):
        """``save_model`` and its audit entry, together, with the API's answers: 409 stale
        or taken, 422 invalid, 403 refused by the admin's rules."""
        try:
            await self.save_object(obj, None, change, before)
        except StaleObjectError as exc:
            raise ApiError(409, self.gettext("The object was changed by someone else; nothing "
                                             "was saved. Reload it and try again."),
                           version=exc.current_version) from None
        except UniqueError as exc:
            message, fields = model_errors(exc)
            raise ApiError(409, message if not fields else next(iter(fields.values())),
                           fields) from None
        except ValidationError as exc:
            message, fields = model_errors(exc)
            raise ApiError(422, message, fields) from None
        except PermissionDenied as exc:
            raise ApiError(403, str(exc)) from None


def _site_model_admin(handler):
    args = handler.path_args or ()
    if len(args) < 2 or handler.site is None:
        raise ApiError(404, handler.gettext("Not found."))
    admin = handler.site.for_url(args[0], args[1])
    if admin is None:
        raise ApiError(404, handler.gettext("There is no model %(model)s.") % {
            "model": f"{args[0]}.{args[1]}"})
    return admin


class ApiListHandler(ApiHandler):
    """``/api/<app>/<model>/``: GET the list page as JSON, POST a new object."""

    allowed_methods = ("GET", "POST")
    put = patch = delete = ApiHandler.method_not_allowed

    def resolve_model_admin(self):
        self.model_admin = _site_model_admin(self)

    def required_action(self):
        return {"GET": "read", "POST": "write"}.get(self.request.method)

    async def get(self, app_label, model_name):
        changelist = await self.get_changelist()
        count = changelist.count
        if not changelist.estimated and count > COUNT_CAP:
            count = f"{COUNT_CAP}+"
        page = changelist.page
        self.respond({
            "results": [to_representation(self.model_admin, obj, self)
                        for obj in page.objects],
            "next": page.next_cursor,
            "previous": page.prev_cursor,
            "count": count,
        })

    async def post(self, app_label, model_name):
        body = self.json_body()
        errors = {name: self.gettext("Set by the server.") for name in ("id", "version")
                  if body.get(name) is not None}
        values = self.parse({k: v for k, v in body.items() if k not in errors})
        if errors:
            raise ApiError(422, self.gettext("The body has invalid fields."), errors)
        await self.check_references(values)
        obj = self.model()
        obj._db = self.db
        for name, value in values.items():
            setattr(obj, name, value)
        await self.save(obj, change=False)
        self.set_header("Location", api_path(self.model_admin, obj))
        if self.may_read(obj):
            self.respond(to_representation(self.model_admin, obj, self), status=201)
        else:                                    # seeing is reading: only what names it
            self.respond({"id": str(obj.id), "version": obj.version}, status=201)


class ApiObjectHandler(ObjectLoading, ApiHandler):
    """``/api/<app>/<model>/<id>``: GET, PUT (every writable field), PATCH (some), DELETE.

    A write may name the version it saw (``"version"`` in the body or
    ``If-Match: "<version>"``); another version is 409 and nothing changes.
    """

    allowed_methods = ("GET", "PUT", "PATCH", "DELETE")
    post = ApiHandler.method_not_allowed

    def resolve_model_admin(self):
        self.model_admin = _site_model_admin(self)

    def required_action(self):
        needed = {"GET": "read", "PUT": "write", "PATCH": "write",
                  "DELETE": "delete"}.get(self.request.method)
        if needed is not None:
            self.action = needed
        self.needs_read = needed == "write"      # a write answers with the object
        return needed

    def expected_version(self, body=None):
        """The version the client saw: the body's ``version``, else ``If-Match``; or None."""
        if body is not None and body.get("version") is not None:
            version = body["version"]
            if isinstance(version, bool) or not isinstance(version, int):
                raise ApiError(422, self.gettext("The body has invalid fields."), {
                    "version": self.gettext("Expected the object's version, a whole number.")})
            return version
        header = self.request.headers.get("If-Match")
        if header is None:
            return None
        text = header.strip()
        if text == "*":
            return None                          # any version (the object exists)
        if text.startswith("W/"):
            text = text[2:]
        text = text.strip('"')
        if not text.isdigit() or len(text) > 18:
            raise ApiError(400, self.gettext("If-Match takes the object's version, e.g. "
                                             "If-Match: %(example)s.") % {"example": '"3"'})
        return int(text)

    def check_version(self, obj, expected):
        if expected is not None and expected != obj.version:
            raise ApiError(409, self.gettext("The object is at version %(version)s, not "
                                             "%(expected)s: someone changed it. Reload it and "
                                             "try again.") % {"version": obj.version,
                                                              "expected": expected},
                           version=obj.version)

    def respond_object(self, obj, status=200):
        if obj.version is not None:
            self.set_header("ETag", f'"{obj.version}"')
        self.respond(to_representation(self.model_admin, obj, self), status=status)

    async def get(self, app_label, model_name, object_id):
        obj = await self.get_object(object_id)
        self.respond_object(obj)

    async def update(self, object_id, partial):
        body = self.json_body()
        obj = await self.get_object(object_id)
        if body.get("id") is not None and body["id"] != str(obj.id):
            raise ApiError(422, self.gettext("The body has invalid fields."),
                           {"id": self.gettext("Does not match the object in the URL.")})
        self.check_version(obj, self.expected_version(body))
        values = self.parse(body, obj, partial=partial)
        await self.check_references({k: v for k, v in values.items()
                                     if v != obj._data.get(k)})
        before = self.snapshot(obj)
        for name, value in values.items():
            setattr(obj, name, value)
        await self.save(obj, change=True, before=before)
        self.respond_object(obj)

    async def put(self, app_label, model_name, object_id):
        await self.update(object_id, partial=False)

    async def patch(self, app_label, model_name, object_id):
        await self.update(object_id, partial=True)

    async def delete(self, app_label, model_name, object_id):
        obj = await self.get_object(object_id)
        self.check_version(obj, self.expected_version())
        try:
            await self.delete_object(obj)
        except PermissionDenied as exc:
            raise ApiError(403, str(exc)) from None
        self.set_status(204)
        self.finish()


class OpenAPIHandler(ApiHandler):
    """``/api/openapi.json``: the operations the caller may use (``core.api.openapi``)."""

    allowed_methods = ("GET",)
    post = put = patch = delete = ApiHandler.method_not_allowed

    def get(self):
        from .openapi import build_openapi
        self.respond(build_openapi(self.site, self))


class ApiNotFoundHandler(ApiHandler):
    """Any other ``/api/`` URL: 404 JSON, whatever the method (no XSRF check)."""

    login_required = False
    load_user = False

    def check_xsrf_cookie(self):
        return None

    async def prepare(self):
        raise ApiError(404, self.gettext("Not found: the API's URLs are %(list)s and "
                                         "%(object)s.") % {"list": "/api/<app>/<model>/",
                                                           "object": "/api/<app>/<model>/<id>"})
