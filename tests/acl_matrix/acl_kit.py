"""The model ACL matrix: cells generated from the permission dicts, one pure expectation.

A cell is ``(model key, profile, endpoint)``:

* models — every installed model the matrix covers (``MODELS``), with the actions its
  ``Meta`` declares (read-only models, the audit log, allow ``read`` only, whoever asks);
* profiles — every subset of those actions as a permissions dict, plus ``superuser`` and
  ``inactive`` (holding every action, deactivated after logging in); and where the model's
  admin declares scopes (``SCOPED_PROFILES``), profiles with scoped (``write:own``,
  ``read:own``), field (``-read:body``: its marker never appears; ``-write:body``: a write
  naming it is refused, nothing changes) and expiring (``write@...Z`` until tomorrow, one
  that expired a minute ago) grants;
* endpoints — logging in, the index, the admin pages (list, detail, history, add, change,
  delete; the set-password page where the admin has one), each bulk action the model's
  admin declares, the JSON API, each OpenAPI operation, the WebSocket feed; and, where an
  object rule applies (``AUTHOR_ONLY``), the same requests on an object someone else wrote
  (``…@foreign``) — also for every endpoint a scoped profile's grant may not reach (for a
  scoped reader, its reads too: 404, or absent from lists, counts and the feed); the
  API both with a token and with the browser's session cookie
  (``…@session``) — see ``endpoints(model)``.

``expected(profile, model, endpoint)`` is the one pure function saying what the rules
(``docs/permissions.md``: "seeing is reading") answer; ``World.run(cell)`` makes the request
on a served site and checks the status, the effect (or that nothing changed) and that no
response holds a marker (``SECRET-…-7f3a``) of a model the profile may not read — pages,
403 bodies, bulk confirm pages, flashes on the next page, API bodies, WebSocket frames.
"""
import asyncio
import contextlib
import itertools
import json
import re
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from support import BLOG_APPS as APPS
from support import NEW_PASSWORD, make_settings
from support.api import Client
from support.live import LiveClient, Refused

FAST_LIVE = dict(LIVE_RECHECK_SECONDS=0.3, LIVE_FEED_INTERVAL=0.05)
WS_WAIT = 5.0            # seconds to wait for the sentinel event (it always comes)

MODELS = ("blog.article", "blog.category", "accounts.role", "accounts.user", "audit.entry")
# "The audit log is readable by whoever holds audit.entry: [read], changeable by nobody —
# not even a superuser" (core/audit/admin.py, docs/audit.md): only read is ever allowed.
READ_ONLY_MODELS = ("audit.entry",)

MARKERS = {
    "blog.article": "SECRET-ARTICLE-7f3a",
    "blog.category": "SECRET-CATEGORY-7f3a",
    "accounts.role": "SECRET-ROLE-7f3a",
    "accounts.user": "SECRET-USER-7f3a",
    "audit.entry": "SECRET-AUDIT-7f3a",
}
# a model every profile of a module reads, whose change is sent after the target's on the
# WebSocket: receiving it proves the feed delivered everything before it
SENTINELS = {
    "blog.article": "accounts.role",
    "blog.category": "accounts.role",
    "accounts.role": "blog.category",
    "accounts.user": "blog.category",
}
# object rules (the admins' has_object_permission): the actions only an object's author
# may do ("Only an article's author may delete it; superusers bypass every object rule")
AUTHOR_ONLY = {"blog.article": ("delete",)}
#: the field the ``own`` scope compares with the user (``ArticleAdmin.scopes``)
OWN_FIELD = {"blog.article": "author"}
# scoped and expiring profiles (issue 14): the name and the entries granted on the model.
# ``own`` is the scope ArticleAdmin declares (the articles whose author is the user); the
# matrix's own targets are authored by the actor, its ``@foreign`` ones by root.
# ``own-reader`` reads only its own articles (``@foreign`` reads: 404, or absent from a
# list, a count, an export, autocomplete and the feed). ``no-body`` may not see ``body``
# (its marker never appears); ``frozen-body`` may not write it (its writes rewrite ``body``:
# 422 in the API, ignored by the forms and the import, nothing changes). ``timed``'s write
# expires tomorrow (a grant) and its delete expired a minute ago (no grant).


def _stamp(minutes):
    """``now + minutes`` as a grant's expiry (``YYYY-MM-DDTHH:MMZ``)."""
    import datetime
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%MZ")


TOMORROW, A_MINUTE_AGO = _stamp(24 * 60), _stamp(-1)
SCOPED_PROFILES = {"blog.article": (
    ("authors", ("read", "write:own", "delete:own")),
    ("own-publisher", ("read", "write:own", "publish:own")),
    ("own-reader", ("read:own", "write:own", "delete:own")),
    ("no-body", ("read", "write", "-read:body")),
    ("frozen-body", ("read", "write", "-write:body")),
    ("timed", ("read", f"write@{TOMORROW}", f"delete@{A_MINUTE_AGO}")),
)}
#: a word only the ``body`` of the matrix's articles holds (``no-body`` never receives it)
FIELD_MARKERS = {("blog.article", "body"): "HIDDENBODY-7f3a"}
# the field a change (form, PATCH, PUT) rewrites, and the fields a PUT must carry
CHANGE_FIELD = {"blog.article": "title", "blog.category": "name",
                "accounts.role": "description", "accounts.user": "email"}
PUT_KEEP = {"blog.article": (), "blog.category": (), "accounts.role": ("name",),
            "accounts.user": ("username",)}
# the field a WebSocket cell's change (by the superuser, through the API) rewrites
# models whose cells' targets have an article referring to them (delete pages list it)
REFERRED_BY_ARTICLES = ("blog.category", "accounts.user")
TOUCH_FIELD = {"blog.article": "body", "blog.category": "description",
               "accounts.role": "description", "accounts.user": "email"}


