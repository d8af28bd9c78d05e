"""The admin's forms for users and roles.

* ``user_form`` — add/change a user: username, email, (on add) a password and
  its confirmation, is_active, is_superuser (superusers only), the roles as
  checkboxes and the direct permissions as a matrix.
* ``role_form`` — add/change a role: name (fixed once created: users hold roles
  by name), description and the permissions matrix.
* ``SetPasswordForm`` — the set-password page of one user.

Passwords are ``PasswordField``s: what was typed is never sent back in a page.
They are checked with ``core.auth.passwords.validate_password`` (against the
username and email typed on the same form) and hashed where the user is saved.
"""
import wtforms
from wtforms import validators

from core.admin.forms import ModelForm, choice, formfield_for
from core.admin.widgets import CheckboxListField, PermissionMatrixField
from core.auth.passwords import PasswordError, validate_password
from core.forms import Form
from core.i18n import gettext_lazy as _l

__all__ = ["SetPasswordForm", "role_choices", "role_form", "user_form"]

PASSWORD_HELP = _l("At least 10 characters; not a common password, not all digits, "
                   "not like the username or email.")
ROLE_CHOICES_LIMIT = 500


def _check_password(field, username, email):
    """Run ``validate_password``; every message becomes an error of ``field``."""
    if not field.data:
        return
    try:
        validate_password(field.data, username=username or None, email=email or None)
    except PasswordError as exc:
        messages = list(exc.messages) or [str(exc)]
        field.errors.extend(messages[:-1])
        raise validators.ValidationError(messages[-1]) from None


def _password_fields():
    return {
        "password1": wtforms.PasswordField(
            _l("Password"), [validators.InputRequired(_l("Choose a password.")),
                             validators.Length(max=1024)], description=PASSWORD_HELP),
        "password2": wtforms.PasswordField(
            _l("Password (again)"),
            [validators.InputRequired(_l("Enter the password again.")),
             validators.EqualTo("password1", _l("The two passwords do not match."))]),
    }


class SetPasswordForm(Form):
    """A new password for one user, typed twice (``user`` is given when validating)."""

    password1 = _password_fields()["password1"]
    password2 = _password_fields()["password2"]

    def __init__(self, formdata=None, user=None, **kwargs):
        super().__init__(formdata, **kwargs)
        self.user = user

    def validate_password1(self, field):
        _check_password(field, getattr(self.user, "username", None),
                        getattr(self.user, "email", None))


class UserFormBase(ModelForm):
    """Checks the add form's password against the username and email typed with it."""

    def validate_password1(self, field):
        username = self.username.data if "username" in self._fields else None
        email = self.email.data if "email" in self._fields else None
        _check_password(field, username, email)


def _build(name, base, model, order, readonly, special):
    """A ``ModelForm`` subclass with fields in ``order`` (model fields or ``special`` ones)."""
    meta = model._meta
    attrs = {"model": model, "field_names": [], "readonly": []}
    for field_name in order:
        if field_name in special:                # made here: fields keep creation order
            attrs[field_name] = special[field_name]()
            if field_name in meta.fields:
                attrs["field_names"].append(field_name)
            continue
        field = meta.fields.get(field_name)
        if field is None or getattr(field, "hidden", False):
            continue
        if field_name in readonly or not field.editable:
            attrs["readonly"].append(field_name)
            continue
        attrs[field_name] = formfield_for(field)
        attrs["field_names"].append(field_name)
    return type(name, (base,), attrs)


def user_form(model, field_names, readonly, *, registry, grantable, roles=(),
              locked_roles=(), adding=False, scopes=None):
    """The user form class for one request.

    ``grantable`` is the editor's ``Permissions`` (``None``: may change every cell);
    ``roles`` the ``[(name, label)]`` choices and ``locked_roles`` the names the
    editor may neither add nor remove.
    """
    special = {
        "permissions": lambda: PermissionMatrixField(
            _l("Permissions"), registry=registry, grantable=grantable, scopes=scopes,
            description=_l("Granted to this user directly, on top of the roles' grants.")),
        "roles": lambda: CheckboxListField(
            _l("Roles"), choices=list(roles), locked=locked_roles, validate_choice=True,
            description=_l("The user also gets every permission of these roles.")),
    }
    order = []
    for name in field_names:
        order.append(name)
        if name == "email" and adding:
            order += ["password1", "password2"]
    if adding:
        special["password1"] = lambda: _password_fields()["password1"]
        special["password2"] = lambda: _password_fields()["password2"]
        if "password1" not in order:
            order += ["password1", "password2"]
    return _build(f"{model.__name__}Form", UserFormBase, model, order, readonly, special)


def role_form(model, field_names, readonly, *, registry, grantable, scopes=None):
    """The role form class for one request (see ``user_form``; ``scopes``: the scope names
    each model's admin declares, ``AdminSite.scopes``)."""
    special = {"permissions": lambda: PermissionMatrixField(
        _l("Permissions"), registry=registry, grantable=grantable, scopes=scopes,
        description=_l("Every user holding this role gets these permissions."))}
    return _build(f"{model.__name__}Form", ModelForm, model, list(field_names), readonly,
                  special)


async def role_choices(role_model, db, grantable, current=()):
    """``(choices, locked)`` for the roles checkboxes.

    ``locked`` names the roles granting something the editor (``grantable``,
    ``None``: a superuser) does not hold. Role names the user holds that name no
    role are offered too, so they can be removed.
    """
    roles = await role_model.find(db=db).limit(ROLE_CHOICES_LIMIT).to_list(ROLE_CHOICES_LIMIT)
    choices, locked = [], set()
    for role in roles:
        label = role.name + (f" — {role.description}" if role.description else "")
        choices.append(choice(role.name, label))
        if grantable is not None and not grantable.holds_all(role.permissions):
            locked.add(role.name)
    known = {role.name for role in roles}
    for name in current or ():
        if name not in known:
            choices.append(choice(name, f"{name} (no such role: grants nothing)"))
            known.add(name)
    return choices, locked
