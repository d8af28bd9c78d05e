"""``/admin/<app>/<model>/``: the list (a ``ChangeList``), its filter sidebar and the bulk
actions posted to it."""
import datetime
import html
import logging
from urllib.parse import urlencode

from bson import ObjectId
from tornado.escape import xhtml_escape

from core.handlers.base import HTTPError
from core.i18n import gettext
from core.models import fields as model_fields
from core.models.base import parse_id
from core.models.errors import StaleObjectError, ValidationError
from core.models.files import FileField
from core.models.projected import NotFetched
from core.permissions import PermissionDenied

from .. import related
from .base import MAX_SELECTED, ModelHandler
from .display import Cell, format_value, is_hidden, missing_label, moment_formatter
from .display import _escape as escape


__all__ = ["ListHandler"]

log = logging.getLogger(__name__)


class ListHandler(ModelHandler):
    """``/admin/<app>/<model>/``: search, filters, sorting, keyset pages, bulk actions.

    GET needs ``read``; a POST (bulk action) needs ``read`` and the chosen action's own
    permission, and each selected object must pass ``may(self, permission, obj)`` and
    the admin's ``object_refusal``. Each object is done on its own: its change and its
    audit entry succeed or fail together, and an object changed meanwhile (stale) or
    refused by the action is skipped and reported, never a half-done 500.
    """

    action = "read"
    needs_read = True
    template = "admin/list.html"
    confirm_template = "admin/bulk_confirm.html"
    bulk = None
    changelist = None

    # -- permission for POST: the bulk action's own ----------------------------------------
    def required_action(self):
        if self.request.method != "POST":
            return self.action
        if self.get_body_argument("_save_list", None) is not None:
            if not self.model_admin.get_list_editable(self):
                raise HTTPError(400, self.gettext("This list has no editable columns."))
            return "write"
        name = self.get_body_argument("action", "")
        offered = self.model_admin.get_actions(self)
        if name not in offered:
            if name in self.model_admin.actions:
                raise HTTPError(403, self.gettext("You may not use the action %(name)r.")
                                % {"name": name})
            raise HTTPError(400, self.gettext("Choose an action from the list."))
        self.bulk = offered[name]
        return self.bulk.permission

    def url_with(self, **changes):
        return self.changelist.url_with(**changes)

    # -- the page -----------------------------------------------------------------------------
    async def get(self):
        """The page from projected objects (``ModelAdmin.get_list_fields``): a column
        method or label reading a field left out makes it fetch whole objects instead."""
        try:
            await self.show_list(self.model_admin.get_list_fields(self))
        except NotFetched as exc:
            log.debug("%s: the list fetches whole objects (name it in list_fields)", exc)
            await self.show_list(None)

    async def show_list(self, fields):
        """Fetch the page (only ``fields``; ``None``: whole objects) and render it."""
        admin = self.model_admin
        changelist = self.changelist = await self.get_changelist(fields=fields)
        q, filter_values, sort = changelist.q, changelist.filter_values, changelist.sort
        current_o, position = changelist.current_o, changelist.position
        per_page, per_page_choices = changelist.per_page, changelist.per_page_choices
        page = changelist.page
        objects = page.objects
        next_cursor, prev_cursor = page.next_cursor, page.prev_cursor    # each signs once
        next_url = self.url_with(cursor=next_cursor) if next_cursor else None
        prev_url = self.url_with(cursor=prev_cursor) if prev_cursor else None
        count_text, estimated = changelist.count_text, changelist.estimated

        columns = [name for name in admin.visible(self, admin.get_list_display(self))
                   if not is_hidden(self.opts.fields.get(name))]
        links = set(admin.get_list_display_links(self))
        references = await self.resolve_references(
            objects, [name for name in columns if isinstance(
                self.opts.fields.get(name) or self.path_field(name), model_fields.ReferenceField)])
        references.update(await related.column_values(self, objects, columns))
        may_export, may_write = admin.may(self, "export"), admin.may(self, "write")
        editable = self.editable_columns(columns, links) if may_write else []
        writers = self.column_writers(columns, references)
        actions = admin.get_actions(self)
        selectable = bool(actions) or may_export
        if columns and not editable and type(self).list_row is ListHandler.list_row and \
                all(name in writers for name in columns):
            rows = self.rows_by_column(objects, columns, links, writers)
        else:
            rows = [await self.list_row(obj, columns, links, editable, references, writers)
                    for obj in objects]
        rows_html = self.rows_html(rows, selectable)

        sortable = set(changelist.sortable_fields())
        headers = []
        primary, primary_dir = sort[0]
        for name in columns:
            header = {"name": name, "label": self.column_label(name), "url": None,
                      "sorted": None}
            if name in sortable:
                if primary == name:
                    header["sorted"] = "ascending" if primary_dir > 0 else "descending"
                    flip = f"-{name}" if primary_dir > 0 else name
                else:
                    flip = name
                header["url"] = self.url_with(o=flip, cursor=None)
            headers.append(header)

        self.render(self.template, rows=rows, rows_html=rows_html, headers=headers, q=q,
                    selectable=selectable,
                    search_enabled=bool(admin.get_search_fields(self)),
                    filters=await self.filter_sidebar(changelist),
                    date_links=await self.date_hierarchy_links(changelist),
                    actions=list(actions.values()), count_text=count_text,
                    estimated=estimated, next_url=next_url, prev_url=prev_url,
                    first_url=self.url_with(cursor=None) if position is not None else None,
                    per_page=per_page, per_page_choices=per_page_choices,
                    per_page_urls={n: self.url_with(per_page=n, cursor=None)
                                   for n in per_page_choices},
                    current_o=current_o, add_url=admin.url_prefix + "add/"
                    if may_write else None,
                    export_urls=self.export_urls(changelist) if may_export else None,
                    export_selected_url=admin.url_prefix + "export/"
                    if may_export else None,
                    list_editable=bool(editable) and any(r["version"] is not None
                                                         for r in rows),
                    import_url=admin.url_prefix + "import/" if may_write else None,
                    query_hidden=changelist.query_args(q=None, cursor=None),
                    clear_url=admin.url_prefix if (q or filter_values) else None)

    def column_writers(self, columns, references):
        """``{column: ColumnWriter}`` for the columns showing a stored field as it is
        (text, choice, moment, number, boolean, reference): the markup and the text of
        what ``cell`` answers (``Cell.html``, ``Cell.text``) from the value the object
        holds, with the field, the user's zone and language and the texts looked up once
        per page. Other columns (methods, paths, files) go through ``cell_async``, and
        every column does when a subclass refines ``cell`` or ``cell_async``."""
        if type(self).cell is not ModelHandler.cell or \
                type(self).cell_async is not ModelHandler.cell_async:
            return {}
        empty = getattr(self.model_admin, "empty_value_display", "—")
        zone, writers = self.time_zone, {}
        for name in columns:
            field = self.opts.fields.get(name)
            if field is None or isinstance(field, FileField):
                continue
            if isinstance(field, model_fields.BooleanField):
                writers[name] = _bool_writer(gettext("Yes"), gettext("No"))
            elif isinstance(field, model_fields.ReferenceField):
                writers[name] = _reference_writer(name, references, empty)
            elif isinstance(field, model_fields.DateTimeField) and field.choices is None:
                writers[name] = _text_writer(field, zone, empty, moment_formatter(zone))
            else:
                writers[name] = _text_writer(field, zone, empty)
        return writers

    async def list_row(self, obj, columns, links, editable, references, writers):
        """``{"id", "label", "version", "cells_html"}`` of ``obj``'s row: each column's
        markup (``writers``, else ``cell_async``'s ``Cell.html``: one escape per value)
        in its ``<td>``; the first cell of an editable row also carries the row's id and
        version."""
        may_edit = bool(editable) and self.model_admin.may(self, "write", obj)
        oid = str(obj.id)
        link, label = self.row_parts()
        parts = []
        for name in columns:
            writer = writers.get(name)
            if name in links:
                markup = link(obj, oid, writer.text(_value(obj, name)) if writer is not None
                              else (await self.cell_async(obj, name, references)).text)
            elif may_edit and name in editable:
                markup = self.input_cell(obj, name).html()
            elif writer is not None:
                markup = writer.html(_value(obj, name))
            else:
                markup = (await self.cell_async(obj, name, references)).html()
            if not parts and may_edit:
                parts.append(f'<td><input type="hidden" name="_list_id" value="{oid}">'
                             f'<input type="hidden" name="{oid}-_version" '
                             f'value="{xhtml_escape(str(obj.version))}">{markup}</td>')
            else:
                parts.append(f"<td>{markup}</td>")
        return {"id": oid, "label": label(obj),
                "version": obj.version if may_edit else None, "cells_html": "".join(parts)}

    def rows_by_column(self, objects, columns, links, writers):
        """What ``list_row`` answers for each of ``objects``, written column by column
        (each column's values read, then its writer's ``cells`` of them all): for a list
        without editable columns whose columns all have ``writers`` and whose handler
        keeps ``list_row``."""
        link, label = self.row_parts()
        ids = [str(obj.id) for obj in objects]
        datas = [obj._data for obj in objects]
        columns_html = []
        for name in columns:
            writer = writers[name]
            # obj._data.get(name) without a call when it holds the field (a projected
            # object's ``get`` raises ``NotFetched`` for a field left out)
            values = [data[name] if name in data else data.get(name) for data in datas]
            if name not in links:
                columns_html.append(writer.cells(values))
            elif self.__dict__.get("_link_prefix") is not None:
                prefix = self._link_prefix
                columns_html.append([
                    _object_link(prefix, oid, text) for oid, text in zip(
                        escape_each(ids), escape_each(list(map(writer.text, values))))])
            else:
                columns_html.append([link(obj, oid, writer.text(value))
                                     for obj, oid, value in zip(objects, ids, values)])
        labels = [label(obj) for obj in objects]
        return [{"id": oid, "label": label, "version": None,
                 "cells_html": "<td>" + "</td><td>".join(cells) + "</td>"}
                for oid, label, cells in zip(ids, labels, zip(*columns_html))]

    def row_parts(self):
        """``(link(obj, oid, text), label(obj))``, made once per page for its rows (both
        ``list_row`` and ``rows_by_column`` write with them): a link column's markup, to
        the object's page (``url_prefix`` + id unless the admin refines ``object_url``),
        and the row's label (``object_label`` as it is when ``shown_object_label`` is not
        refined and no field is hidden from the user, so no row copies its object)."""
        parts = self.__dict__.get("_row_parts")
        if parts is None:
            admin = self.model_admin
            if _refined(admin, "object_url"):
                def link(obj, oid, text):
                    return f'<a href="{escape(admin.object_url(obj))}">{escape(text)}</a>'
            else:
                prefix = self._link_prefix = escape(admin.url_prefix)

                def link(obj, oid, text):
                    return _object_link(prefix, escape(oid), escape(text))
            if _refined(admin, "shown_object_label") or admin.hidden_fields(self):
                def label(obj):
                    return admin.shown_object_label(self, obj)
            else:
                label = admin.object_label
            parts = self._row_parts = (link, label)
        return parts

    def rows_html(self, rows, selectable):
        """The rows of ``list_row`` as the list's ``<tr>``s, each with its selection check
        box when ``selectable`` (the page's ids and labels escaped at once)."""
        ids = escape_each([row["id"] for row in rows])  # any _id the store holds, a string too
        if not selectable:
            return "".join([f'<tr data-id="{oid}">{row["cells_html"]}</tr>\n'
                            for oid, row in zip(ids, rows)])
        select = self.gettext("Select %(name)s")
        labels = escape_each([select % {"name": row["label"]} for row in rows])
        return "".join([
            f'<tr data-id="{oid}"><td class="action-checkbox"><input type="checkbox" '
            f'name="_selected_action" value="{oid}" class="action-select" '
            f'aria-label="{label}"></td>{row["cells_html"]}</tr>\n'
            for oid, label, row in zip(ids, labels, rows)])

    def export_urls(self, changelist):
        """``{format: URL}`` exporting the current filtered list (the page asks only when
        the user may ``export``)."""
        args = changelist.query_args(cursor=None, per_page=None)
        return {kind: self.model_admin.url_prefix + "export/?" + urlencode(
            {**args, "format": kind}) for kind in ("csv", "jsonl")}

    async def filter_sidebar(self, changelist):
        """``[{"title", "options": [{"label", "url", "selected"}], "form"}]``: one section
        per ``list_filter`` entry (``core.admin.filters``); never a label of an object the
        user may not read."""
        return [await item.sidebar(changelist, self) for item in changelist.filters]

    async def date_hierarchy_links(self, changelist):
        """The drill-down links of ``date_hierarchy`` (``None`` without one)."""
        hierarchy = changelist.date_hierarchy
        if hierarchy is None:
            return None
        return await hierarchy.links(changelist, self.db,
                                     await changelist.get_filter(hierarchy=False))

    # -- list editing ---------------------------------------------------------------------------
    def editable_columns(self, columns, links):
        """The ``list_editable`` columns shown as inputs (never a link column; the page
        asks only for a user who may write)."""
        return [name for name in self.model_admin.get_list_editable(self)
                if name in columns and name not in links and name in self.opts.fields]

    def input_cell(self, obj, name):
        """An input for column ``name`` of ``obj`` (posted as ``<id>-<name>``)."""
        field = self.opts.fields[name]
        value = obj._data.get(name)
        if isinstance(field, model_fields.BooleanField):
            return Cell("checkbox", gettext("Yes") if value else gettext("No"), bool(value),
                        url=f"{obj.id}-{name}")
        if field.choices is not None and not isinstance(field, model_fields.ListField):
            return Cell("select", format_value(field, value), [
                (str(v), str(label), v == value) for v, label in field.choices],
                url=f"{obj.id}-{name}")
        if isinstance(value, (list, tuple)):
            text = ", ".join(str(item) for item in value)
        else:
            text = "" if value is None else str(value)
        return Cell("input", text, getattr(field, "max_length", None), url=f"{obj.id}-{name}")

    async def save_list(self):
        """One POST of the list's inputs: each row on its own — its version check (a row
        changed meanwhile is stale: reported, not saved), the object rule, the field
        checks, its audit entry; the other rows are saved."""
        admin = self.model_admin
        raw_ids = self.get_body_arguments("_list_id")[:MAX_SELECTED]
        ids = [parse_id(raw) for raw in raw_ids]
        if any(oid is None for oid in ids):
            raise HTTPError(400, self.gettext("The list holds an id that is not valid."))
        names = [n for n in admin.get_list_editable(self) if n in self.opts.fields]
        objects = {obj.id: obj for obj in await self.model.find(
            self.scoped({"_id": {"$in": ids}}), db=self.db).to_list(None)}
        saved, stale, refused, invalid = [], [], [], []
        for oid in ids:
            obj = objects.get(oid)
            version = self.get_body_argument(f"{oid}-_version", "")
            if obj is None or str(obj.version) != version:
                stale.append(obj or oid)
                continue
            if not (self.may_read(obj) and admin.may(self, "write", obj)) or \
                    await admin.object_refusal(self, "write", obj):
                refused.append(obj)
                continue
            before = self.snapshot(obj)
            try:
                for name in names:
                    field = self.opts.fields[name]
                    if isinstance(field, model_fields.BooleanField):
                        raw = self.get_body_argument(f"{oid}-{name}", None) is not None
                    else:
                        raw = self.get_body_argument(f"{oid}-{name}", None)
                        if raw is None:
                            continue
                    obj._data[name] = field.to_python(raw)
                if self.snapshot(obj) == before:
                    continue
                await self.save_object(obj, None, True, before)
            except StaleObjectError:
                stale.append(obj)
                continue
            except ValidationError as exc:
                invalid.append((obj, "; ".join(f"{k}: {v}" for k, v in exc.errors.items())))
                continue
            except PermissionDenied:
                refused.append(obj)
                continue
            saved.append(obj)
        self.flash(self.gettext("Saved %(objects)s.") % {"objects": self.count_noun(len(saved))},
                   "success" if saved else "warning")
        if stale:
            self.flash(self.gettext("Not saved: %(count)d changed or deleted by someone else "
                                    "meanwhile%(names)s; reload the list and edit again.") % {
                "count": len(stale),
                "names": self.some_labels([o for o in stale if not isinstance(o, ObjectId)])},
                "warning")
        if refused:
            self.flash(self.gettext("Not saved: %(count)d you may not change%(names)s.") % {
                "count": len(refused), "names": self.some_labels(refused)}, "warning")
        for obj, message in invalid[:20]:
            self.flash(self.gettext("Not saved: %(object)s: %(error)s") % {
                "object": self.shown_label(obj), "error": message}, "error")
        self.redirect(self.request.uri, status=303)

    # -- bulk actions -------------------------------------------------------------------------
    async def post(self):
        if self.get_body_argument("_save_list", None) is not None:
            return await self.save_list()
        bulk = self.bulk
        ids = self.selected_ids()
        if not ids:
            self.flash(self.gettext("Select some items first; nothing was changed."), "warning")
            return self.redirect(self.request.uri, status=303)
        objects = await self.model.find(self.scoped({"_id": {"$in": ids}}),
                                        db=self.db).to_list(None)
        allowed, skipped = [], []
        for obj in objects:
            if self.may_read(obj) and self.model_admin.may(self, bulk.permission, obj) and \
                    not await self.model_admin.object_refusal(self, bulk.permission, obj):
                allowed.append(obj)
            else:
                skipped.append(obj)
        if bulk.confirm and self.get_body_argument("post", "") != "yes":
            return self.render(self.confirm_template, bulk=bulk, allowed=[
                (obj, self.shown_label(obj)) for obj in allowed], skipped=[
                (obj, self.shown_label(obj)) for obj in skipped])
        done, stale, messages = await self.run_bulk(bulk, allowed, skipped)
        message = messages[0] if len(done) == 1 and messages and messages[0] else None
        if message is None:
            message = self.gettext("%(action)s: done for %(objects)s.") % {
                "action": bulk.label, "objects": self.count_noun(len(done))}
        self.flash(message, "success" if done else "warning")
        if skipped:
            self.flash(self.gettext("Skipped %(count)d you may not %(action)s%(names)s.") % {
                "count": len(skipped), "action": self.gettext(bulk.permission),
                "names": self.some_labels(skipped)}, "warning")
        if stale:
            self.flash(self.ngettext(
                "Skipped %(count)d changed or deleted by someone else meanwhile%(names)s; "
                "nothing was done to it.",
                "Skipped %(count)d changed or deleted by someone else meanwhile%(names)s; "
                "nothing was done to them.", len(stale)) % {
                    "count": len(stale), "names": self.some_labels(stale)}, "warning")
        self.redirect(self.request.uri, status=303)

    async def run_bulk(self, bulk, objects, skipped):
        """Run ``bulk`` on each object on its own, each with its audit entry.

        Returns ``(done, stale, messages)``; objects the action refuses (it raised
        ``PermissionDenied`` or ``ValidationError``) are added to ``skipped``.
        """
        done, stale, messages = [], [], []
        audit_action = "delete" if bulk.name == "delete_selected" else "bulk_action"
        for obj in objects:
            before = self.snapshot(obj)
            try:
                async with self.audited(audit_action, obj, bulk_action=bulk.name) as entry:
                    messages.append(await bulk.run(self.model_admin, self, [obj]))
                    if audit_action != "delete":
                        entry.changes = self.diff(before, self.snapshot(obj))
            except StaleObjectError:
                stale.append(obj)
                continue
            except (PermissionDenied, ValidationError):
                skipped.append(obj)
                continue
            done.append(obj)
        return done, stale, messages

    def count_noun(self, count):
        noun = self.opts.verbose_name if count == 1 else self.opts.verbose_name_plural
        return f"{count} {noun}"

    def some_labels(self, objects, shown=20):
        """``": a, b and 3 more"`` naming the first objects (hidden ones as such)."""
        if not objects:
            return ""
        names = ", ".join(self.shown_label(obj) for obj in objects[:shown])
        more = (self.gettext(" and %(count)d more") % {"count": len(objects) - shown}
                if len(objects) > shown else "")
        return f": {names}{more}"