# -- the plan: models, profiles, endpoints (from the installed apps) -----------------------------
@dataclass(frozen=True)
class ModelPlan:
    key: str
    actions: tuple                 # what Meta declares (what a grant may name)
    allowed: tuple                 # what anybody may ever do (read only on read-only models)
    bulk: tuple                    # ((name, permission, confirm), ...) the admin declares
    verbose_name_plural: str
    password_page: bool = False    # the admin has a set-password page (…/<id>/password/)

    @property
    def app_label(self):
        return self.key.split(".")[0]

    @property
    def model_name(self):
        return self.key.split(".")[1]


@dataclass(frozen=True)
class Profile:
    name: str
    grants: frozenset = frozenset()
    superuser: bool = False
    inactive: bool = False


_PLAN = None


def plan():
    """``{model key: ModelPlan}`` read from a registry and admin site built like the app's."""
    global _PLAN
    if _PLAN is None:
        from core.admin.options import DELETE_SELECTED
        from core.admin.sites import AdminSite
        from core.registry import Registry
        settings = make_settings(Path(tempfile.gettempdir()) / "acl-matrix-plan", APPS)
        site = AdminSite(Registry(settings).load())
        found = {}
        for key in MODELS:
            admin = site.get(key)
            if admin is None:
                continue
            actions = tuple(admin.model._meta.actions)
            bulk = []
            for name in admin.actions:
                if name == "delete_selected":
                    bulk.append((name, DELETE_SELECTED.permission, DELETE_SELECTED.confirm))
                else:
                    act = getattr(getattr(type(admin), name), "admin_action")
                    bulk.append((act.name, act.permission, act.confirm))
            allowed = ("read",) if key in READ_ONLY_MODELS else actions
            found[key] = ModelPlan(key, actions, allowed, tuple(bulk),
                                   str(admin.opts.verbose_name_plural),
                                   password_page=callable(getattr(admin, "password_url", None)))
        _PLAN = found
    return _PLAN


#: actions combined only with ``read`` (each is meaningful only with it), not with every
#: subset of the others: the matrix stays the size it was without them
PAIRED_WITH_READ = ("export",)


def profiles(model):
    """Every subset of the model's actions as a permissions dict (``export`` alone and
    with ``read`` only), then superuser, inactive."""
    out = []
    combined = [action for action in model.actions if action not in PAIRED_WITH_READ]
    for size in range(len(combined) + 1):
        for subset in itertools.combinations(combined, size):
            out.append(Profile("+".join(subset) or "nothing", frozenset(subset)))
    for name, entries in SCOPED_PROFILES.get(model.key, ()):
        out.append(Profile(name, frozenset(entries)))
    for action in PAIRED_WITH_READ:
        if action in model.actions:
            out.append(Profile(action, frozenset({action})))
            out.append(Profile(f"read+{action}", frozenset({"read", action})))
    out.append(Profile("superuser", superuser=True))
    out.append(Profile("inactive", frozenset(model.actions), inactive=True))
    return out


def field_rules(grants, kind):
    """The fields ``grants`` hide (``kind="read"``) or freeze (``"write"``); hiding
    freezes too."""
    kinds = ("read",) if kind == "read" else ("read", "write")
    return {entry.partition(":")[2] for entry in grants
            if entry.startswith("-") and entry[1:].partition(":")[0] in kinds}


def reach(grants, action):
    """How far ``grants`` (a profile's entries) reach for ``action``: ``"all"``, ``"own"``
    or ``None`` — read from the entries themselves (an expiry compared with now)."""
    import datetime
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")
    found = None
    for entry in grants:
        body, _, until = entry.partition("@")
        name, _, scope = body.partition(":")
        if name != action or (until and until <= now):
            continue
        if not scope:
            return "all"
        found = scope
    return found


#: endpoints that make a new object (its author is whoever creates it: never foreign)
CREATING = ("add:get", "add:post", "api:post", "import:get", "import:post")
OPENAPI_OPS = ("list.get", "list.post", "object.get", "object.patch", "object.put",
               "object.delete")


def endpoints(model, profile=None):
    """The endpoints of ``model``'s cells; the ``@foreign`` reads only for a ``profile``
    whose ``read`` is scoped (the others read every object alike)."""
    pages = ["login", "index", "list", "detail", "history", "add:get", "add:post",
             "change:get", "change:post", "delete:get", "delete:post", "autocomplete",
             "export", "export:selected", "import:get", "import:post"]
    if model.password_page:
        pages += ["password:get", "password:post"]
    bulk = []
    for name, _permission, confirm in model.bulk:
        if confirm:
            bulk.append(f"bulk:{name}:confirm")
        bulk.append(f"bulk:{name}:post")
    api = ["api:list", "api:detail", "api:post", "api:patch", "api:put", "api:delete"]
    openapi = [f"openapi:{op}" for op in OPENAPI_OPS]
    # the same requests on an object someone else wrote, where an object rule applies or
    # a scoped profile's grant may not reach
    narrowed = set(AUTHOR_ONLY.get(model.key, ()))
    for _name, entries in SCOPED_PROFILES.get(model.key, ()):
        narrowed |= scoped_actions(entries) - {"read"}
    if profile is not None:
        narrowed |= scoped_actions(profile.grants)
    foreign = [f"{endpoint}@foreign" for endpoint in pages + bulk + api
               if narrowed & set(needs(model, endpoint))
               and not endpoint.endswith(":confirm") and endpoint not in CREATING
               and endpoint != "index"]
    if "read" in narrowed:                  # a scoped reader: the feed of a foreign object
        foreign.append("ws@foreign")
    # the API again with the browser's session cookie and X-XSRFToken instead of a token
    session = [f"{endpoint}@session" for endpoint in api]
    return pages + bulk + api + session + foreign + openapi + ["ws"]


def scoped_actions(entries):
    """The actions ``entries`` grant with a scope (``write:own`` → ``write``)."""
    return {entry.partition("@")[0].partition(":")[0] for entry in entries
            if ":" in entry.partition("@")[0] and not entry.startswith("-")}


