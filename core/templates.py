"""``TemplateLoader``: templates from a list of folders (the apps' and the project's).

A leaf module: the application (``core.app``) builds one loader for every page;
nothing here knows about handlers or apps.
"""
import posixpath
from pathlib import Path

import tornado.template

__all__ = ["TemplateLoader", "TemplateNotFound"]


class TemplateNotFound(FileNotFoundError):
    """No template folder has the template."""


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
        return tornado.template.Template(path.read_bytes(), name=name, loader=self)
