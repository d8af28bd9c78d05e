"""``TemplateLoader``: templates from a list of folders (the apps' and the project's).

A leaf module: the application (``core.app``) builds one loader for every page;
nothing here knows about handlers or apps.
"""
import datetime
import html
import linecache
import posixpath
from pathlib import Path

import tornado.template
from tornado import escape
from tornado.util import ObjectDict, exec_in

__all__ = ["Template", "TemplateLoader", "TemplateNotFound"]


class TemplateNotFound(FileNotFoundError):
    """No template folder has the template."""


def escaped_utf8(value):
    """What Tornado's code for an escaped ``{{ expression }}`` appends: ``value`` as text
    (bytes decoded as UTF-8, anything else its ``str``), HTML-escaped, in UTF-8 — the
    same bytes as ``utf8(xhtml_escape(utf8(value)))``, in one call instead of four.

    Only a plain ``str`` is escaped as it is: a subclass's ``replace`` may differ (a
    markupsafe ``Markup`` escapes what it inserts, so ``html.escape`` of one would
    escape twice), so its characters are taken as a plain ``str`` first, as Tornado's
    ``utf8`` does by encoding them."""
    if type(value) is not str:
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        else:
            value = str.__str__(value if isinstance(value, str) else str(value))
    return html.escape(value).encode("utf-8")


class _EscapedExpression(tornado.template._Expression):
    """``{{ expression }}`` under the default ``xhtml_escape``: one call
    (``_tt_escaped_utf8``) where Tornado's code makes four (``utf8``, ``xhtml_escape``,
    ``to_unicode``, ``utf8`` again); a page writes a hundred or more of them. Raw
    expressions, modules and other escape functions keep Tornado's code."""

    def generate(self, writer):
        if writer.current_template.autoescape != "xhtml_escape":
            return super().generate(writer)
        writer.write_line("_tt_tmp = %s" % self.expression, self.line)
        writer.write_line("_tt_append(_tt_escaped_utf8(_tt_tmp))", self.line)


def _escape_in_one_call(node):
    """Make each escaped expression under ``node`` (a parsed template's tree) an
    ``_EscapedExpression``."""
    chunks = getattr(node, "chunks", None)
    if chunks is not None:
        for index, chunk in enumerate(chunks):
            if type(chunk) is tornado.template._Expression and not chunk.raw:
                chunks[index] = _EscapedExpression(chunk.expression, chunk.line)
    for child in node.each_child():
        _escape_in_one_call(child)


class Template(tornado.template.Template):
    """Tornado's template, whose page forgets its names once it is written, and whose
    escaped expressions are written by one call each (``escaped_utf8``).

    Tornado runs a template's code in a fresh dict of names (the page's arguments and
    helpers, the handler's among them) and the function it defines there keeps that
    dict as its globals: a cycle, which kept the handler and everything the page showed
    alive until the cyclic garbage collector came by. ``generate`` is Tornado's, with
    the dict emptied once the page is written, so reference counting frees it all at
    once."""

    def _generate_python(self, loader):
        """Tornado's code of the page, after this template's escaped expressions are made
        ``_EscapedExpression``s (the templates it extends and includes are this class too,
        and did the same to theirs when they were loaded)."""
        _escape_in_one_call(self.file)
        return super()._generate_python(loader)

    def generate(self, **kwargs):
        """The page (bytes) for ``kwargs``: Tornado's ``Template.generate``, the same names
        and the same result, then the names let go."""
        namespace = {
            "escape": escape.xhtml_escape,
            "xhtml_escape": escape.xhtml_escape,
            "url_escape": escape.url_escape,
            "json_encode": escape.json_encode,
            "squeeze": escape.squeeze,
            "linkify": escape.linkify,
            "datetime": datetime,
            "_tt_utf8": escape.utf8,
            "_tt_string_types": (str, bytes),
            # as Tornado: they let a traceback show the generated code
            "__name__": self.name.replace(".", "_"),
            "__loader__": ObjectDict(get_source=lambda name: self.code),
        }
        namespace.update(self.namespace)
        namespace.update(kwargs)
        escape_function = namespace["xhtml_escape"]
        namespace["_tt_escaped_utf8"] = escaped_utf8 if escape_function is \
            escape.xhtml_escape else _escaping_with(escape_function)
        exec_in(self.compiled, namespace)
        execute = namespace["_tt_execute"]
        linecache.clearcache()
        page = execute()
        namespace.clear()       # an error keeps them: its traceback shows the template's lines
        return page


def _escaping_with(escape_function):
    """Tornado's code for an escaped expression, for a page that names its own
    ``xhtml_escape``."""
    def escaped(value):
        text = escape.utf8(value) if isinstance(value, (str, bytes)) else \
            escape.utf8(str(value))
        return escape.utf8(escape_function(text))
    return escaped


class TemplateLoader(tornado.template.BaseLoader):
    """Loads templates from a list of folders, the first that has the file winning.

    Names are relative to the folders (``"admin/404.html"``), as in Django: in
    ``{% extends "base.html" %}`` the name is looked up from the top of every
    folder, whatever folder the extending template is in. A name starting with
    ``./`` or ``../`` is relative to the including template. Names cannot leave
    the folders. With ``cache=False`` (DEBUG) templates are re-read on every load.
    """

    def __init__(self, dirs, cache=True, **kwargs):
        super().__init__(**kwargs)
        self.dirs = [Path(d).resolve() for d in dirs]
        self.cache = cache

    def __repr__(self):
        return f"<TemplateLoader {[str(d) for d in self.dirs]}>"

    def resolve_path(self, name, parent_path=None):
        if parent_path and (name.startswith("./") or name.startswith("../")):
            name = posixpath.join(posixpath.dirname(parent_path), name)
        return posixpath.normpath(name)

    def find(self, name):
        """The file for template ``name``, or ``None``."""
        name = posixpath.normpath(name)
        if name.startswith(("/", "../")) or name == ".." or "\x00" in name:
            return None
        for folder in self.dirs:
            path = (folder / name).resolve()
            if path.is_relative_to(folder) and path.is_file():
                return path
        return None

    def exists(self, name):
        return self.find(name) is not None

    def load(self, name, parent_path=None):
        if not self.cache:
            self.reset()
        return super().load(name, parent_path)

    def _create_template(self, name):
        path = self.find(name)
        if path is None:
            raise TemplateNotFound(f"template {name!r} not found in "
                                   f"{', '.join(str(d) for d in self.dirs)}")
        return Template(path.read_bytes(), name=name, loader=self)