@dataclass(frozen=True)
class Cell:
    model: str
    profile: Profile
    endpoint: str

    @property
    def id(self):
        return f"{self.model}|{self.profile.name}|{self.endpoint}"


def cells(model_key):
    model = plan().get(model_key)
    if model is None:
        return []
    return [Cell(model_key, profile, endpoint) for profile in profiles(model)
            for endpoint in endpoints(model, profile)]


def all_cells():
    return [cell for key in MODELS for cell in cells(key)]


# -- the rules, as one pure function ----------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    status: int                    # the status the first response must have
    allowed: bool                  # the request does what it asks
    readable: bool                 # the profile may read the model (may see its data)
    login: bool = False            # the answer sends the (inactive) user to log in
    invisible: bool = False        # the target is beyond the profile's (scoped) read
    ignored: bool = False          # a form saved the object without the field it may not write


def needs(model, endpoint):
    """The actions an endpoint needs on the model (rules.md)."""
    endpoint = endpoint.partition("@")[0]
    if endpoint in ("index", "list", "detail", "history", "api:list", "api:detail", "ws",
                    "openapi:list.get", "openapi:object.get", "autocomplete"):
        return ("read",)
    if endpoint in ("export", "export:selected"):
        return ("read", "export")
    if endpoint in ("add:get", "add:post", "api:post", "openapi:list.post", "import:get",
                    "import:post"):
        return ("write",)
    if endpoint in ("change:get", "change:post", "api:patch", "api:put", "openapi:object.patch",
                    "openapi:object.put", "password:get", "password:post"):
        return ("read", "write")
    if endpoint in ("delete:get", "delete:post", "api:delete", "openapi:object.delete"):
        return ("delete",)
    if endpoint.startswith("bulk:"):
        name = endpoint.split(":")[1]
        permission = next(p for n, p, _c in model.bulk if n == name)
        return ("read", permission)
    if endpoint == "login":
        return ()
    raise ValueError(endpoint)


def is_post(endpoint):
    """Is the endpoint's request a form POST (the add/change/delete pages, bulk actions)?"""
    endpoint = endpoint.partition("@")[0]
    return endpoint.endswith((":post", ":selected")) or endpoint.startswith("bulk:")


OK_STATUS = {"api:post": 201, "api:delete": 204}
#: admin URLs answering JSON (an anonymous or inactive user gets 401, not the login page)
JSON_PAGES = ("autocomplete",)


def expected(profile, model, endpoint):
    """What the rules answer for ``profile`` on ``endpoint`` of ``model``."""
    def can(action, foreign=False):
        if action not in model.allowed or profile.inactive:
            return False
        if profile.superuser:
            return True
        how_far = reach(profile.grants, action)
        return how_far == "all" or (how_far == "own" and not foreign)

    readable = can("read")
    if endpoint == "login":
        return Outcome(303 if not profile.inactive else 200, not profile.inactive, readable)
    if profile.inactive:
        if endpoint.startswith(("api:", "openapi:")) or endpoint in JSON_PAGES:
            return Outcome(401, False, False)
        if endpoint == "ws":
            return Outcome(403, False, False)
        return Outcome(303 if is_post(endpoint) else 302, False, False, login=True)
    allowed = all(can(action) for action in needs(model, endpoint))
    base, _, variant = endpoint.partition("@")
    if variant == "foreign" and allowed and readable and not can("read", foreign=True):
        # beyond a scoped read the object does not exist for the user: absent from lists,
        # counts, exports, autocomplete and the feed; 404 by its URL; a bulk action on it
        # does nothing (and reports nothing about it)
        if base in ("list", "api:list", "export", "export:selected", "autocomplete", "ws"):
            return Outcome(200, allowed, readable, invisible=True)
        return Outcome(303 if base.startswith("bulk:") else 404, False, readable,
                       invisible=True)
    ruled = set(AUTHOR_ONLY.get(model.key, ())) & set(needs(model, base))
    beyond = not all(can(action, foreign=True) for action in needs(model, base))
    if variant == "foreign" and (ruled or beyond) and allowed and not profile.superuser:
        # the model grants it, the object rule or the grant's scope refuses it: a page or
        # the API answers 403; a bulk action skips the object and reports it (303)
        status = 303 if base.startswith("bulk:") else 403
        return Outcome(status, False, readable)
    endpoint = base
    clash = written_fields(model.key, profile, endpoint) & field_rules(profile.grants, "write")
    if allowed and clash and not profile.superuser:
        # a write naming a frozen (or hidden) field: 422 in the API; the forms ignore it
        # (it is rendered read-only) — nothing changes either way
        if endpoint == "change:post":
            return Outcome(303, False, readable, ignored=True)
        return Outcome(422, False, readable)
    if endpoint in ("index", "ws") or endpoint.startswith("openapi:"):
        return Outcome(200, allowed, readable)        # allowed: listed / delivered
    if endpoint.startswith("api:"):
        return Outcome(OK_STATUS.get(endpoint, 200) if allowed else 403, allowed, readable)
    if endpoint.endswith(":post"):
        return Outcome(303 if allowed else 403, allowed, readable)
    return Outcome(200 if allowed else 403, allowed, readable)


