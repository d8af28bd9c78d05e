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
* no take-over: on a user who is *stronger* than the editor (a superuser, or whose
  stored grants — direct and every role's, active or not — hold anything the
  editor lacks) a non-superuser cannot change the username, email or active
  status, set the password, or delete; ``object_refusal`` answers the pages and
  bulk actions, ``save_model`` every channel that saves (forms, bulk, API);
* no stripping: grants and roles the editor does not hold are kept as stored
  whatever a form or API body says (``keep_unheld``);
* nobody deactivates or deletes their own account, and nobody deletes, deactivates
  or demotes the last active superuser;
* the audit log gets ``permission_change`` and ``role_change`` entries (with
  before/after) besides the generic ``create``/``update``/``delete``.
"""
from core.admin import ModelAdmin, action, register
from core.i18n import gettext_lazy as _l
from core.models import ValidationError
from core.models.errors import NON_FIELD_ERRORS, StaleObjectError
from core.permissions import (GrantError, PermissionDenied, describe_grants, merge_permissions,
                              validate_grant)

from . import forms
from .handlers import (RoleCreateHandler, RoleDetailHandler, RoleUpdateHandler,
                       UserCreateHandler, UserDetailHandler, UserUpdateHandler)
from .models import Role, User


def _grants_added(before, after):
    """``{key: [entries]}`` of ``after`` that widen ``before``: new entries, and every grant
    of a model whose field restriction (``-read:notes``) was removed — each with the
    restrictions ``after`` keeps on that model, which ``Permissions.lacks`` reads."""
    added = {}
    for key, actions in (after or {}).items():
        old = set((before or {}).get(key, ()))
        unrestricted = any(a.startswith("-") and a not in actions for a in old)
        new = [a for a in actions if a not in old or (unrestricted and not a.startswith("-"))]
        if new:
            added[key] = new + [a for a in actions if a.startswith("-") and a not in new]
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
        scopes = self.site.scopes() if self.site is not None else {}
        for key, actions in added.items():     # any channel: the form, the JSON API...
            try:
                validate_grant(handler.registry, key, actions, scopes=scopes)
            except GrantError as exc:
                unknown.append(str(exc))
        if unknown:
            text = "; ".join(unknown)
            errors["permissions"] = f"{text[:1].upper()}{text[1:]}."
            return
        grantable = _editor_grantable(handler)
        if grantable is None or not added:
            return
        missing = grantable.lacks(added)
        if missing:
            errors["permissions"] = ("You cannot grant permissions you do not hold: "
                                     f"{describe_grants(missing)}.")

    def site_scopes(self):
        """``{model key: [scope names]}`` grants may name (``AdminSite.scopes``)."""
        return self.site.scopes() if self.site is not None else {}

    @staticmethod
    def keep_unheld(handler, obj, before):
        """Put back the stored grants the editor does not hold (they are not the editor's
        to remove, whatever the form or the API body says)."""
        kept = handler.permissions.lacks(before.permissions if before else {})
        if kept:
            obj.permissions = merge_permissions(obj.permissions or {}, kept)

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
    actions = ["delete_selected", "deactivate_selected", "activate_selected"]
    #: what a non-superuser may not change on a stronger user (taking the account over)
    account_fields = ("username", "email", "is_active")

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
        if getattr(handler, "account_locked", False):
            readonly[:0] = list(self.account_fields)
        return readonly

    def get_form_class(self, handler, obj=None):
        adding = obj is None or not getattr(obj, "_persisted", False)
        choices, locked = getattr(handler, "role_choices", None) or ([], set())
        return forms.user_form(self.model, self.get_fields(handler, obj),
                               self.get_readonly_fields(handler, obj),
                               registry=handler.registry, scopes=self.site_scopes(),
                               grantable=_editor_grantable(handler), roles=choices,
                               locked_roles=locked, adding=adding)

    def has_object_permission(self, handler, action, obj):
        """Only superusers change or delete a superuser (superusers bypass this rule)."""
        return action == "read" or not obj.is_superuser

    async def takeover_refusal(self, handler, user):
        """Why the editor may not take ``user`` over (change their username, email or
        active status, set their password, delete them), or ``None``.

        A superuser may; a non-superuser may not when ``user`` is a superuser or
        holds, by its *stored* grants (direct and every role's, active or not),
        anything the editor lacks. Computed once per user and request.
        """
        if handler.permissions.is_superuser or user.id is None:
            return None
        cache = handler.__dict__.setdefault("_takeover_refusals", {})
        key = (user.id, user.version)
        if key not in cache:
            if user.is_superuser:
                cache[key] = "This user is a superuser: only superusers may change them."
            else:
                missing = handler.permissions.lacks(await user.stored_grants(db=handler.db))
                cache[key] = None if not missing else (
                    "This user holds permissions you do not hold "
                    f"({describe_grants(missing)}): only someone who holds them may "
                    "change their username, email, active status or password, or delete "
                    "them.")
        return cache[key]

    async def object_refusal(self, handler, action, obj):
        """Deleting: never yourself, never the last active superuser, never a stronger
        user; setting a password (``"password"``): never a stronger user."""
        if action == "delete":
            if obj.id == getattr(handler.current_user, "id", None):
                return "You cannot delete your own account."
            if await obj.is_last_active_superuser(db=handler.db):
                return "This is the last active superuser; it cannot be deleted."
        if action in ("delete", "password"):
            return await self.takeover_refusal(handler, obj)
        return None

    async def check_account_change(self, handler, obj, before, errors):
        """Refuse a take-over (``PermissionDenied``), deactivating yourself, and
        deactivating or demoting the last active superuser (``errors``)."""
        changed = [name for name in self.account_fields
                   if getattr(obj, name) != getattr(before, name)]
        if changed:
            refusal = await self.takeover_refusal(handler, before)
            if refusal:
                raise PermissionDenied(refusal, model_key=self.key, action="write")
        me = getattr(handler.current_user, "id", None)
        if before.id == me and before.is_active and not obj.is_active:
            errors["is_active"] = "You cannot deactivate your own account."
        elif (before.is_superuser and before.is_active
              and not (obj.is_superuser and obj.is_active)
              and await before.is_last_active_superuser(db=handler.db)):
            name = "is_active" if not obj.is_active else "is_superuser"
            errors[name] = ("This is the last active superuser: make another user an "
                            "active superuser first.")

    async def keep_unheld_roles(self, handler, obj, before):
        """Put back the stored roles granting something the editor does not hold."""
        if handler.permissions.is_superuser:
            return
        removed = [name for name in before.roles if name not in obj.roles]
        if not removed:
            return
        loaded = await Role.load(removed, db=handler.db)
        kept = [name for name in removed
                if name in loaded and handler.permissions.lacks(loaded[name])]
        if kept:
            obj.roles = list(obj.roles) + kept

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
                missing = handler.permissions.lacks(loaded.get(name))
                if missing:
                    problems.append(f"the role {name!r} grants permissions you do not hold "
                                    f"({describe_grants(missing)})")
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
        if before is not None:
            self.keep_unheld(handler, obj, before)
            await self.keep_unheld_roles(handler, obj, before)
            await self.check_account_change(handler, obj, before, errors)
        await self.check_escalation(handler, obj, before, errors)
        if errors:
            raise ValidationError(errors)
        if not change:
            password = getattr(getattr(form, "password1", None), "data", None)
            if password:
                await obj.set_password(password, validate=False)   # validated by the form
        await obj.save(db=handler.db)
        if before is not None and before.is_active and not obj.is_active:
            await obj.end_access(handler.db)          # as manage.py deactivate does
        old_perms = before.permissions if before else {}
        await _audit(handler, "permission_change", obj,
                     self.permission_changes(old_perms, obj.permissions),
                     "admin: the user's direct permissions")
        old_roles = list(before.roles) if before else []
        if old_roles != list(obj.roles):
            await _audit(handler, "role_change", obj,
                         {"roles": {"before": old_roles, "after": list(obj.roles)}},
                         "admin: the user's roles")

    async def delete_model(self, handler, obj):
        """Delete the user (the rules of ``object_refusal`` hold on every channel) and end
        their sessions and API tokens."""
        refusal = await self.object_refusal(handler, "delete", obj)
        if refusal:
            raise PermissionDenied(refusal, model_key=self.key, action="delete")
        await obj.delete(db=handler.db)
        await obj.end_access(handler.db)

    async def set_active(self, handler, users, active):
        for user in users:
            if user.is_active != active:
                user.is_active = active
                await self.save_model(handler, user, None, True)
        return None

    @action(permission="write", label=_l("Deactivate selected users"))
    async def deactivate_selected(self, handler, users):
        """Deactivate each user (sessions and API tokens end), under the save rules."""
        return await self.set_active(handler, users, False)

    @action(permission="write", label=_l("Activate selected users"))
    async def activate_selected(self, handler, users):
        """Activate each user (no API token comes back), under the save rules."""
        return await self.set_active(handler, users, True)


@register(Role)
class RoleAdmin(AccountsAdmin):
    list_display = ["name", "description", "model_count"]
    list_fields = ["permissions"]      # model_count counts them
    search_fields = ["name", "description"]
    ordering = ["name"]
    fields = ["name", "description", "permissions"]

    create_handler = RoleCreateHandler
    update_handler = RoleUpdateHandler
    detail_handler = RoleDetailHandler

    def model_count(self, obj):
        return str(len(obj.permissions or {}))
    model_count.short_description = _l("Models")

    def get_readonly_fields(self, handler, obj=None):
        """A role's name is fixed once created: users hold their roles by name."""
        if obj is not None and getattr(obj, "_persisted", False):
            return ["name"]
        return []

    def get_form_class(self, handler, obj=None):
        return forms.role_form(self.model, self.get_fields(handler, obj),
                               self.get_readonly_fields(handler, obj),
                               registry=handler.registry, grantable=_editor_grantable(handler),
                               scopes=self.site_scopes())

    async def save_model(self, handler, obj, form, change):
        before = await Role.get(obj.id, db=handler.db) if change and obj.id else None
        old_perms = before.permissions if before else {}
        self.keep_unheld(handler, obj, before)
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

    async def object_refusal(self, handler, action, obj):
        """A non-superuser may not delete a role granting anything they do not hold
        (that would strip those grants from every holder)."""
        if action == "delete" and handler.permissions.lacks(obj.permissions):
            return ("This role grants permissions you do not hold "
                    f"({describe_grants(handler.permissions.lacks(obj.permissions))})"
                    ": only someone who holds them may delete it.")
        return None

    async def delete_model(self, handler, obj):
        """Delete the role and take it from every user holding it (audited per user)."""
        refusal = await self.object_refusal(handler, "delete", obj)
        if refusal:
            raise PermissionDenied(refusal, model_key=self.key, action="delete")
        holders = await User.find({"roles": obj.name}, db=handler.db).to_list(None)
        await obj.delete(db=handler.db)
        await _audit(handler, "role_change", obj,
                     {"name": {"before": obj.name, "after": None},
                      "permissions": {"before": obj.permissions, "after": {}}},
                     "admin: role deleted")
        user_admin = handler.admin_for(User)
        for user in holders:
            old_roles = list(user.roles)
            async with handler.audited("role_change", user, model_admin=user_admin) as entry:
                for _attempt in range(3):
                    user.roles = [name for name in user.roles if name != obj.name]
                    try:
                        await user.save(db=handler.db)
                        break
                    except StaleObjectError:   # changed meanwhile: redo on the fresh copy
                        await user.reload(db=handler.db)
                entry.changes = {"roles": {"before": old_roles, "after": list(user.roles)}}
                entry.detail = f"admin: role {obj.name!r} deleted"
