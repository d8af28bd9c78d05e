"""The form input of a ``FileField``: the current file, a "clear" box and an upload.

``UploadField.data`` after processing a POST is what the model field accepts:
an ``Upload`` when a file was sent, ``None`` when "clear" was ticked, else the
stored value unchanged (``StoredFile`` or ``None``). The page sets
``download_url`` when the current file may be downloaded (``FormHandler``).
"""
import wtforms
from tornado import escape
from tornado.httputil import HTTPFile

from core.models.files import StoredFile, Upload

__all__ = ["UploadField", "UploadInput"]


class UploadInput:
    """Draws the current file (linked when ``download_url`` is set), "clear", the input."""

    def __call__(self, field, **attrs):
        name = escape.xhtml_escape(field.name)
        attrs.pop("required", None)            # an unchanged file is kept: never required
        extra = "".join(f' {key.replace("_", "-")}="{escape.xhtml_escape(str(value))}"'
                        for key, value in attrs.items() if value not in (None, False))
        html = ['<span class="upload">']
        current = field.object_data
        if isinstance(current, StoredFile):
            label = escape.xhtml_escape(current.name)
            if field.download_url:
                label = f'<a href="{escape.xhtml_escape(field.download_url)}">{label}</a>'
            html.append(f'<span class="current-file">Currently: {label}</span>')
            if not field.flags.required:
                html.append(f'<label class="clear-file"><input type="checkbox" '
                            f'name="{name}-clear" value="on"> Clear</label>')
        accept = ",".join(field.content_types)
        html.append(f'<input type="file" name="{name}" accept="{escape.xhtml_escape(accept)}"'
                    f'{extra}>')
        html.append("</span>")
        return "".join(html)


class UploadField(wtforms.Field):
    """A file input for a ``core.models.FileField`` (see the module docstring)."""

    widget = UploadInput()

    def __init__(self, label=None, validators=None, content_types=(), required=False,
                 **kwargs):
        super().__init__(label, validators, **kwargs)
        self.content_types = tuple(content_types)
        self.download_url = None
        if required:
            self.flags.required = True

    def process(self, formdata, data=wtforms.utils.unset_value, extra_filters=None):
        self.process_errors = []
        self.object_data = None if data is wtforms.utils.unset_value else data
        self.data = self.object_data
        self.raw_data = []
        if formdata is None:
            return
        sent = [item for item in formdata.getlist(self.name)
                if isinstance(item, HTTPFile) and item.filename]
        if sent:
            upload = sent[0]
            self.data = Upload(upload.body, upload.filename, upload.content_type or "")
        elif formdata.getlist(f"{self.name}-clear"):
            self.data = None

    def _value(self):
        return ""
