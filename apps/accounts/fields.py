"""Fields of the accounts models.

``PasswordHashField`` holds a bcrypt hash and never shows it.

``PermissionsField``: a permissions dict ``{"blog.article": ["read", "write"]}``.

Stored as nested documents, ``{"blog": {"article": ["read", "write"]}}``: the
store's field names may not contain a dot, and nesting keeps each grant
queryable by path (``{"permissions.blog.article": "write"}``). In Python it is
always the flat dict of docs/permissions.md, keys sorted, actions sorted.

The field checks the shape only (model keys ``app_label.model_name``, action
names lower-case identifiers); whether the model and action exist depends on
the installed apps and is checked where grants are made
(``core.permissions.validate_grant``).
"""
from core.models.fields import Field, StringField
from core.permissions import normalize_permissions


def parse_permissions_text(text):
    """``"blog.article=read,write; accounts.user=read"`` (or one grant per line) → a dict."""
    data = {}
    for chunk in text.replace(";", "\n").splitlines():
        chunk = chunk.strip()
        if not chunk:
            continue
        key, sep, actions = chunk.partition("=") if "=" in chunk else chunk.partition(":")
        if not sep:
            raise ValueError(f"{chunk!r} is not 'app.model=action,action'")
        data.setdefault(key.strip(), []).extend(a for a in actions.split(",") if a.strip())
    return data


class PermissionsField(Field):
    """A dict of model key → list of actions; defaults to ``{}``."""

    accepts_containers = True
    empty_values = (None, {})

    def __init__(self, **options):
        options.setdefault("default", dict)
        super().__init__(**options)

    def coerce(self, value):
        try:
            if isinstance(value, str):
                value = parse_permissions_text(value)
            return normalize_permissions(value)
        except ValueError as exc:
            raise self.error(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None

    def to_bson(self, value):
        try:
            clean = normalize_permissions(value or {})
        except ValueError as exc:
            raise self.error(str(exc)) from None
        nested = {}
        for key, actions in clean.items():
            app_label, model_name = key.split(".", 1)
            nested.setdefault(app_label, {})[model_name] = list(actions)
        return nested

    def from_bson(self, value):
        if not isinstance(value, dict):
            return {}
        flat = {}
        for app_label, models in value.items():
            if isinstance(models, dict):
                for model_name, actions in models.items():
                    if isinstance(actions, list) and actions:
                        flat[f"{app_label}.{model_name}"] = sorted(
                            a for a in actions if isinstance(a, str))
        return dict(sorted(flat.items()))

    def to_json(self, value):
        return {key: list(actions) for key, actions in (value or {}).items()}

    def display(self, value):
        return "; ".join(f"{key}: {', '.join(actions)}" for key, actions in (value or {}).items())


class PasswordHashField(StringField):
    """A bcrypt hash (``"$2b$12$..."``), set with ``User.set_password``; never shown.

    It refuses anything that is not a bcrypt hash, so a plain-text password
    can never be stored by mistake. ``display`` and ``to_json`` reveal only
    whether a password is set; ``hidden = True`` tells generic views to leave
    the field out altogether. Not editable in forms.
    """

    hidden = True

    def __init__(self, **options):
        options.setdefault("editable", False)
        options.setdefault("max_length", 200)
        super().__init__(**options)

    def validate(self, value):
        super().validate(value)
        if not value.startswith("$2"):
            raise self.error("This field holds a bcrypt hash; set passwords with "
                             "set_password().")

    def to_json(self, value):
        return None

    def display(self, value):
        return "(set)" if value else "(not set)"


class IdentityKeyField(StringField):
    """The identity key (``core.auth.identity.identity_key``) of the field ``source``.

    Set by the model's ``clean()`` (every save), never typed: unique-indexed, so
    two users whose names differ only in case, width or look-alike letters cannot
    both be stored. Hidden like a password hash (forms, API, audit leave it out).
    """

    hidden = True

    def __init__(self, source, **options):
        options.setdefault("editable", False)
        options.setdefault("unique", True)
        super().__init__(**options)
        self.source = source

    def to_json(self, value):
        return None

    def display(self, value):
        return ""
