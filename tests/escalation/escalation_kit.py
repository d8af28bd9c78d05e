"""The escalation matrix's data tables, its one rule function and the channels.

Pure part (no I/O): ``PROFILES`` (the editors), ``target_spec`` (what each target holds
relative to its editor), ``change_for`` (what one operation asks for, or ``None`` when it
cannot be asked of that target), ``expected`` (the verdict the access rules give) and
``expected_state`` (the stored target afterwards). ``cells()`` generates every
(profile, target, operation, channel) the channels can express.

I/O part: ``Matrix`` makes editors and targets on a served site, ``snapshot`` reads a
user's stored state, and ``perform`` sends one operation through one channel.
"""
import html
import itertools
import json
import re
from dataclasses import dataclass, field

from support import NEW_PASSWORD, PASSWORD  # noqa: F401  (re-exported for the tests)
from support.accounts import USERS, boxes, role_form, user_form  # noqa: F401  (re-exported)

API_USERS = "/api/accounts/user/"
SESSIONS = "sessions"          # apps.accounts.models.SESSIONS_COLLECTION, keyed by user_id
API_ROLES = "/api/accounts/role/"
ROLES_PATH = "/admin/accounts/role/"

# -- the tables ------------------------------------------------------------------------------
SUPERUSER = "superuser"
PROFILES = {
    "user_write": {"accounts.user": ["read", "write"]},
    "user_write_articles": {"accounts.user": ["read", "write"],
                            "blog.article": ["read", "write"]},
    "role_write": {"accounts.role": ["read", "write"], "accounts.user": ["read"]},
    "user_delete": {"accounts.user": ["delete", "read"]},
    SUPERUSER: None,
}

ROLES = {
    "viewers": {"accounts.user": ["read"]},        # every target and editor holds it
    "helpers": {"accounts.user": ["read"]},        # nobody holds it: the role to assign
    "powerful": {"blog.article": ["delete", "read"]},   # no non-superuser editor holds it
}

WEAK = {"accounts.user": ["read"]}
STRONG = {"accounts.user": ["read"], "blog.article": ["delete"]}   # blog.article:delete unheld
UNHELD_GRANT = ("blog.article", "publish")          # no profile holds it, no target has it

TARGETS = ("weaker", "equal", "stronger_direct", "stronger_role", "inactive_stronger",
           "inactive_weaker", "superuser", "self")

OPERATIONS = ("edit", "deactivate", "activate", "rename", "email", "set_password",
              "grant_held", "grant_unheld", "revoke_held", "revoke_unheld",
              "assign_held", "assign_unheld", "unassign_held", "unassign_unheld",
              "strip", "make_superuser", "demote", "delete")

# channel → the operations it can express
CHANNELS = {
    "form": set(OPERATIONS),      # change form; set-password page; delete page
    "bulk": {"deactivate", "activate", "delete"},
    "api_session": set(OPERATIONS) - {"set_password"},   # PATCH / DELETE, session + XSRF
    "api_token": set(OPERATIONS) - {"set_password"},     # PUT / DELETE, Bearer token
}

# operations whose cells log the target in first: deactivating and setting a password end
# its sessions; the others must leave them alone
SESSION_OPS = {"deactivate", "set_password", "edit", "rename", "email", "strip", "demote"}

ALLOWED, DENIED, KEPT, OWN_PASSWORD = "allowed", "denied", "kept", "own_password"


def pairs(perms):
    return [(key, action) for key, actions in sorted((perms or {}).items())
            for action in sorted(actions)]


def from_pairs(items):
    out = {}
    for key, action in items:
        out.setdefault(key, set()).add(action)
    return {key: sorted(actions) for key, actions in sorted(out.items())}


def merge(*dicts):
    return from_pairs(p for d in dicts for p in pairs(d))


def minus(perms, pair):
    return from_pairs(p for p in pairs(perms) if p != pair)


def plus(perms, pair):
    return from_pairs(pairs(perms) + [pair])


def holds(grants, perms):
    """True when ``grants`` (a dict, ``None`` = superuser) holds every grant of ``perms``."""
    if grants is None:
        return True
    have = set(pairs(grants))
    return all(p in have for p in pairs(perms))


# What "held" means when picking grants for a superuser editor: everything some non-superuser
# profile holds (so a superuser's cells ask for the same grants the others' do).
REFERENCE = merge(*(g for g in PROFILES.values() if g is not None))


def reference(profile):
    return PROFILES[profile] if PROFILES[profile] is not None else REFERENCE