def add_values(key, mark):
    """The fields (and values) an add page, the API's POST and an import set."""
    if key == "blog.article":
        return {"title": mark, "body": mark}
    if key in ("blog.category", "accounts.role"):
        return {"name": mark, "description": mark}
    if key == "accounts.user":
        return {"username": mark, "email": f"{mark.lower()}@example.com",
                "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    return {"actor": mark, "action": "login"}


def change_field(key, profile):
    """The field a change (form, PATCH, PUT) rewrites: the one the profile may see but not
    write where it has one (the write must be refused), else ``CHANGE_FIELD``."""
    frozen = sorted(field_rules(profile.grants, "write") - field_rules(profile.grants, "read"))
    return frozen[0] if frozen else CHANGE_FIELD.get(key, "actor")


def written_fields(key, profile, endpoint):
    """The fields the request of a writing endpoint names (``set()`` for the others)."""
    if endpoint == "api:post":
        return {name for name in add_values(key, "x") if not name.startswith("password")}
    if endpoint in ("change:post", "api:patch", "api:put"):
        return {change_field(key, profile)}
    return set()


def cell_profile_reads(profile, key):
    """May ``profile`` (of another model's module) read ``key``? Only a superuser may."""
    return profile.superuser and not profile.inactive


def unreadable_markers(profile, module_model, plans):
    """The markers of every model this profile may not read (none for the audit reader's
    other models: reading the log shows what happened to them)."""
    out = []
    for key, marker in MARKERS.items():
        model = plans.get(key)
        if model is None:
            continue
        if module_model == "audit.entry" and key != "audit.entry":
            continue
        if key == module_model:
            readable = expected(profile, model, "list").allowed
        else:
            readable = profile.superuser and not profile.inactive
            if not readable and key == SENTINELS.get(module_model):
                readable = not profile.inactive
        if not readable:
            out.append(marker)
    if not profile.superuser:
        out += [marker for (key, name), marker in FIELD_MARKERS.items()
                if key == module_model and name in field_rules(profile.grants, "read")]
    return out


# -- HTML helpers ---------------------------------------------------------------------------
class FormParser(HTMLParser):
    """The fields a browser would post from the ``<form class="model-form">``, and every
    ``<select>``'s options ``[(value, label, selected)]``."""

    INPUTS = ("text", "hidden", "email", "number", "password", "search", "url", "date",
              "datetime-local", "time", "tel")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.inside = False
        self.pairs = []
        self.selects = {}
        self._select = None
        self._option = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "model-form" in (a.get("class") or ""):
            self.inside = True
        if not self.inside or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in self.INPUTS:
                self.pairs.append((name, a.get("value") or ""))
            elif kind in ("checkbox", "radio") and "checked" in a:
                self.pairs.append((name, a.get("value") or "on"))
        elif tag == "select" and name:
            self._select = (name, "multiple" in a)
            self.selects[name] = []
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value"), "", "selected" in a]
        elif tag == "textarea" and name:
            self._textarea = [name, ""]

    def handle_data(self, data):
        if self._option is not None:
            self._option[1] += data
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "option" and self._option is not None:
            value, label, selected = self._option
            label = label.strip()
            value = label if value is None else value
            self.selects[self._select[0]].append((value, label, selected))
            if selected:
                self.pairs.append((self._select[0], value))
            self._option = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = self._textarea[1]       # a browser drops one leading newline
            text = text[2:] if text.startswith("\r\n") else \
                text[1:] if text.startswith("\n") else text
            self.pairs.append((self._textarea[0], text))
            self._textarea = None


def parse_form(text):
    parser = FormParser()
    parser.feed(text)
    return parser


def with_values(pairs, values):
    """``pairs`` without ``_xsrf``, each name in ``values`` set to its one value."""
    out = [(k, v) for k, v in pairs if k != "_xsrf" and k not in values]
    out.extend(values.items())
    return out


def find_marker(text, markers):
    """``(marker, context)`` of the first marker in ``text`` (case-insensitive), or None."""
    lower = text.lower()
    for marker in markers:
        at = lower.find(marker.lower())
        if at >= 0:
            return marker, text[max(0, at - 100):at + 60].replace("\n", " ")
    return None


def flashes_of(text):
    """The text of the page's flash messages ('' if none)."""
    found = re.search(r'<ul class="messages"[^>]*>(.*?)</ul>', text, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip() if found else ""


def shown(response):
    text = getattr(response, "text", "") or ""
    return f"{getattr(response, 'code', '?')} {getattr(response, 'location', '') or ''} " \
           f"{_summary(text)}"


def _summary(text):
    """The page's message (h1 / error / flash), else the start of the body."""
    for pattern in (r'"error":\s*"([^"]*)"', r"<h1[^>]*>(.*?)</h1>",
                    r'<ul class="messages"[^>]*>(.*?)</ul>'):
        found = re.search(pattern, text, re.S)
        if found:
            return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()[:200]
    return re.sub(r"\s+", " ", text)[:200]


# -- the served world ------------------------------------------------------------------------
@contextlib.contextmanager
def hidden_by_name(admin_class, name, scoped, ruled):
    """While inside: ``admin_class``'s row scope leaves the object named ``name`` out for
    the users named in ``scoped``, and its object rule refuses them reading it for those
    in ``ruled`` (the target model's rules a reference must respect)."""
    original_filter = admin_class.get_base_filter
    original_rule = admin_class.has_object_permission

    def username_of(handler):
        return getattr(getattr(handler, "current_user", None), "username", None)

    def get_base_filter(self, handler):
        if username_of(handler) in scoped:
            return {"name": {"$ne": name}}
        return original_filter(self, handler)

    def has_object_permission(self, handler, action, obj):
        if action == "read" and username_of(handler) in ruled and \
                getattr(obj, "name", None) == name:
            return False
        return original_rule(self, handler, action, obj)

    admin_class.get_base_filter = get_base_filter
    admin_class.has_object_permission = has_object_permission
    try:
        yield
    finally:
        admin_class.get_base_filter = original_filter
        admin_class.has_object_permission = original_rule


@dataclass
class Actor:
    profile: Profile
    user: object
    browser: object
    api: Client


@dataclass
class World:
    """One served site for one model's cells: users created once, objects per cell."""

    model: ModelPlan
    site: object
    root: Actor
    actors: dict
    fixed: dict = field(default_factory=dict)
    variant: str = ""
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def db(self):
        return self.site.db

    def klass(self, key=None):
        return self.site.model(key or self.model.key)

    # -- setup -----------------------------------------------------------------------------
    @classmethod
    async def start(cls, servers, tmp_path, model_key):
        settings = make_settings(tmp_path, APPS, **FAST_LIVE)
        site = await servers.serve(settings)
        model = plan()[model_key]
        root = await cls._actor(site, Profile("root", superuser=True), "acl-root")
        world = cls(model, site, root, {})
        sentinel_key = SENTINELS.get(model_key)
        for profile in profiles(model):
            perms = {}
            if profile.grants:
                perms[model_key] = sorted(profile.grants)
            if sentinel_key and not profile.superuser:
                perms[sentinel_key] = ["read"]
            username = "acl-" + re.sub(r"[^a-z]+", "-", profile.name)
            world.actors[profile.name] = await cls._actor(site, profile, username, perms)
        # the inactive profile logged in while active; now it is not (its session and
        # token are kept: an inactive user's own session or token must be refused anyway)
        inactive = world.actors["inactive"]
        await world.klass("accounts.user").get_collection(site.db).update_one(
            {"_id": inactive.user.id}, {"$set": {"is_active": False}})
        await world.setup_fixed()
        return world

    @staticmethod
    async def _actor(site, profile, username, perms=None):
        from core.auth.tokens import TokenStore
        user = await site.create_user(username, perms or {}, is_superuser=profile.superuser)
        browser = site.browser()
        response = await browser.login(username)
        assert response.code == 303, (username, response.code, response.text[:300])
        raw, _ = await TokenStore(site.db).create(user.id, name="acl")
        return Actor(profile, user, browser, Client(site, token=raw))

    async def setup_fixed(self):
        """Objects every cell of the module shares: the sentinel, the article's category."""
        db = self.db
        Category, Role = self.klass("blog.category"), self.klass("accounts.role")
        if self.model.key == "blog.article":
            self.fixed["category"] = await Category.create(
                name=MARKERS["blog.category"] + "-ref", description=MARKERS["blog.category"],
                db=db)
        sentinel = SENTINELS.get(self.model.key)
        if sentinel == "accounts.role":
            self.fixed["sentinel"] = await Role.create(name="acl-sentinel", db=db)
        elif sentinel == "blog.category":
            self.fixed["sentinel"] = await Category.create(name="acl-sentinel", db=db)

    # -- objects ---------------------------------------------------------------------------
    def marker(self, key=None):
        return f"{MARKERS[key or self.model.key]}-{next(self.counter)}"

    async def create_target(self, actor, endpoint):
        """A fresh object of the module's model with markers in its fields (and, for a
        category or user, an article referring to it: the delete pages' "referring" list)."""
        db, key, mark = self.db, self.model.key, self.marker()
        extra = []
        if key == "blog.article":
            obj = await self.klass().create(
                title=mark, body=f"{mark} body {FIELD_MARKERS[key, 'body']}",
                tags=[mark.lower()],
                category=self.fixed["category"].id, author=actor.user.id, db=db)
        elif key == "blog.category":
            obj = await self.klass().create(name=mark, description=f"{mark} text", db=db)
            extra.append(await self.klass("blog.article").create(
                title=self.marker("blog.article"), category=obj.id, db=db))
        elif key == "accounts.role":
            obj = await self.klass().create(name=mark, description=f"{mark} text",
                                            permissions={}, db=db)
        elif key == "accounts.user":
            active = not endpoint.startswith("bulk:activate")
            obj = await self.klass().create_user(mark, f"{mark.lower()}@example.com", None,
                                                 db=db, is_active=active)   # no bcrypt
            extra.append(await self.klass("blog.article").create(
                title=self.marker("blog.article"), author=obj.id, db=db))
        elif key == "audit.entry":
            from core.audit.api import record
            obj = await record(action="login", actor=mark, object_label=mark,
                               detail=f"{mark} detail", db=db)
        else:
            raise ValueError(key)
        return obj, extra

    async def raw(self, oid, key=None):
        return await self.klass(key).get_collection(self.db).find_one({"_id": oid})

    async def cleanup(self, objs):
        for obj in objs:
            with contextlib.suppress(Exception):
                await self.klass(obj._meta.key).get_collection(self.db).delete_one(
                    {"_id": obj.id})

    def admin_url(self, obj=None, suffix=""):
        base = f"/admin/{self.model.app_label}/{self.model.model_name}/"
        return base if obj is None else f"{base}{obj.id}/{suffix}"

    def api_url(self, obj=None):
        base = f"/api/{self.model.app_label}/{self.model.model_name}/"
        return base if obj is None else f"{base}{obj.id}"

    # -- one cell --------------------------------------------------------------------------
    async def run(self, cell):
        """Run one cell; its failed expectations (``[]`` when the cell is right)."""
        actor = self.actors[cell.profile.name]
        outcome = expected(cell.profile, self.model, cell.endpoint)
        check = Check(cell, outcome, unreadable_markers(cell.profile, self.model.key, plan()))
        created = []
        try:
            await self._run(cell, actor, outcome, check, created)
        finally:
            await self.cleanup(created)
        return check.failures()

    async def _run(self, cell, actor, outcome, check, created):
        endpoint = cell.endpoint
        if endpoint == "login":
            return await self.cell_login(actor, outcome, check)
        if endpoint == "index":
            response = await actor.browser.get("/admin/")
            check.status(response, outcome)
            if not outcome.login:
                listed = f'data-model="{self.model.key}"' in response.text
                check.that(listed == outcome.allowed,
                           f"index lists the model: {listed}, expected {outcome.allowed}")
            return
        if endpoint.startswith("openapi:"):
            return await self.cell_openapi(actor, outcome, check, endpoint.split(":")[1])
        endpoint, _, variant = endpoint.partition("@")
        author = self.root if variant == "foreign" else actor
        self.variant = variant
        target, extra = await self.create_target(author, endpoint)
        created.extend([target, *extra])
        before = await self.raw(target.id)
        if endpoint == "ws":
            return await self.cell_ws(actor, outcome, check, target)
        if endpoint.startswith("api:"):
            await self.cell_api(actor, outcome, check, target, endpoint.split(":")[1], created)
        elif endpoint.startswith("bulk:"):
            await self.cell_bulk(actor, outcome, check, target, endpoint,
                                 skipped=variant == "foreign" and outcome.status == 303
                                 and not outcome.allowed and not outcome.login
                                 and not outcome.invisible)
        else:
            await self.cell_page(actor, outcome, check, target, endpoint, created)
        after = await self.raw(target.id)
        if (not outcome.allowed and not outcome.ignored) or \
                endpoint.endswith((":get", ":confirm")) or \
                endpoint in ("list", "detail", "history", "api:list", "api:detail"):
            check.that(after == before, f"the object changed: {_delta(before, after)}")
        if before is not None and after is not None and not cell.profile.superuser:
            for name in sorted(field_rules(cell.profile.grants, "write")):
                check.that(after.get(name) == before.get(name),
                           f"the field {name} the profile may not write changed")

    async def follow(self, actor, response, check, expect_open=False):
        """Render the next page(s) (where the flash shows) and check them too."""
        pages = []
        location = response.location
        if response.code in (302, 303) and location and location.startswith("/"):
            nxt = await actor.browser.get(location)
            check.body(nxt, f"the page after the redirect ({location})")
            pages.append(nxt)
            if expect_open:
                check.that(nxt.code == 200,
                           f"the redirect after the save leads to {location}: {shown(nxt)}")
        index = await actor.browser.get("/admin/")
        check.body(index, "the next page (/admin/)")
        pages.append(index)
        return pages

    async def cell_login(self, actor, outcome, check):
        browser = self.site.browser()
        response = await browser.login(actor.user.username)
        check.status(response, outcome)
        if outcome.allowed:
            check.that((response.location or "").startswith("/admin"), shown(response))
        else:                                  # no session came of it
            index = await browser.get("/admin/")
            check.that(index.code == 302 and (index.location or "").startswith("/admin/login/"),
                       f"after a refused login /admin/ answers {shown(index)}")

    async def cell_openapi(self, actor, outcome, check, op):
        reply = await actor.api.get("/api/openapi.json")
        check.status(reply, outcome)
        if outcome.status != 200 or reply.json is None:
            return
        where, method = op.split(".")
        path = self.api_url() if where == "list" else self.api_url() + "{id}"
        ops = {m for m in reply.json.get("paths", {}).get(path, {}) if m != "parameters"}
        check.that((method in ops) == outcome.allowed,
                   f"OpenAPI {path} lists {sorted(ops)}; {method} expected: {outcome.allowed}")

    # pages -----------------------------------------------------------------------------
    async def cell_page(self, actor, outcome, check, target, endpoint, created):
        browser, key = actor.browser, self.model.key
        page, _, method = endpoint.partition(":")
        if endpoint == "list":
            response = await browser.get(self.admin_url())
        elif endpoint == "detail":
            response = await browser.get(self.admin_url(target))
        elif endpoint == "history":
            response = await browser.get(self.admin_url(target, "history/"))
        elif endpoint == "add:get":
            response = await browser.get(self.admin_url() + "add/")
        elif endpoint == "change:get":
            response = await browser.get(self.admin_url(target, "change/"))
        elif endpoint == "delete:get":
            response = await browser.get(self.admin_url(target, "delete/"))
        elif endpoint == "autocomplete":
            response = await browser.fetch(
                self.admin_url() + "autocomplete/?q=" + MARKERS[key].lower(),
                headers={"Accept": "application/json"})
            check.status(response, outcome)
            check.body(response)
            if outcome.status == 200:
                check.that((str(target.id) in response.text) != outcome.invisible,
                           "autocomplete offers the object: "
                           f"{str(target.id) in response.text}")
            return
        elif endpoint in ("export", "export:selected"):
            if endpoint == "export":            # the whole (scoped) list
                response = await browser.get(self.admin_url() + "export/?format=jsonl")
            else:                               # "Export selected": the ticked row only
                response = await browser.post(self.admin_url() + "export/", {
                    "format": "jsonl", "_selected_action": str(target.id)})
            check.status(response, outcome)
            check.body(response)
            if outcome.status == 200:
                check.that((str(target.id) in response.text) != outcome.invisible,
                           f"the export holds the object: {str(target.id) in response.text}")
            return
        elif endpoint == "import:get":
            response = await browser.get(self.admin_url() + "import/")
        elif endpoint == "import:post":
            return await self.cell_import_post(actor, outcome, check, created)
        elif endpoint == "add:post":
            return await self.cell_add_post(actor, outcome, check, created)
        elif endpoint == "change:post":
            return await self.cell_change_post(actor, outcome, check, target)
        elif endpoint == "password:get":
            response = await browser.get(self.admin_url(target, "password/"))
        elif endpoint == "password:post":
            form = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
            before = await self.raw(target.id)
            response = await browser.post(self.admin_url(target, "password/"), form)
            check.status(response, outcome)
            check.body(response)
            after = await self.raw(target.id)
            changed = (after or {}).get("password") != (before or {}).get("password")
            check.that(changed == outcome.allowed, f"the password was set: {changed}")
            await self.follow(actor, response, check)
            return
        elif endpoint == "delete:post":
            response = await browser.post(self.admin_url(target, "delete/"), {})
            check.status(response, outcome)
            check.body(response)
            gone = await self.raw(target.id) is None
            check.that(gone == outcome.allowed, f"deleted: {gone}")
            await self.follow(actor, response, check)
            return
        else:
            raise ValueError(endpoint)
        check.status(response, outcome)
        check.body(response)
        if outcome.invisible:
            check.that(target_mark(target) not in response.text,
                       "an object beyond the read is shown")
        elif outcome.status == 200 and endpoint in ("list", "detail", "change:get",
                                                    "password:get"):
            check.that(MARKERS[key].lower() in response.text.lower(),
                       "the readable object is not on the page")
        if endpoint == "delete:get" and outcome.allowed and not outcome.readable:
            check.that("(hidden)" in response.text,
                       "the delete page of an unreadable object names it other than (hidden)")
        if endpoint == "delete:get" and outcome.allowed and key in REFERRED_BY_ARTICLES \
                and not cell_profile_reads(actor.profile, "blog.article"):
            label = plan()["blog.article"].verbose_name_plural.capitalize()
            check.that(f"{label} (" not in response.text,
                       f"the delete page counts referring {label.lower()} the user may not read")

    async def root_form(self, path):
        page = await self.root.browser.get(path)
        assert page.code == 200, (path, shown(page))
        return parse_form(page.text)

    def add_values(self, mark):
        return add_values(self.model.key, mark)

    def check_frozen_unwritten(self, actor, check, made, values):
        """Objects just made by a profile with frozen fields hold none of their values."""
        for name in field_rules(actor.profile.grants, "write") & set(values):
            check.that(all(getattr(obj, name, None) != values[name] for obj in made),
                       f"the frozen field {name} was written")

    def new_value(self, mark):
        return f"{mark.lower()}@example.com" if self.model.key == "accounts.user" else mark

    async def cell_add_post(self, actor, outcome, check, created):
        mark = self.marker()
        if self.model.key in READ_ONLY_MODELS:
            pairs = list(self.add_values(mark).items())
        else:
            form = await self.root_form(self.admin_url() + "add/")
            pairs = with_values(form.pairs, self.add_values(mark))
        count = await self.klass().count({}, db=self.db)
        response = await actor.browser.post(self.admin_url() + "add/", pairs)
        check.status(response, outcome)
        check.body(response)
        field_name = next(iter(self.add_values(mark)))
        made = await self.klass().find({field_name: mark}, db=self.db).to_list(None)
        created.extend(made)
        check.that(bool(made) == outcome.allowed, f"created: {bool(made)}")
        self.check_frozen_unwritten(actor, check, made, self.add_values(mark))
        if not outcome.allowed:
            check.that(await self.klass().count({}, db=self.db) == count, "objects were added")
        await self.follow(actor, response, check, expect_open=outcome.allowed)

    async def cell_import_post(self, actor, outcome, check, created):
        """Apply an import of one new object (JSON lines) straight away."""
        mark = self.marker()
        values = {k: v for k, v in self.add_values(mark).items()
                  if not k.startswith("password")}
        count = await self.klass().count({}, db=self.db)
        response = await actor.browser.post(self.admin_url() + "import/", {
            "format": "jsonl", "payload": json.dumps(values), "_apply": "1"})
        check.status(response, outcome)
        check.body(response)
        field_name = next(iter(values))
        made = await self.klass().find({field_name: mark}, db=self.db).to_list(None)
        created.extend(made)
        check.that(bool(made) == outcome.allowed, f"imported: {bool(made)}")
        self.check_frozen_unwritten(actor, check, made, values)
        if not outcome.allowed:
            check.that(await self.klass().count({}, db=self.db) == count, "objects were added")
        await self.follow(actor, response, check, expect_open=False)

    async def cell_change_post(self, actor, outcome, check, target):
        name = change_field(self.model.key, actor.profile)
        new = self.new_value(self.marker())
        if self.model.key in READ_ONLY_MODELS:
            pairs = [("actor", new), ("_version", str(target.version or 1))]
        else:
            form = await self.root_form(self.admin_url(target, "change/"))
            pairs = with_values(form.pairs, {name: new})
        response = await actor.browser.post(self.admin_url(target, "change/"), pairs)
        check.status(response, outcome)
        check.body(response)
        doc = await self.raw(target.id)
        changed = doc is not None and doc.get(name) == new
        check.that(changed == outcome.allowed, f"{name} changed: {changed}")
        await self.follow(actor, response, check)

    # bulk ------------------------------------------------------------------------------
    async def cell_bulk(self, actor, outcome, check, target, endpoint, skipped=False):
        _, name, step = endpoint.split(":")
        form = [("action", name), ("_selected_action", str(target.id))]
        if step == "post":
            form.append(("post", "yes"))
        response = await actor.browser.post(self.admin_url(), form)
        check.status(response, outcome)
        check.body(response)
        if step == "confirm":
            if outcome.allowed:
                check.that(MARKERS[self.model.key].lower() in response.text.lower(),
                           "the confirm page does not name the selected object")
            await self.follow(actor, response, check)
            return
        doc = await self.raw(target.id)
        effect = {"delete_selected": doc is None,
                  "publish": doc is not None and doc.get("published") is True,
                  "deactivate_selected": doc is not None and doc.get("is_active") is False,
                  "activate_selected": doc is not None and doc.get("is_active") is True}
        if name in effect and outcome.allowed:
            check.that(effect[name], f"the action {name} had no effect: {doc}")
        pages = await self.follow(actor, response, check)
        if skipped:
            flashes = " ".join(flashes_of(page.text) for page in pages)
            check.that(re.search(r"skip", flashes, re.I) and re.search(r"\b1\b", flashes),
                       f"the skipped object is not reported by count: {flashes!r}")

    # API -------------------------------------------------------------------------------
    def api_body(self, op, target, mark, profile):
        key = self.model.key
        if op == "post":
            body = {k: v for k, v in self.add_values(mark).items()
                    if not k.startswith("password")}
            return body if key not in READ_ONLY_MODELS else {"actor": mark, "action": "login"}
        name = change_field(key, profile)
        body = {name: self.new_value(mark)}
        if op == "put":
            for keep in PUT_KEEP.get(key, ()):
                body[keep] = getattr(target, keep)
        return body

    async def cell_api(self, actor, outcome, check, target, op, created):
        mark = self.marker()
        client = actor.api
        if self.variant == "session":
            client = Client(self.site, cookies=dict(actor.browser.cookies))
        url = self.api_url(None if op in ("list", "post") else target)
        method = {"list": "GET", "detail": "GET", "post": "POST", "patch": "PATCH",
                  "put": "PUT", "delete": "DELETE"}[op]
        body = self.api_body(op, target, mark, actor.profile) \
            if op in ("post", "patch", "put") else None
        reply = await client.request(method, url, body)
        check.status(reply, outcome)
        check.body(reply)
        if outcome.invisible:
            check.that(target_mark(target) not in reply.text,
                       "an object beyond the read is shown")
        elif op in ("list", "detail") and outcome.allowed:
            check.that(MARKERS[self.model.key].lower() in reply.text.lower(),
                       "the readable object is not in the reply")
        if op == "list" and outcome.invisible and reply.json is not None:
            own = await self.klass().count({OWN_FIELD[self.model.key]: actor.user.id},
                                           db=self.db)
            check.that(reply.json.get("count") == own,
                       f"the count {reply.json.get('count')} is not of the {own} own objects")
        if op == "post":
            field_name = next(iter(body))
            made = await self.klass().find({field_name: body[field_name]}, db=self.db) \
                .to_list(None)
            created.extend(made)
            check.that(bool(made) == outcome.allowed, f"created: {bool(made)}")
            if outcome.allowed and reply.json is not None:
                if outcome.readable:
                    check.that(reply.json.get(field_name) == body[field_name],
                               f"the 201 body of a reader is not the object: {reply.text[:200]}")
                else:
                    check.that(set(reply.json) == {"id", "version"},
                               f"the 201 body of a non-reader holds {sorted(reply.json)}")
        elif op in ("patch", "put"):
            name = next(iter(body))
            doc = await self.raw(target.id)
            changed = doc is not None and doc.get(name) == body[name]
            check.that(changed == outcome.allowed, f"{name} changed: {changed}")
        elif op == "delete":
            gone = await self.raw(target.id) is None
            check.that(gone == outcome.allowed, f"deleted: {gone}")
            if outcome.allowed:
                check.that(reply.text == "", f"a 204 with a body: {reply.text[:200]}")

    # WebSocket -------------------------------------------------------------------------
    async def cell_ws(self, actor, outcome, check, target):
        try:
            client = await LiveClient.connect(self.site.port, actor.browser.cookies)
        except Refused as refused:
            check.that(refused.code == outcome.status and outcome.status == 403,
                       f"the upgrade was refused with {refused.code}")
            return
        try:
            check.that(outcome.status == 200, "the upgrade was accepted")
            frames = [client.hello]
            reply = await client.subscribe(self.model.key)
            frames.append(reply)
            subscribed = reply.get("type") == "subscribed"
            check.that(subscribed == outcome.allowed, f"subscribe answered {reply}")
            if self.model.key not in SENTINELS:
                return check.frames(frames)
            sentinel_key = SENTINELS[self.model.key]
            sentinel = self.fixed["sentinel"]
            reply = await client.subscribe(sentinel_key)
            assert reply.get("type") == "subscribed", reply     # the harness's own grant
            touch = TOUCH_FIELD[self.model.key]
            value = self.new_value(self.marker()) + ("" if touch == "email" else " touched")
            changed = await self.root.api.patch(self.api_url(target), {touch: value})
            assert changed.code == 200, changed
            tick = await self.root.api.patch(
                f"/api/{sentinel_key.replace('.', '/')}/{sentinel.id}",
                {"description": f"tick {next(self.counter)}"})
            assert tick.code == 200, tick
            got_target = False
            deadline = asyncio.get_running_loop().time() + WS_WAIT
            while True:
                left = deadline - asyncio.get_running_loop().time()
                message = await client.next(max(left, 0.01)) if left > 0 else None
                if message is None:
                    check.that(False, "the sentinel event never came")
                    break
                frames.append(message)
                if message.get("type") != "event":
                    continue
                if message.get("model") == self.model.key and message.get("id") == str(target.id):
                    got_target = True
                if message.get("model") == sentinel_key and message.get("id") == str(sentinel.id):
                    break
            check.that(got_target == (outcome.allowed and not outcome.invisible),
                       f"the change event was delivered: {got_target}")
            check.frames(frames)
        except asyncio.TimeoutError:
            check.that(False, "the sentinel event never came (timeout)")
        finally:
            client.close()


def target_mark(target):
    """The marker naming one target (its title, name or username)."""
    for name in ("title", "name", "username", "actor"):
        if getattr(target, name, None):
            return str(getattr(target, name))
    return str(target.id)


def _delta(before, after):
    if before is None or after is None:
        return f"{before!r} -> {after!r}"
    return {k: (before.get(k), after.get(k)) for k in set(before) | set(after)
            if before.get(k) != after.get(k)}


class Check:
    """Collects a cell's failed expectations; the test asserts ``failures()`` is empty."""

    def __init__(self, cell, outcome, markers):
        self.cell, self.outcome, self.markers = cell, outcome, markers
        self.problems = []
        self.seen = None

    def that(self, condition, message):
        if not condition:
            self.problems.append(message)

    def status(self, response, outcome):
        self.seen = shown(response)
        if response.code != outcome.status:
            self.problems.append(f"status {response.code}, expected {outcome.status}")
        elif outcome.login:
            self.that((response.location or "").startswith("/admin/login/"),
                      f"not sent to log in: {response.location}")

    def body(self, response, where="the response"):
        text = getattr(response, "text", "") or ""
        markers = self.markers
        if where == "the response" and response.code == 403:
            markers = list(MARKERS.values())          # a 403 names no object, readable or not
        found = find_marker(text, markers)
        if found:
            self.problems.append(f"{where} ({response.code}) shows {found[0]}: …{found[1]}…")

    def frames(self, frames):
        for frame in frames:
            found = find_marker(json.dumps(frame), self.markers)
            if found:
                self.problems.append(f"a WebSocket frame shows {found[0]}: {frame}")

    def failures(self):
        """The cell's failed expectations, each naming the cell (``[]``: the cell is right)."""
        return [f"{self.cell.id} (expected {self.outcome}): {problem} | seen: {self.seen}"
                for problem in self.problems]
