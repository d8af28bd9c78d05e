"""The accounts pages of the admin: user and role forms and details, and set-password.

The generic handlers (``core.admin.handlers``) do the work; these subclasses add
what users and roles need:

* forms draw the permission matrix and the roles checkboxes
  (``core.forms.render_field``), and the user form's role choices are
  loaded (with the roles the editor may not hand out locked) before it is built;
* the user detail page shows the *effective* permissions with where each comes
  from (``user``, ``role:NAME``, ``superuser``); the role detail page shows its
  grants as a matrix and who holds it;
* ``UserPasswordHandler`` serves ``/admin/accounts/user/<id>/password/``: it needs
  ``read`` and ``write`` on ``accounts.user`` and the user admin's take-over rule
  (a non-superuser may not set the password of a user stronger than them), sets
  the new bcrypt hash, ends every session and revokes every API token of that
  user. Your own password is changed on ``/admin/password_change/``, which asks for
  the current one: this page sends you there.
"""
from core.audit import REDACTED
from core.admin.handlers import (Cell, CreateHandler, DetailHandler, ObjectHandler,
                                 UpdateHandler)
from core.admin.widgets import MATRIX_COLUMNS, matrix_groups
from core.auth.handlers import password_slots
from core.forms import FormData, render_field
from core.handlers.base import HTTPError
from core.models.errors import StaleObjectError
from core.permissions import (GRANT, ROLE_PREFIX, describe_grants, parse_entry,
                              source_label)

from . import forms
from .models import Role, User

__all__ = ["RoleCreateHandler", "RoleDetailHandler", "RoleUpdateHandler", "UserCreateHandler",
           "UserDetailHandler", "UserPasswordHandler", "UserUpdateHandler",
           "effective_matrix", "matrix_sources", "role_matrix_sources"]

PASSWORD_PATH = r"/admin/accounts/user/([^/]+)/password/"
HOLDERS_SHOWN = 50


def effective_matrix(registry, sources):
    """Rows of ``{"key", "label", "cells": [...], "extras": [(action, [sources])]}`` grouped
    by app, for the models ``sources`` (``matrix_sources``: finished labels per action)
    names; plus the grants on models not installed: ``(groups, others)``."""
    groups, seen = [], set()
    for group in matrix_groups(registry):
        rows = []
        for model in group["models"]:
            key = model["key"]
            seen.add(key)
            per_action = sources.get(key)
            if not per_action:
                continue
            rows.append({
                "key": key, "label": model["label"],
                "cells": [(action, action in model["actions"], _action_sources(per_action, action))
                          for action in MATRIX_COLUMNS],
                "extras": [(action, _action_sources(per_action, action))
                           for action in model["actions"] if action not in MATRIX_COLUMNS]})
        if rows:
            groups.append({"label": group["label"], "app": group["app"], "rows": rows})
    others = {key: per_action for key, per_action in sources.items() if key not in seen}
    return groups, others


def _action_sources(per_action, action):
    """The source labels of ``action`` in a ``matrix_sources`` ``per_action``."""
    return list(per_action.get(action, []))


def matrix_sources(perms, translate):
    """``{model key: {action: [label]}}`` of ``perms.grant_table()`` for the matrix: each
    source labelled by ``source_label`` — its scope and expiry in the one shared format,
    in the page's language (``translate``): ``"rôle editors (portée own, jusqu'au …)"``."""
    found = {}
    for row in perms.grant_table():
        labels = found.setdefault(row["model"], {}).setdefault(row["action"], [])
        for source in row["sources"]:
            label = source_label(source["source"], source["scope"], source["until"],
                                 translate)
            if label not in labels:
                labels.append(label)
    return found


def role_matrix_sources(role, translate):
    """``matrix_sources`` of one role's own grants (in force or not: the role page shows
    what the role says), each labelled ``source_label("role:NAME", scope, until)``."""
    found = {}
    for key, entries in (role.permissions or {}).items():
        for text in entries:
            try:
                entry = parse_entry(text)
            except ValueError:
                continue
            if entry.kind != GRANT:
                continue
            labels = found.setdefault(key, {}).setdefault(entry.action, [])
            label = source_label(ROLE_PREFIX + role.name, entry.scope, entry.until, translate)
            if label not in labels:
                labels.append(label)
    return found