@dataclass(frozen=True)
class Spec:
    """What a target is stored to hold."""
    permissions: dict
    roles: tuple
    is_active: bool = True
    is_superuser: bool = False
    is_self: bool = False

    def stored_grants(self):
        return merge(self.permissions, *(ROLES[name] for name in self.roles))


def editor_spec(profile):
    return Spec(PROFILES[profile] or {}, ("viewers",), is_superuser=PROFILES[profile] is None,
                is_self=True)


def target_spec(profile, kind):
    """The target ``kind`` for an editor of ``profile`` (``None``: not generated)."""
    if kind == "self":
        return editor_spec(profile)
    if kind == "equal":
        # a superuser's equal is another superuser: that is the "superuser" target
        return None if PROFILES[profile] is None else Spec(PROFILES[profile], ("viewers",))
    return {
        "weaker": Spec(WEAK, ("viewers",)),
        "stronger_direct": Spec(STRONG, ("viewers",)),
        "stronger_role": Spec(WEAK, ("viewers", "powerful")),
        "inactive_stronger": Spec(STRONG, ("viewers", "powerful"), is_active=False),
        "inactive_weaker": Spec(WEAK, ("viewers",), is_active=False),
        "superuser": Spec(STRONG, ("viewers",), is_superuser=True),
    }[kind]


def change_for(profile, spec, op):
    """What ``op`` asks of the target ``spec``: a dict, or ``None`` when it cannot be asked
    (e.g. activating an active user, granting a held grant the target already has)."""
    ref = reference(profile)
    perms, roles = spec.permissions, list(spec.roles)
    if op == "edit":
        return {}
    if op == "deactivate":
        return {"is_active": False} if spec.is_active else None
    if op == "activate":
        return {"is_active": True} if not spec.is_active else None
    if op == "rename":
        return {"username": "renamed"}           # the username gets a suffix (see Matrix)
    if op == "email":
        return {"email": "changed"}
    if op == "set_password":
        return {"password": NEW_PASSWORD}
    if op == "grant_held":
        new = [p for p in pairs(ref) if p not in pairs(perms)]
        return {"permissions": plus(perms, new[0])} if new else None
    if op == "grant_unheld":
        return {"permissions": plus(perms, UNHELD_GRANT)}
    if op == "revoke_held":
        held = [p for p in pairs(perms) if p in pairs(ref)]
        return {"permissions": minus(perms, held[0])} if held else None
    if op == "revoke_unheld":
        unheld = [p for p in pairs(perms) if p not in pairs(ref)]
        return {"permissions": minus(perms, unheld[0])} if unheld else None
    if op == "assign_held":
        return {"roles": roles + ["helpers"]} if "helpers" not in roles else None
    if op == "assign_unheld":
        return {"roles": roles + ["powerful"]} if "powerful" not in roles else None
    if op == "unassign_held":
        return {"roles": [r for r in roles if r != "viewers"]} if "viewers" in roles else None
    if op == "unassign_unheld":
        return ({"roles": [r for r in roles if r != "powerful"]}
                if "powerful" in roles else None)
    if op == "strip":
        return {"permissions": {}, "roles": []}
    if op == "make_superuser":
        return {"is_superuser": True} if not spec.is_superuser else None
    if op == "demote":
        return {"is_superuser": False} if spec.is_superuser else None
    if op == "delete":
        return {"delete": True}
    raise ValueError(op)


def expected(profile, kind, op):
    """The verdict of the access rules (docs/permissions.md; GUIDE §3, §5, §7).

    ``allowed``: done as asked; ``denied``: refused, nothing changes; ``kept``: the
    request is accepted but the grants/roles the editor does not hold stay as stored;
    ``own_password``: the set-password page sends the user to /admin/password_change/.
    """
    return judge(profile, kind, op)[0]


def judge(profile, kind, op):
    """``(verdict, reason)``: ``expected``'s verdict and which rule gives it (the reason
    decides the response a refusal gets, see ``DENIAL_RESPONSES``)."""
    grants = PROFILES[profile]
    spec = target_spec(profile, kind)
    if grants is not None:
        needed = {"accounts.user": ["delete"] if op == "delete" else ["read", "write"]}
        if not holds(grants, needed):
            return DENIED, "no_permission"
    if spec.is_self and op in ("deactivate", "delete"):
        return DENIED, "self"                   # nobody, superusers included
    if spec.is_self and op == "set_password":
        return OWN_PASSWORD, "own_password"
    if grants is None:
        return ALLOWED, None
    if spec.is_superuser:
        return DENIED, "superuser_target"
    if op in ("make_superuser", "demote"):
        return DENIED, "make_superuser"
    stronger = not holds(grants, spec.stored_grants())
    if stronger and op in ("deactivate", "activate", "rename", "email", "set_password",
                           "delete"):
        return DENIED, "takeover"
    if op in ("grant_unheld", "assign_unheld"):
        return DENIED, "unheld_grant"
    if op in ("revoke_unheld", "unassign_unheld"):
        return KEPT, None
    return ALLOWED, None