def _refined(obj, name):
    """Whether a subclass overrides method ``name`` of the class that defines it first
    (``ModelAdmin.object_url`` refined by an admin)."""
    return sum(name in vars(klass) for klass in type(obj).__mro__) > 1


def _value(obj, name):
    """``obj._data.get(name)``, without a Python call when it holds the field (a projected
    object's ``get`` is one; it raises ``NotFetched`` for a field left out)."""
    data = obj._data
    return data[name] if name in data else data.get(name)


class ColumnWriter:
    """How a column showing a stored field as it is writes a value (what ``obj._data``
    holds): ``html(value)`` (``Cell.html``), ``text(value)`` (``Cell.text``) and
    ``cells(values)`` (``html`` of each of a page's values, written at once)."""

    __slots__ = ("html", "text", "cells")

    def __init__(self, html, text, cells=None):
        self.html, self.text = html, text
        self.cells = cells or (lambda values: list(map(html, values)))


def _bool_writer(yes, no):
    marks = {True: Cell("bool", yes, True).html(), False: Cell("bool", no, False).html()}
    return ColumnWriter(lambda value: marks[bool(value)],
                        lambda value: yes if value else no,
                        lambda values: [marks[bool(value)] for value in values])


def _reference_writer(name, references, empty):
    """The cell of each referenced id, made once per page (rows share their targets); a
    page's cells are looked up at once (``cells``: one look-up per row, no call)."""
    cells, markup = {}, {}

    def cell(value):
        found = cells.get(value)
        if found is None:
            if value is None:
                found = Cell("text", empty)
            else:
                shown = references.get((name, value))
                label, url = shown if shown is not None else (missing_label(value), None)
                found = Cell("link" if url else "text", label, url=url)
            found = cells[value] = (found.html(), found.text)
            markup[value] = found[0]
        return found

    def cells_of(values):
        return [markup.get(value) or cell(value)[0] for value in values]

    return ColumnWriter(lambda value: cell(value)[0], lambda value: cell(value)[1], cells_of)