class AccountsPageMixin:
    """Templates of accounts pages draw the matrix and checkbox widgets."""

    def get_template_namespace(self):
        namespace = super().get_template_namespace()
        namespace.update(render_field=render_field, matrix_columns=MATRIX_COLUMNS)
        return namespace

    def grantable(self):
        """The editor's ``Permissions`` limiting what they may grant (``None``: superuser)."""
        return None if self.permissions.is_superuser else self.permissions


class UserAdminRoute:
    """A page the accounts app mounts itself (not one of the admin's URLs) about users:
    it runs under the admin of ``accounts.user`` found on the application's site, and
    answers 404 when the admin is not installed (never a page without its checks)."""

    def initialize(self, model_admin=None, site=None):
        site = site if site is not None else getattr(self.application, "admin_site", None)
        if model_admin is None and site is not None:
            model_admin = site.get(User._meta.key)
        super().initialize(model_admin=model_admin, site=site)

    async def prepare(self):
        if self.model_admin is None:            # no admin site: never serve without checks
            raise HTTPError(404, self.gettext("The admin is not installed."))
        await super().prepare()


# -- users -----------------------------------------------------------------------------------
class UserFormMixin(AccountsPageMixin):
    role_choices = None
    #: the user edited is stronger than the editor: username, email, active are read-only
    account_locked = False

    async def build_form(self, obj, formdata=None):
        current = list(obj.roles) if obj is not None and obj.roles else []
        self.role_choices = await forms.role_choices(Role, self.db, self.grantable(), current)
        if self.change and obj is not None:
            self.account_locked = bool(await self.model_admin.takeover_refusal(self, obj))
        return await super().build_form(obj, formdata)

    def readonly_rows(self, obj, form):
        rows = super().readonly_rows(obj, form)
        if self.change and obj is not None and not self.account_locked \
                and self.model_admin.may(self, "write", obj):
            rows.insert(0, (self.gettext("Password"), Cell(
                "link", self.gettext("Set a new password"),
                url=self.model_admin.password_url(obj))))
        return rows


class UserCreateHandler(UserFormMixin, CreateHandler):
    """``/admin/accounts/user/add/``: with a password and its confirmation."""


class UserUpdateHandler(UserFormMixin, UpdateHandler):
    """``/admin/accounts/user/<id>/change/``: no password here (its own page)."""


class UserDetailHandler(AccountsPageMixin, DetailHandler):
    """``/admin/accounts/user/<id>/``: the fields, then the effective permissions."""

    template = "admin/accounts/user_detail.html"

    def field_names(self, obj):
        return [name for name in super().field_names(obj) if name != "permissions"]

    async def get_context(self, obj):
        context = await super().get_context(obj)
        if self.model_admin.may(self, "write", obj) and \
                not await self.model_admin.object_refusal(self, "password", obj):
            context["rows"].insert(2, (self.gettext("Password"), Cell(
                "link", self.gettext("Set a new password"),
                url=self.model_admin.password_url(obj))))
        perms = await obj.get_permissions(self.registry, db=self.db)
        groups, others = effective_matrix(self.registry, matrix_sources(perms, self.gettext))
        context.update(effective_groups=groups, other_grants=others,
                       is_superuser=perms.is_superuser, is_active=perms.is_active,
                       direct=obj.permissions or {}, describe_grants=describe_grants)
        return context


# -- roles ------------------------------------------------------------------------------------
class RoleCreateHandler(AccountsPageMixin, CreateHandler):
    """``/admin/accounts/role/add/``."""


class RoleUpdateHandler(AccountsPageMixin, UpdateHandler):
    """``/admin/accounts/role/<id>/change/`` (the name is fixed once created)."""


