"""Fixtures for the framework tests: settings, a live Tornado server, a throw-away app.

* ``settings`` — ``settings.test`` with an in-memory database, a temp ``VAR_DIR`` and
  no installed apps, read without the outer environment.
* ``live`` — ``await live(app)`` serves an application on a free 127.0.0.1 port
  with a real ``HTTPServer``; ``await server.fetch(path)`` answers through a real
  ``AsyncHTTPClient``. Everything is stopped and closed after the test.
* ``notes_app`` — writes an app package (``app.py`` with an ``App`` subclass,
  ``models.py`` with a ``Note`` model, a template, a management command) under
  ``tmp_path``, puts it on ``sys.path``, and writes a settings module that adds it
  to ``INSTALLED_APPS``; the same files serve subprocess tests through ``PYTHONPATH``.
"""
import itertools
import os
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import Site, make_settings, serving

_package_numbers = itertools.count(1)


@pytest.fixture
def settings(tmp_path):
    """The framework alone: no installed apps (the apps have their own tests)."""
    return make_settings(tmp_path, [])


class LiveServer(Site):
    async def fetch(self, path, **kwargs):
        kwargs.setdefault("raise_error", False)
        kwargs.setdefault("follow_redirects", False)
        return await self.client.fetch(self.url(path), **kwargs)


@pytest.fixture
async def live():
    async with serving(LiveServer) as servers:
        async def start(app):
            return servers.serve_app(app)
        yield start


APP_PY = '''
import asyncio

from core.handlers.base import BaseHandler, HTTPError
from core.registry import App

from .models import Note


class NoteHandler(BaseHandler):
    async def get(self, note_id):
        doc = await self.db[Note._meta.collection].find_one({"_id": note_id})
        if doc is None:
            raise HTTPError(404, "No such note.")
        self.write_json({"id": note_id, "text": doc["text"]})


class SlowHandler(BaseHandler):
    async def get(self):
        marker = self.get_argument("marker", None)
        if marker:
            open(marker, "w").close()
        await asyncio.sleep(float(self.get_argument("seconds", "1.5")))
        self.write("done")


class HelloPage(BaseHandler):
    def get(self):
        self.render("notes/hello.html", name="<world>")


class BoomHandler(BaseHandler):
    def get(self):
        raise ZeroDivisionError("secret internal detail")


class NotesApp(App):
    label = "notes"
    verbose_name = "Notes"
    models = "{package}.models"

    def get_routes(self):
        return [
            (r"/notes/slow", SlowHandler),
            (r"/notes/hello", HelloPage),
            (r"/notes/boom", BoomHandler),
            (r"/api/notes/boom", BoomHandler),
            (r"/notes/([a-z0-9]+)", NoteHandler),
        ]
'''

MODELS_PY = '''
from core.models import Index, Model, fields


class Note(Model):
    title = fields.StringField(index=True)
    text = fields.TextField()

    class Meta:
        indexes = [Index(["title", "-text"], name="title_text")]
'''

HELLO_HTML = '''{% extends "base.html" %}
{% block title %}Hello · Notes{% end %}
{% block content %}<p class="hello">Hello, {{ name }}!</p>{% end %}
'''

COMMAND_PY = '''
from core.management import Command


class Command(Command):
    help = "Say hello from the notes app."

    def add_arguments(self, parser):
        parser.add_argument("who")

    def handle(self, args):
        self.write(f"hello, {args.who}, from {self.registry.get_app('notes').verbose_name}")
'''

SETTINGS_PY = '''
from settings.test import *  # noqa: F401,F403

INSTALLED_APPS = ["{package}"]
'''


@dataclass
class NotesApp:
    package: str          # dotted name of the app package
    settings_module: str  # a settings module with the app in INSTALLED_APPS
    root: Path            # the folder on sys.path / PYTHONPATH


@pytest.fixture
def notes_app(tmp_path, monkeypatch):
    number = next(_package_numbers)
    package = f"bastion_notes_{os.getpid()}_{number}"
    root = tmp_path / "pkgs"
    pkg_dir = root / package
    (pkg_dir / "templates" / "notes").mkdir(parents=True)
    (pkg_dir / "management" / "commands").mkdir(parents=True)
    (pkg_dir / "__init__.py").write_text("")
    (pkg_dir / "management" / "__init__.py").write_text("")
    (pkg_dir / "management" / "commands" / "__init__.py").write_text("")
    (pkg_dir / "management" / "commands" / "hello.py").write_text(textwrap.dedent(COMMAND_PY))
    (pkg_dir / "app.py").write_text(APP_PY.replace("{package}", package))
    (pkg_dir / "models.py").write_text(MODELS_PY)
    (pkg_dir / "templates" / "notes" / "hello.html").write_text(HELLO_HTML)
    settings_module = f"bastion_settings_{os.getpid()}_{number}"
    (root / f"{settings_module}.py").write_text(SETTINGS_PY.replace("{package}", package))
    monkeypatch.syspath_prepend(str(root))
    yield NotesApp(package, settings_module, root)
    for name in list(sys.modules):
        if name == package or name.startswith(package + ".") or name == settings_module:
            del sys.modules[name]