# (reason, channel) → the answers a refusal may get: status codes, and "error" for a form
# page (200) showing a field error, "skipped" for a bulk 303 that reports the object skipped.
# "page" is the change form; the set-password and delete pages answer like the API.
DENIAL_RESPONSES = {
    ("no_permission", "page"): {403}, ("no_permission", "api"): {403},
    ("no_permission", "bulk"): {403},
    ("superuser_target", "page"): {403}, ("superuser_target", "api"): {403},
    ("superuser_target", "bulk"): {"skipped"},
    # the account fields are read-only on the form: a crafted POST changes nothing
    ("takeover", "page"): {303, 403}, ("takeover", "api"): {403},
    ("takeover", "bulk"): {"skipped"},
    ("unheld_grant", "page"): {"error"}, ("unheld_grant", "api"): {422},
    ("make_superuser", "page"): {"error", 403}, ("make_superuser", "api"): {403, 422},
    ("self", "page"): {"error", 400, 403, 409, 422}, ("self", "api"): {400, 403, 409, 422},
    ("self", "bulk"): {"skipped", 400, 403, 409, 422},
}


def denial_kind(op, channel):
    """``page`` (the change form), ``api`` (the API, the set-password and delete pages:
    no form to show an error on) or ``bulk``."""
    if channel == "form":
        return "api" if op in ("set_password", "delete") else "page"
    return "bulk" if channel == "bulk" else "api"


def expected_state(profile, spec, op, verdict, before, change):
    """The stored target after the request, from ``before`` (a ``snapshot``)."""
    if verdict in (DENIED, KEPT, OWN_PASSWORD):
        return dict(before)
    after = dict(before)
    if op == "delete":
        return {"exists": False}
    if op == "set_password":
        after["password"] = CHANGED
        after["tokens"] = after["sessions"] = 0
    elif op == "strip":
        grants = PROFILES[profile]
        if grants is None:
            after["permissions"], after["roles"] = {}, []
        else:      # what the editor does not hold is kept as stored
            after["permissions"] = from_pairs(p for p in pairs(before["permissions"])
                                              if p not in pairs(grants))
            after["roles"] = [r for r in before["roles"] if not holds(grants, ROLES[r])]
    else:
        after.update(change)
        if op == "deactivate":
            after["tokens"] = after["sessions"] = 0
    return after


def cells():
    """Every (profile, target, operation, channel) generated from the tables."""
    out = []
    for profile, kind, op, channel in itertools.product(PROFILES, TARGETS, OPERATIONS,
                                                        CHANNELS):
        spec = target_spec(profile, kind)
        if spec is None or op not in CHANNELS[channel]:
            continue
        if change_for(profile, spec, op) is None:
            continue
        out.append((profile, kind, op, channel))
    return out


class _Changed:
    def __repr__(self):
        return "<changed: a new hash for NEW_PASSWORD>"


CHANGED = _Changed()


# -- talking to the site ---------------------------------------------------------------------
META_XSRF = re.compile(r'<meta name="xsrf-token" content="([^"]+)">')


@dataclass
class Editor:
    user: object
    browser: object
    xsrf: str
    token: str
    profile: str