def _text_writer(field, zone, empty, moment=None):
    """The cell of a text column: ``format_value``'s text, escaped; ``moment``: the page's
    formatter of a ``DateTimeField`` without choices (``moment_formatter``), for the
    moments. A field whose text is its string (no choices, not a list, ``display`` not
    refined) writes a non-empty string as it is, without asking ``format_value``."""
    as_is = getattr(field, "choices", None) is None and \
        not isinstance(field, model_fields.ListField) and \
        type(field).display is model_fields.Field.display

    def text(value):
        if moment is not None and isinstance(value, datetime.datetime):
            return moment(value)
        if as_is and value.__class__ is str and value:
            return value
        return format_value(field, value, zone, empty)

    if moment is None:
        def texts(values):
            return list(map(text, values))
    else:
        def texts(values):             # a page's moments without a call of ``text`` each
            return [moment(value) if value.__class__ is datetime.datetime else text(value)
                    for value in values]

    return ColumnWriter(lambda value: escape(text(value)), text,
                        lambda values: escape_each(texts(values)))


def escape_each(texts):
    """``[escape(text) for text in texts]``, for a page's texts: escaping is one character
    at a time, so plain strings joined by a character that escaping leaves alone and that
    no text holds are escaped with one call, then split (otherwise one by one)."""
    if {*map(type, texts)} == {str}:
        joined = "\0".join(texts)
        if joined.count("\0") == len(texts) - 1:
            return html.escape(joined).split("\0")
    return [escape(text) for text in texts]


def _object_link(prefix, oid, text):
    """A link column's markup to the object ``oid`` under the admin's ``prefix`` (all three
    already escaped): one format for ``row_parts``' link and ``rows_by_column``'s."""
    return f'<a href="{prefix}{oid}/">{text}</a>'
