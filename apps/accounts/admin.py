"""Users and roles in the admin (imported by the registry once apps load).

The generic pages serve both models; what is special is declared here:

* the forms (``apps.accounts.forms``): a permission matrix for the direct
  permissions of a user and the permissions of a role, roles as checkboxes, a
  password and its confirmation on the add-user form only (an existing user's
  password is set on its own page, ``/admin/accounts/user/<id>/password/``);
* no escalation: someone who is not a superuser cannot grant a permission they
  do not hold (directly, or through a role they add to a user or edit), cannot
  make anyone a superuser, and cannot change or delete a superuser — checked in
  ``save_model``, so every page that saves goes through it;
* the audit log gets ``permission_change`` and ``role_change`` entries (with
  before/after) besides the generic ``create``/``update``/``delete``.
"""
from core.admin import ModelAdmin, register
from core.models import ValidationError
from core.models.errors import NON_FIELD_ERRORS, StaleObjectError
from core.permissions import GrantError, validate_grant

from . import forms
from .handlers import (RoleCreateHandler, RoleDetailHandler, RoleUpdateHandler,
                       UserCreateHandler, UserDetailHandler, UserUpdateHandler)
from .models import Role, User


def _grants_added(before, after):
    """``{key: [actions]}`` in ``after`` and not in ``before``."""
    added = {}
    for key, actions in (after or {}).items():
        new = [a for a in actions if a not in (before or {}).get(key, ())]
        if new:
            added[key] = new
    return added


def _editor_grantable(handler):
    """The editor's ``Permissions`` when their grants limit what they may grant, else None."""
    perms = handler.permissions
    return None if perms.is_superuser else perms


async def _audit(handler, action, obj, changes, detail):
    audit = getattr(handler, "audit", None)
    if audit is None or not changes:
        return
    admin_for = getattr(handler, "admin_for", None)
    model_admin = admin_for(type(obj)) if admin_for is not None else None
    await audit(action, obj=obj, changes=changes, detail=detail, model_admin=model_admin)


class AccountsAdmin(ModelAdmin):
    """What users and roles share: the escalation check on granted permissions."""

    def check_granted_permissions(self, handler, before, after, errors):
        """Refuse new grants of unknown models or actions, and grants the editor does not
        hold (superusers may grant anything that exists). Stored grants stay as they are."""
        added = _grants_added(before, after)
        unknown = []
        for key, actions in added.items():     # any channel: the form, the JSON API...
            try:
                validate_grant(handler.registry, key, actions)
            except GrantError as exc:
                unknown.append(str(exc))
        if unknown:
            text = "; ".join(unknown)
            errors["permissions"] = f"{text[:1].upper()}{text[1:]}."
            return
        grantable = _editor_grantable(handler)
        if grantable is None or not added:
            return
        missing = forms.not_held(grantable, added)
        if missing:
            errors["permissions"] = ("You cannot grant permissions you do not hold: "
                                     f"{forms.describe_grants(missing)}.")

    @staticmethod
    def permission_changes(before, after):
        if before == after:
            return None
        return {"permissions": {"before": before or {}, "after": after or {}}}