@dataclass
class Matrix:
    """Editors and targets on one served ``site`` (names made unique by a counter)."""
    site: object
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    editors: dict = field(default_factory=dict)

    async def setup(self):
        Role = self.site.model("accounts.role")
        for name, perms in ROLES.items():
            if await Role.get_by_name(name, db=self.site.db) is None:
                await Role.create(name=name, permissions=perms, db=self.site.db)

    def name(self, label):
        return f"u{next(self.counter)}-{label.replace('_', '-')}"

    async def make_user(self, label, spec):
        return await self.site.create_user(self.name(label), permissions=spec.permissions,
                                           roles=list(spec.roles), is_active=spec.is_active,
                                           is_superuser=spec.is_superuser)

    async def editor(self, profile, fresh=False):
        """A logged-in editor of ``profile`` (cached unless ``fresh``: self cells change it)."""
        if not fresh and profile in self.editors:
            return self.editors[profile]
        user = await self.make_user(f"ed-{profile}", editor_spec(profile))
        browser = self.site.browser()
        response = await browser.login(user.username)
        assert response.code == 303, (response.code, response.text[:300])
        page = await browser.get("/admin/")
        match = META_XSRF.search(page.text)
        xsrf = match.group(1) if match else await browser.xsrf()
        raw, _doc = await tokens(self.site).create(user.id, name="matrix")
        editor = Editor(user, browser, xsrf, raw, profile)
        if not fresh:
            self.editors[profile] = editor
        return editor

    async def target(self, profile, kind, op=None):
        """A new target: active ones hold an API token, and a session when ``op`` is one
        whose rules touch sessions (logging in costs a bcrypt check: only where it counts)."""
        spec = target_spec(profile, kind)
        user = await self.make_user(kind, spec)
        if spec.is_active:     # (an inactive account has neither token nor session)
            await tokens(self.site).create(user.id, name="target")
            if op is None or op in SESSION_OPS:
                response = await self.site.browser().login(user.username)
                assert response.code == 303, (response.code, response.text[:300])
        return user


def tokens(site):
    from core.auth.tokens import TokenStore
    return TokenStore(site.db)


async def get_user(site, user_id):
    return await site.model("accounts.user").get(user_id, db=site.db)


async def snapshot(site, user_id):
    """The stored state the matrix compares (``version`` separately)."""
    user = await get_user(site, user_id)
    if user is None:
        return {"exists": False}
    return {"exists": True, "username": user.username, "email": user.email,
            "is_active": user.is_active, "is_superuser": user.is_superuser,
            "password": user.password, "permissions": dict(user.permissions or {}),
            "roles": list(user.roles or []),
            "tokens": len(await tokens(site).list(user.id)),
            "sessions": await site.db[SESSIONS].count_documents({"user_id": user.id})}


def concrete(change, user):
    """``change`` with the placeholder username/email made unique for ``user``."""
    out = dict(change)
    if out.get("username") == "renamed":
        out["username"] = f"{user.username}-renamed"
    if out.get("email") == "changed":
        out["email"] = f"changed-{user.username}@example.com"
    return out


async def api(editor, method, path, data=None, token=False):
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {editor.token}"
        browser = editor.browser.site.browser()          # no cookies at all
    else:
        headers["X-XSRFToken"] = editor.xsrf
        browser = editor.browser
    body = None
    if data is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(data)
    return await browser.fetch(path, method=method, headers=headers, body=body)


async def perform(site, editor, user, op, channel, change):
    """Send ``op`` on ``user`` through ``channel``; the response."""
    browser = editor.browser
    if channel == "bulk":
        name = {"deactivate": "deactivate_selected", "activate": "activate_selected",
                "delete": "delete_selected"}[op]
        return await browser.post(USERS, [("action", name), ("_selected_action", str(user.id)),
                                          ("post", "yes")])
    if channel == "form":
        if op == "delete":
            return await browser.post(f"{USERS}{user.id}/delete/", {})
        if op == "set_password":
            return await browser.post(f"{USERS}{user.id}/password/",
                                      {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
        fields = {}
        if "is_active" in change:
            fields["is_active"] = "y" if change["is_active"] else None
        if "is_superuser" in change:
            fields["is_superuser"] = "y" if change["is_superuser"] else None
        elif user.is_superuser and PROFILES[editor.profile] is None:
            fields["is_superuser"] = "y"      # a superuser's form shows the box (checked)
        for name in ("username", "email"):
            if name in change:
                fields[name] = change[name]
        return await browser.post(f"{USERS}{user.id}/change/",
                                  user_form(user, change.get("permissions"),
                                            change.get("roles"), **fields))
    token = channel == "api_token"
    path = f"{API_USERS}{user.id}"
    if op == "delete":
        return await api(editor, "DELETE", path, token=token)
    if channel == "api_session":
        return await api(editor, "PATCH", path, change)
    shown = await api(editor, "GET", path, token=True)
    assert shown.code == 200, ("GET before PUT", shown.code, shown.text[:300])
    body = shown.json()
    body.update(change)
    return await api(editor, "PUT", path, body, token=True)


async def flashes_after(browser, response):
    """The text of the page a bulk action's 303 leads to (its flash messages)."""
    page = await browser.get(response.location)
    return html.unescape(page.text)


def form_error_shown(text):
    return 'class="errorlist' in text


def describe(response):
    return f"{response.code} {response.location or ''} {response.text[:300]!r}"
