"""Export and import pages: ``/admin/<app>/<model>/export/`` and ``.../import/``.

* Export (GET, needs ``export`` and ``read``): the *current filtered list* — the
  list's search, filters, date drill-down and sort (``ChangeList``), every page — as
  CSV or JSON lines (``core.admin.transfer``), streamed in keyset batches of
  ``EXPORT_BATCH`` objects (constant memory), only objects the user may read and
  only the columns ``ModelAdmin.get_export_fields`` names, without the sub-document
  parts a dotted ``exclude`` names (``lines.unit_price``: as the detail page and the
  API, ``without_excluded_parts``). One audit entry
  (``export``) says who exported what.
* Export selected (POST from the list's form, same permission): exactly the rows ticked
  on the list (``_selected_action``, at most ``MAX_SELECTED``) that the user may read,
  in the list's default order, in the same formats; audited the same way.
* Import (GET form, POST preview, POST apply; needs ``write``): a CSV or JSON lines
  file in the export's format; the preview validates every row with the model's
  fields and rules (and references against what the user may read); applying
  creates every row or none, each with its audit entry (``create``), through the
  admin's save hooks. ``id`` and ``version`` columns are ignored (every row is a new
  object), as are columns of fields the form does not write (read-only, automatic).
"""
import asyncio
import contextvars
import datetime
import os

from bson import ObjectId

from core.handlers.base import HTTPError
from core.models import fields as model_fields
from core.models.errors import ValidationError
from core.permissions import PermissionDenied

from .. import pagination, transfer
from ..changelist import BadListArguments

from .base import ModelHandler
from .object import defaults_at, nested_paths, without_excluded_parts

__all__ = ["EXPORT_BATCH", "ExportHandler", "ImportHandler"]

#: objects read per query while exporting
EXPORT_BATCH = 500
IGNORED_COLUMNS = ("id", "version")


class ExportHandler(ModelHandler):
    """``GET /admin/<app>/<model>/export/?format=csv|jsonl&<list arguments>``."""

    action = "export"
    needs_read = True

    def list_arguments(self):
        """The list's query arguments (``format`` aside; ``cursor`` and ``per_page`` are
        dropped: an export holds every page)."""
        args = {name: self.get_query_argument(name) for name in self.request.query_arguments
                if name not in ("format", "cursor", "per_page")}
        return args

    async def get(self):
        kind = self.export_format(self.get_query_argument("format", "csv"))
        changelist = self.export_changelist(self.list_arguments())
        flt = await changelist.get_filter()
        await self.stream(kind, flt, changelist.sort, self.describe(kind, changelist))

    async def post(self):
        """Export selected: the ticked rows of the list form, nothing else."""
        kind = self.export_format(self.get_body_argument("format", "csv"))
        ids = self.selected_ids()
        if not ids:
            raise HTTPError(400, self.gettext("Select some items to export first."))
        changelist = self.export_changelist({})
        flt = await changelist.get_filter()
        selected = {"_id": {"$in": ids}}
        await self.stream(kind, {"$and": [flt, selected]} if flt else selected,
                          changelist.sort, f"{kind}: {len(ids)} selected")

    def export_format(self, kind):
        if kind not in transfer.FORMATS:
            raise HTTPError(400, self.gettext("Choose the format: csv or jsonl."))
        return kind

    def export_changelist(self, args):
        try:
            return self.model_admin.get_changelist(
                self, args, secret=self.application.settings["cookie_secret"])
        except BadListArguments as exc:
            raise HTTPError(400, str(exc)) from None

    async def stream(self, kind, flt, sort, detail):
        """Audit the export (``detail``), then write every object of ``flt`` the user may
        read, in ``sort`` order, ``EXPORT_BATCH`` at a time."""
        names = self.model_admin.get_export_fields(self)
        content_type, extension = transfer.FORMATS[kind]
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M")
        self.set_header("Content-Type", content_type)
        self.set_header("Content-Disposition", f'attachment; filename="'
                        f'{self.opts.app_label}-{self.opts.model_name}-{stamp}.{extension}"')
        await self.audit("export", detail=detail)
        fields = self.opts.fields
        row = transfer.csv_row if kind == "csv" else transfer.jsonl_row
        if kind == "csv":
            self.write(transfer.csv_header(["id"] + names))
        position = None
        while True:
            page = await pagination.fetch_page(self.model, self.db, flt, sort,
                                               position, EXPORT_BATCH, None)
            self.write("".join(row(fields, names, without_excluded_parts(self.model_admin, obj))
                               for obj in page.objects
                               if self.model_admin.may(self, "read", obj)))
            await self.flush()
            if not page.has_next or not page.objects:
                break
            position = pagination.Position(pagination.sort_values(
                page.objects[-1].to_bson(), sort), "next")
        self.finish()

    def describe(self, kind, changelist):
        """The audit entry's detail: the format and the list arguments."""
        args = changelist.query_args(cursor=None, per_page=None)
        shown = ", ".join(f"{name}={value}" for name, value in sorted(args.items()))
        return f"{kind}{': ' + shown if shown else ' (the whole list)'}"[:500]