class RoleDetailHandler(AccountsPageMixin, DetailHandler):
    """``/admin/accounts/role/<id>/``: its grants as a matrix, and the users holding it."""

    template = "admin/accounts/role_detail.html"

    def field_names(self, obj):
        return [name for name in super().field_names(obj) if name != "permissions"]

    async def get_context(self, obj):
        context = await super().get_context(obj)
        groups, others = effective_matrix(self.registry,
                                          role_matrix_sources(obj, self.gettext))
        holders, more = [], 0
        user_admin = self.admin_for(User)
        if user_admin is not None and user_admin.may(self, "read"):
            found = await User.find({"roles": obj.name}, sort=[("username", 1)],
                                    limit=HOLDERS_SHOWN + 1, db=self.db).to_list(None)
            more = max(0, len(found) - HOLDERS_SHOWN)
            holders = [(user.username, user_admin.object_url(user))
                       for user in found[:HOLDERS_SHOWN]]
        context.update(effective_groups=groups, other_grants=others, holders=holders,
                       more_holders=more, may_list_users=user_admin is not None and
                       user_admin.may(self, "read"))
        return context


# -- set a user's password ------------------------------------------------------------------
class UserPasswordHandler(UserAdminRoute, AccountsPageMixin, ObjectHandler):
    """``/admin/accounts/user/<id>/password/``: set a new password; ends their sessions.

    Needs ``read`` and ``write`` on ``accounts.user`` and the user admin's object
    rule (only superusers may set a superuser's password). Someone who is not a
    superuser may set only the password of a user whose stored grants hold nothing
    they lack themselves: setting a password is taking the account over
    (``UserAdmin.object_refusal(..., "password", ...)``).
    """

    action = "write"
    needs_read = True
    template = "admin/accounts/user_password.html"
    own_password_url = "/admin/password_change/"

    async def get_object(self, object_id):
        obj = await super().get_object(object_id)
        refusal = await self.model_admin.object_refusal(self, "password", obj)
        if refusal:
            raise HTTPError(403, refusal)
        return obj

    def is_own(self, object_id):
        return object_id == str(getattr(self.current_user, "id", ""))

    def render_form(self, obj, form):
        self.render(self.template, form=form, links=self.object_links(obj),
                    change_url=self.model_admin.object_url(obj, "change/"))

    async def get(self, object_id):
        if self.is_own(object_id):               # your own: the page asking the current one
            return self.redirect(self.own_password_url, status=303)
        obj = await self.get_object(object_id)
        self.render_form(obj, forms.SetPasswordForm(user=obj))

    async def post(self, object_id):
        if self.is_own(object_id):               # nothing changes here for your own
            return self.redirect(self.own_password_url, status=303)
        obj = await self.get_object(object_id)
        form = forms.SetPasswordForm(FormData(self), user=obj)
        if not form.validate():
            return self.render_form(obj, form)
        async with self.audited("password_change", obj) as entry:
            await self.save_password(obj, form.password1.data)
            ended, revoked = await obj.end_access(self.db)
            entry.changes = {"password": {"before": REDACTED, "after": REDACTED}}
            entry.detail = (f"set in the admin by {self.current_user.username}; "
                            f"{ended} session(s) ended, {revoked} API token(s) revoked")
        self.flash(self.ngettext(
            "The password of “%(name)s” was set; %(count)d session of theirs ended and "
            "%(tokens)d API token(s) revoked.",
            "The password of “%(name)s” was set; %(count)d sessions of theirs ended and "
            "%(tokens)d API token(s) revoked.", ended) % {
                "name": obj.username, "count": ended, "tokens": revoked})
        self.redirect(self.model_admin.object_url(obj, "change/"), status=303)

    async def save_password(self, user, raw):
        async with password_slots(self.application):
            for _attempt in range(3):
                await user.set_password(raw, validate=False)    # validated by the form
                try:
                    return await user.save(db=self.db)
                except StaleObjectError:        # saved by someone else meanwhile: redo
                    await user.reload(db=self.db)
        raise HTTPError(409, self.gettext("The user was changed meanwhile; try again."))
