"""The engine against a brute-force reading of the dicts (hypothesis): random users and roles
made of scoped, expiring and field-restricting entries, at a fixed instant.

The brute force reads docs/permissions.md ("Scopes, fields and expiry") literally: an
action reaches every object when some dict grants it unscoped and in force, else the
objects of the scopes some dict grants it with; a field is hidden (frozen) when every
dict granting read (write) in force hides (hides or freezes) it.
"""
import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from core.permissions import UNSCOPED, Permissions, normalize_permissions

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)
PAST, FUTURE = "2026-06-01T11:59Z", "2026-06-01T12:01Z"
KEYS = ("shop.customer", "blog.article")
ACTIONS = ("read", "write", "delete")
SCOPES = ("own", "team")
FIELDS = ("notes", "email")
MODELS = {key: ACTIONS for key in KEYS}

grant_entry = st.builds(
    lambda action, scope, until: action + (f":{scope}" if scope else "") +
    (f"@{until}" if until else ""),
    st.sampled_from(ACTIONS), st.sampled_from((None,) + SCOPES),
    st.sampled_from((None, PAST, FUTURE)))
restriction = st.builds(lambda kind, field: f"-{kind}:{field}",
                        st.sampled_from(("read", "write")), st.sampled_from(FIELDS))
entry = st.one_of(grant_entry, grant_entry, restriction)
perm_dict = st.dictionaries(st.sampled_from(KEYS), st.lists(entry, max_size=6), max_size=2)
roles = st.dictionaries(st.sampled_from(("r1", "r2", "r3")), perm_dict, max_size=3)


def brute_layers(user_dict, role_dicts):
    return [user_dict] + list(role_dicts.values())


def in_force(text):
    _, at, until = text.partition("@")
    return not at or until == FUTURE


def grant_parts(text):
    """(action, scope) of a grant entry, None for a restriction."""
    if text.startswith("-"):
        return None
    body = text.partition("@")[0]
    action, _, scope = body.partition(":")
    return action, scope or None


def brute_reach(layers, key, action):
    scopes = set()
    for layer in layers:
        for text in layer.get(key, ()):
            parts = grant_parts(text)
            if parts and parts[0] == action and in_force(text):
                if parts[1] is None:
                    return UNSCOPED
                scopes.add(parts[1])
    return frozenset(scopes) or None


def grants_in_force(layer, key, action):
    return any(grant_parts(t) and grant_parts(t)[0] == action and in_force(t)
               for t in layer.get(key, ()))


def brute_hidden(layers, key):
    readers = [layer for layer in layers if grants_in_force(layer, key, "read")]
    return frozenset(f for f in FIELDS if readers and
                     all(f"-read:{f}" in layer.get(key, ()) for layer in readers))


def brute_frozen(layers, key):
    writers = [layer for layer in layers if grants_in_force(layer, key, "write")]
    frozen = {f for f in FIELDS if writers and all(
        {f"-write:{f}", f"-read:{f}"} & set(layer.get(key, ())) for layer in writers)}
    return frozenset(frozen) | brute_hidden(layers, key)


def engine(user_dict, role_dicts, superuser=False, active=True):
    user = {"username": "u", "is_active": active, "is_superuser": superuser,
            "permissions": user_dict, "roles": list(role_dicts)}
    return Permissions(user, role_dicts, MODELS, now=NOW)


@settings(max_examples=150, deadline=None)
@given(perm_dict, roles, st.sampled_from(SCOPES))
def test_engine_equals_brute_force(user_dict, role_dicts, object_scope):
    perms = engine(user_dict, role_dicts)
    layers = brute_layers(normalize_permissions(user_dict),
                          {n: normalize_permissions(d) for n, d in role_dicts.items()})
    for key in KEYS:
        assert perms.hidden_fields(key) == brute_hidden(layers, key)
        assert perms.frozen_fields(key) == brute_frozen(layers, key)
        for action in ACTIONS:
            reach = brute_reach(layers, key, action)
            assert perms.reach(key, action) == reach
            assert perms.has(key, action) == (reach is not None)
            # an object in exactly one scope: the answer follows the reach
            on_obj = perms.has(key, action, obj=object(),
                               scope_match=lambda scope, obj: scope == object_scope)
            assert on_obj == (reach is UNSCOPED or (reach is not None and object_scope in reach))
            # and the table every export prints says the same
            rows = [r for r in perms.grant_table() if (r["model"], r["action"]) == (key, action)]
            if reach is None:
                assert rows == []
            else:
                assert rows[0]["reach"] == ("all" if reach is UNSCOPED else sorted(reach))


@settings(max_examples=100, deadline=None)
@given(perm_dict, roles)
def test_superusers_and_inactive_users_ignore_the_dicts(user_dict, role_dicts):
    root = engine(user_dict, role_dicts, superuser=True)
    gone = engine(user_dict, role_dicts, active=False)
    for key in KEYS:
        assert root.hidden_fields(key) == frozenset() == gone.hidden_fields(key)
        for action in ACTIONS:
            assert root.reach(key, action) is UNSCOPED
            assert gone.reach(key, action) is None and not gone.has(key, action)


def covers(outer, inner):
    """Does reach ``outer`` include reach ``inner``?"""
    if inner is None:
        return True
    if outer is UNSCOPED:
        return True
    return inner is not UNSCOPED and outer is not None and inner <= outer


@settings(max_examples=150, deadline=None)
@given(perm_dict, roles, perm_dict)
def test_what_an_editor_does_not_lack_never_widens_anything(editor_dict, editor_roles, given):
    """Escalation: a dict the editor may hand out (``lacks`` is empty) gives its holder no
    action beyond the editor's reach and no field the editor cannot see or write."""
    editor = engine(editor_dict, editor_roles)
    if editor.lacks(given):
        return
    holder = engine(given, {})
    for key in KEYS:
        for action in ACTIONS:
            assert covers(editor.reach(key, action), holder.reach(key, action))
        if holder.has(key, "read"):
            assert editor.hidden_fields(key) <= holder.hidden_fields(key)
        if holder.has(key, "write"):
            assert editor.frozen_fields(key) <= holder.frozen_fields(key)


def test_an_expiring_grant_stops_at_its_instant():
    user = {"permissions": {"blog.article": ["write@2026-06-01T12:00Z"]}}
    before = Permissions(user, None, MODELS, now=NOW - datetime.timedelta(seconds=1))
    at = Permissions(user, None, MODELS, now=NOW)
    assert before.has("blog.article", "write") and not at.has("blog.article", "write")
    assert at.expired() == {"blog.article": [{"entry": "write@2026-06-01T12:00Z",
                                              "source": "user"}]}
