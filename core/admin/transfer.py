"""Export and import formats: one model's objects as CSV or JSON lines, and back.

``/admin/<app>/<model>/export/`` writes what this module formats; ``.../import/``
reads the same format:

* columns: ``id`` then the fields ``ModelAdmin.get_export_fields`` names (by default
  every field the user may see on the detail page), in that order;
* JSON lines: one object per line, each value as the API shows it (``field.to_json``);
* CSV: a header row of field names, then one row per object: booleans ``true`` /
  ``false``, dates ISO 8601, lists ``a, b``, references their id, empty for ``None``.
  A text cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return)
  is written with a leading ``'`` so a spreadsheet never runs it as a formula; import
  drops that one ``'`` again.

Import (``parse_rows``) takes either format and yields ``(line, {field: text or
value})``; the import page validates each row with the model's own fields.
"""
import csv
import datetime
import io
import json

from bson import ObjectId

from core.i18n import gettext

__all__ = ["FORMATS", "ImportFileError", "csv_header", "csv_row", "encode_value",
           "jsonl_row", "neutralise", "parse_rows", "unneutralise"]

#: ``?format=`` → (content type, file extension)
FORMATS = {"csv": ("text/csv; charset=utf-8", "csv"),
           "jsonl": ("application/x-ndjson; charset=utf-8", "jsonl")}
#: characters that make a spreadsheet read a cell as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ImportFileError(ValueError):
    """The uploaded file cannot be read as the format says (one message for the page)."""


def neutralise(text):
    """``text`` safe for a spreadsheet cell (a leading ``'`` before a formula start)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def unneutralise(text):
    """Undo ``neutralise`` on a cell read back."""
    return text[1:] if text.startswith("'") and text[1:2] and text[1] in FORMULA_START else text


def encode_value(field, value):
    """One CSV cell for a stored ``value`` of model ``field``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, (list, tuple)):
        return neutralise(", ".join(str(item) for item in value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        return neutralise(json.dumps(field.to_json(value) if field is not None else value,
                                     sort_keys=True, default=str))
    return neutralise(str(value))


def _csv_line(cells):
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


def csv_header(names):
    return _csv_line(names)


def csv_row(fields, names, obj):
    """One CSV line for ``obj`` (``names`` after ``id``; ``fields``: the model's fields)."""
    return _csv_line([str(obj.id)] + [encode_value(fields.get(name), obj._data.get(name))
                                      for name in names])


def jsonl_row(fields, names, obj):
    """One JSON line for ``obj``."""
    data = {"id": str(obj.id)}
    for name in names:
        field = fields.get(name)
        value = obj._data.get(name)
        data[name] = field.to_json(value) if field is not None else value
    return json.dumps(data, ensure_ascii=False, default=str) + "\n"


def too_many_rows(max_rows):
    """The ``ImportFileError`` of a file with more than ``max_rows`` rows."""
    return ImportFileError(gettext("The file has more than %(count)d rows; split it.") % {
        "count": max_rows})


def parse_rows(text, kind, max_rows):
    """``[(line number, {column: value})]`` from an uploaded file; ``ImportFileError``
    for a file that is not the format, is empty, or has more than ``max_rows`` rows."""
    rows = []
    if kind == "jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError as exc:
                raise ImportFileError(gettext("Line %(line)d is not valid JSON: %(reason)s.")
                                      % {"line": number, "reason": exc}) from None
            if not isinstance(data, dict):
                raise ImportFileError(gettext("Line %(line)d is not a JSON object.") % {
                    "line": number})
            rows.append((number, data))
            if len(rows) > max_rows:
                raise too_many_rows(max_rows)
    elif kind == "csv":
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = next(reader, None)
            if not header or not any(cell.strip() for cell in header):
                raise ImportFileError(gettext(
                    "The file is empty: the first line names the columns."))
            header = [cell.strip().lstrip("\ufeff") for cell in header]
            for cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue
                if len(cells) > len(header):
                    raise ImportFileError(gettext("Line %(line)d has more cells than the "
                                                  "header names.") % {"line": reader.line_num})
                rows.append((reader.line_num, {name: unneutralise(cell)
                                               for name, cell in zip(header, cells)}))
                if len(rows) > max_rows:
                    raise too_many_rows(max_rows)
        except csv.Error as exc:
            raise ImportFileError(gettext("The file is not valid CSV: %(reason)s.") % {
                "reason": exc}) from None
    else:
        raise ImportFileError(gettext("Choose the format: CSV or JSON lines."))
    if not rows:
        raise ImportFileError(gettext("The file holds no rows."))
    return rows