@register(User)
class UserAdmin(AccountsAdmin):
    list_display = ["username", "email", "is_active", "is_superuser", "last_login"]
    search_fields = ["username", "email"]
    list_filter = ["is_active", "is_superuser"]
    ordering = ["username"]
    fields = ["username", "email", "is_active", "is_superuser", "roles", "permissions",
              "last_login", "date_joined"]

    create_handler = UserCreateHandler
    update_handler = UserUpdateHandler
    detail_handler = UserDetailHandler

    def password_url(self, obj):
        return self.object_url(obj, "password/")

    def get_fields(self, handler, obj=None):
        names = super().get_fields(handler, obj)
        if obj is None or not getattr(obj, "_persisted", False):
            names = [n for n in names if n not in ("last_login", "date_joined")]
        return names

    def get_readonly_fields(self, handler, obj=None):
        readonly = ["last_login", "date_joined"]
        if not handler.permissions.is_superuser:
            readonly.insert(0, "is_superuser")      # shown as text, never written
        return readonly

    def get_form_class(self, handler, obj=None):
        adding = obj is None or not getattr(obj, "_persisted", False)
        choices, locked = getattr(handler, "role_choices", None) or ([], set())
        return forms.user_form(self.model, self.get_fields(handler, obj),
                               self.get_readonly_fields(handler, obj),
                               registry=handler.registry,
                               grantable=_editor_grantable(handler), roles=choices,
                               locked_roles=locked, adding=adding)

    def has_object_permission(self, handler, action, obj):
        """Only superusers change or delete a superuser (superusers bypass this rule)."""
        return action == "read" or not obj.is_superuser

    async def check_escalation(self, handler, obj, before, errors):
        """Fill ``errors`` if a save would raise anyone's permissions beyond the editor's
        own (superusers may grant anything that exists)."""
        superuser = handler.permissions.is_superuser
        self.check_granted_permissions(handler, before.permissions if before else {},
                                       obj.permissions, errors)
        old_roles = list(before.roles) if before else []
        added = [name for name in obj.roles if name not in old_roles]
        loaded = await Role.load(added, db=handler.db) if added else {}
        problems = [f"there is no role {name!r}" for name in added if name not in loaded]
        if not superuser:
            for name in added:
                missing = forms.not_held(handler.permissions, loaded.get(name))
                if missing:
                    problems.append(f"the role {name!r} grants permissions you do not hold "
                                    f"({forms.describe_grants(missing)})")
        if problems:
            errors["roles"] = "You cannot add these roles: " + "; ".join(problems) + "."
        if superuser:
            return
        if before is not None and before.is_superuser:
            errors[NON_FIELD_ERRORS] = "Only superusers may change a superuser."
        posted_superuser = bool(getattr(handler, "request", None) is not None and
                                handler.request.body_arguments.get("is_superuser"))
        if posted_superuser or obj.is_superuser != (before.is_superuser if before else False):
            errors["is_superuser"] = "Only superusers may make someone a superuser."
            obj.is_superuser = before.is_superuser if before else False

    async def save_model(self, handler, obj, form, change):
        before = await User.get(obj.id, db=handler.db) if change and obj.id else None
        errors = {}
        await self.check_escalation(handler, obj, before, errors)
        if errors:
            raise ValidationError(errors)
        if not change:
            password = getattr(getattr(form, "password1", None), "data", None)
            if password:
                await obj.set_password(password, validate=False)   # validated by the form
        await obj.save(db=handler.db)
        if before is not None and before.is_active and not obj.is_active:
            await obj.end_sessions(handler.db)        # as manage.py deactivate does
        old_perms = before.permissions if before else {}
        await _audit(handler, "permission_change", obj,
                     self.permission_changes(old_perms, obj.permissions),
                     "admin: the user's direct permissions")
        old_roles = list(before.roles) if before else []
        if old_roles != list(obj.roles):
            await _audit(handler, "role_change", obj,
                         {"roles": {"before": old_roles, "after": list(obj.roles)}},
                         "admin: the user's roles")


@register(Role)
class RoleAdmin(AccountsAdmin):
    list_display = ["name", "description", "model_count"]
    search_fields = ["name", "description"]
    ordering = ["name"]
    fields = ["name", "description", "permissions"]

    create_handler = RoleCreateHandler
    update_handler = RoleUpdateHandler
    detail_handler = RoleDetailHandler

    def model_count(self, obj):
        return str(len(obj.permissions or {}))
    model_count.short_description = "Models"

    def get_readonly_fields(self, handler, obj=None):
        """A role's name is fixed once created: users hold their roles by name."""
        if obj is not None and getattr(obj, "_persisted", False):
            return ["name"]
        return []

    def get_form_class(self, handler, obj=None):
        return forms.role_form(self.model, self.get_fields(handler, obj),
                               self.get_readonly_fields(handler, obj),
                               registry=handler.registry, grantable=_editor_grantable(handler))

    async def save_model(self, handler, obj, form, change):
        before = await Role.get(obj.id, db=handler.db) if change and obj.id else None
        old_perms = before.permissions if before else {}
        errors = {}
        self.check_granted_permissions(handler, old_perms, obj.permissions, errors)
        if errors:
            raise ValidationError(errors)
        await obj.save(db=handler.db)
        if not change:
            await _audit(handler, "role_change", obj,
                         {"name": {"before": None, "after": obj.name},
                          "permissions": {"before": {}, "after": obj.permissions}},
                         "admin: role created")
        else:
            await _audit(handler, "permission_change", obj,
                         self.permission_changes(old_perms, obj.permissions),
                         "admin: the role's permissions (every holder's next request)")

    async def delete_model(self, handler, obj):
        """Delete the role and take it from every user holding it (audited per user)."""
        holders = await User.find({"roles": obj.name}, db=handler.db).to_list(None)
        await obj.delete(db=handler.db)
        await _audit(handler, "role_change", obj,
                     {"name": {"before": obj.name, "after": None},
                      "permissions": {"before": obj.permissions, "after": {}}},
                     "admin: role deleted")
        for user in holders:
            old_roles = list(user.roles)
            for _attempt in range(3):
                user.roles = [name for name in user.roles if name != obj.name]
                try:
                    await user.save(db=handler.db)
                    break
                except StaleObjectError:       # changed meanwhile: redo on the fresh copy
                    await user.reload(db=handler.db)
            await _audit(handler, "role_change", user,
                         {"roles": {"before": old_roles, "after": list(user.roles)}},
                         f"admin: role {obj.name!r} deleted")