class ImportHandler(ModelHandler):
    """``/admin/<app>/<model>/import/``: upload, preview with per-row errors, apply."""

    action = "write"
    template = "admin/import.html"

    def get(self):
        self.render_page()

    def render_page(self, rows=None, error=None, payload="", kind="csv", ignored=(),
                    status=None):
        if status is not None:
            self.set_status(status)
        self.render(self.template, rows=rows, error=error, payload=payload, kind=kind,
                    ignored=list(ignored), columns=self.import_fields(),
                    max_rows=self.max_rows(),
                    valid=rows is not None and not any(r["errors"] for r in rows))

    def max_rows(self):
        return int(self.config.get("IMPORT_MAX_ROWS") or 1000)

    def import_fields(self):
        """The fields an import writes: those the add form writes."""
        admin = self.model_admin
        readonly = set(admin.get_readonly_fields(self, None))
        fields = self.opts.fields
        return [name for name in admin.get_fields(self, None)
                if name in fields and name not in readonly and name not in admin.exclude
                and getattr(fields[name], "editable", True)
                and not getattr(fields[name], "hidden", False)]

    def uploaded(self):
        """``(text, kind)`` from the uploaded file, or from the preview's hidden copy."""
        files = self.request.files.get("file") or []
        kind = self.get_body_argument("format", "") or ""
        if files:
            upload = files[0]
            extension = os.path.splitext(upload.get("filename") or "")[1].lower().lstrip(".")
            kind = kind or ("jsonl" if extension in ("jsonl", "ndjson", "json") else "csv")
            body = upload.get("body") or b""
        else:
            body = self.get_body_argument("payload", "").encode("utf-8")
            kind = kind or "csv"
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise transfer.ImportFileError(self.gettext("The file is not UTF-8 text.")) from None
        if not text.strip():
            raise transfer.ImportFileError(self.gettext("Choose a file to import."))
        return text, kind

    async def post(self):
        try:
            text, kind = self.uploaded()
            # in a copy of this context: the thread's messages in the request's language
            rows = await asyncio.get_running_loop().run_in_executor(
                None, contextvars.copy_context().run, transfer.parse_rows, text, kind,
                self.max_rows())
            checked, ignored = await self.check_rows(rows)
        except transfer.ImportFileError as exc:
            return self.render_page(error=str(exc), status=400)
        if any(row["errors"] for row in checked) or self.get_body_argument("_apply", None) \
                is None:
            return self.render_page(rows=checked, payload=text, kind=kind, ignored=ignored,
                                    status=400 if any(r["errors"] for r in checked) and
                                    self.get_body_argument("_apply", None) is not None
                                    else None)
        error = await self.apply([row["object"] for row in checked])
        if error:
            return self.render_page(rows=checked, payload=text, kind=kind, ignored=ignored,
                                    error=error, status=409)
        self.flash(self.gettext("Imported %(objects)s.") % {
            "objects": self.count_noun(len(checked))})
        self.redirect(self.model_admin.url_prefix, status=303)

    def count_noun(self, count):
        noun = self.opts.verbose_name if count == 1 else self.opts.verbose_name_plural
        return f"{count} {noun}"

    async def check_rows(self, rows):
        """``([{"line", "values", "errors", "object"}], ignored columns)``: every row built
        into an unsaved object and validated; references must name readable objects,
        unique values must be free (in the database and in the file)."""
        writable = self.import_fields()
        fields = self.opts.fields
        columns = list(dict.fromkeys(name for _line, data in rows for name in data))
        unknown = [name for name in columns if name not in fields and
                   name not in IGNORED_COLUMNS]
        if unknown:
            raise transfer.ImportFileError(
                self.gettext("Unknown column %(column)s; the columns are %(columns)s.") % {
                    "column": repr(unknown[0][:100]),
                    "columns": ", ".join(["id"] + list(writable))})
        ignored = [name for name in columns if name not in writable]
        admin = self.model_admin          # dotted read-only / excluded parts: their defaults
        frozen = nested_paths(list(admin.get_readonly_fields(self, None)) +
                              list(admin.exclude))
        checked = []
        for line, data in rows:
            obj, errors = self.model(), {}
            for name in writable:
                raw = data.get(name)
                if raw is None or raw == "":
                    continue
                try:
                    obj._data[name] = defaults_at(fields[name].to_python(raw),
                                                  frozen.get(name, []))
                except ValidationError as exc:
                    errors[name] = exc.message
            try:
                obj.clean()
            except ValidationError as exc:
                for name, message in exc.errors.items():
                    errors.setdefault(name, message)
            checked.append({"line": line, "values": [(name, data.get(name, ""))
                                                     for name in writable],
                            "errors": errors, "object": obj})
        await self.check_references(checked, writable)
        await self.check_unique(checked, writable)
        return checked, ignored

    async def check_references(self, checked, writable):
        for name in writable:
            field = self.opts.fields[name]
            if not isinstance(field, model_fields.ReferenceField):
                continue
            ids = {row["object"]._data.get(name) for row in checked} - {None}
            readable = {obj.id for obj in await self.readable_objects(
                field.target, {"_id": {"$in": list(ids)}})} if ids else set()
            for row in checked:
                value = row["object"]._data.get(name)
                if isinstance(value, ObjectId) and value not in readable:
                    row["errors"].setdefault(name, self.gettext(
                        "Select a valid choice; that object does not exist."))

    async def check_unique(self, checked, writable):
        for name in writable:
            field = self.opts.fields[name]
            if not getattr(field, "unique", False):
                continue
            values = [row["object"]._data.get(name) for row in checked]
            present = [v for v in values if v is not None]
            taken = {obj._data.get(name) for obj in await self.model.find(
                {name: {"$in": present}}, db=self.db).to_list(None)} if present else set()
            seen = set()
            for row, value in zip(checked, values):
                if value is None:
                    continue
                if value in taken:
                    model = str(self.opts.verbose_name)
                    row["errors"].setdefault(name, self.gettext(
                        "%(model)s with this %(fields)s already exists.") % {
                        "model": model[:1].upper() + model[1:], "fields": field.verbose_name})
                elif value in seen:
                    row["errors"].setdefault(name, self.gettext("The file holds this value twice."))
                seen.add(value)

    async def apply(self, objects):
        """Save every object (admin hooks, audit entries); if one is refused, delete the
        ones already saved (each with its audit entry) and return why, else ``None``."""
        saved = []
        for position, obj in enumerate(objects, start=1):
            obj._db = self.db
            try:
                await self.save_object(obj, None, change=False)
            except (ValidationError, PermissionDenied) as exc:
                message = "; ".join(f"{k}: {v}" for k, v in exc.errors.items()) \
                    if isinstance(exc, ValidationError) else str(exc)
                await self.roll_back(saved)
                return self.gettext("Row %(row)d was refused (%(reason)s); nothing was "
                                    "imported.") % {"row": position, "reason": message}
            saved.append(obj)
        return None

    async def roll_back(self, saved):
        for obj in reversed(saved):
            async with self.audited("delete", obj, detail="import rolled back") as entry:
                before = self.snapshot(obj)
                await obj.delete(db=self.db)
                entry.changes = self.diff(before, {})
