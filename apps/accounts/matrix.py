"""``/admin/accounts/matrix/``: who may do what, and why — the admin's permission matrix.

One row per subject (user or role), model and action the engine allows, with its reach
(``all`` or the scope names) and every source (``apps.accounts.permtable``, the rows
``manage.py permmatrix`` prints). Filters: ``?model=``, ``?user=`` (a username),
``?role=`` (the role's rows and those of the users holding it); ``?format=csv``
downloads the rows shown. Gated like the users list: ``read`` on ``accounts.user``;
users come within the user admin's row scope, and role rows only for those who may
read ``accounts.role`` (seeing is reading). At most ``MATRIX_SUBJECTS`` users and roles.
"""
from urllib.parse import urlencode

from core.admin.handlers import ModelHandler
from core.handlers.base import HTTPError

from .handlers import UserAdminRoute
from .models import Role, User
from .permtable import COLUMNS, load_subjects, matrix_rows, reach_text, rows_as, sources_text

MATRIX_PATH = r"/admin/accounts/matrix/"
MATRIX_SUBJECTS = 500

__all__ = ["MATRIX_PATH", "PermissionMatrixHandler"]


class PermissionMatrixHandler(UserAdminRoute, ModelHandler):
    """GET the matrix page (or its CSV with ``?format=csv``); ``read`` on ``accounts.user``."""

    action = "read"
    template = "admin/accounts/permission_matrix.html"

    def may_read_roles(self):
        admin = self.site.get(Role._meta.key) if self.site is not None else None
        return admin is not None and admin.may(self, "read")

    async def get_rows(self, model, user, role):
        """The rows the filters select, within what this user may read."""
        readable = await self.readable_objects(User, limit=MATRIX_SUBJECTS)
        names = {u.username for u in readable}
        subjects = await load_subjects(self.registry, db=self.db, limit=MATRIX_SUBJECTS,
                                       roles=self.may_read_roles())
        holders = {u.username for u in readable if role and role in (u.roles or [])}
        chosen = [(kind, name, perms) for kind, name, perms in subjects
                  if (kind == "role" or name in names)
                  and (not user or (kind == "user" and name == user))
                  and (not role or name in holders or (kind == "role" and name == role))]
        return matrix_rows(chosen, model or None)

    async def get(self):
        model = self.get_query_argument("model", "").strip().lower()
        user = self.get_query_argument("user", "").strip()
        role = self.get_query_argument("role", "").strip()
        fmt = self.get_query_argument("format", "html")
        if fmt not in ("html", "csv"):
            raise HTTPError(400, self.gettext("format is html or csv."))
        models = sorted(self.site.admins) if self.site is not None else []
        if model and model not in models:
            raise HTTPError(400, self.gettext("There is no model %(model)s.") % {
                "model": model[:100]})
        rows = await self.get_rows(model, user[:150], role[:150])
        if fmt == "csv":
            self.set_header("Content-Type", "text/csv; charset=UTF-8")
            self.set_header("Content-Disposition",
                            'attachment; filename="permission-matrix.csv"')
            self.finish(rows_as(rows, "csv") + "\n")
            return
        roles = [r.name for r in await Role.find({}, sort=["name"], limit=MATRIX_SUBJECTS,
                                                 db=self.db).to_list(None)] \
            if self.may_read_roles() else []
        query = urlencode([(k, v) for k, v in (("model", model), ("user", user),
                                               ("role", role)) if v])
        self.render(self.template, rows=rows, columns=COLUMNS, models=models, roles=roles,
                    model=model, user=user, role=role, reach_text=reach_text,
                    sources_text=sources_text,
                    csv_url=f"{MATRIX_PATH}?{query + '&' if query else ''}format=csv")
