"""The app registry: INSTALLED_APPS turns apps on; models, routes, templates, commands."""
import importlib
import sys

import pytest

from core.app import make_app, startup
from core.conf import ImproperlyConfigured, load_settings
from core.db import connect
from core.management import discover_commands
from core.registry import App, Registry


def write_package(root, name, files):
    pkg = root / name
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    for filename, text in files.items():
        (pkg / filename).write_text(text)
    return pkg


@pytest.fixture
def pkg_root(tmp_path, monkeypatch):
    root = tmp_path / "more"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    before = set(sys.modules)
    yield root
    for name in set(sys.modules) - before:
        if sys.modules[name] is not None and str(root) in (getattr(sys.modules[name], "__file__",
                                                                   "") or ""):
            del sys.modules[name]


def test_registry_loads_the_app_and_keys_its_models(settings, notes_app):
    registry = Registry(installed_apps=[notes_app.package]).load()
    assert list(registry.apps) == ["notes"]
    app = registry.get_app("notes")
    assert isinstance(app, App) and app.verbose_name == "Notes"
    note = registry.get_model("notes.note")
    # the package is called bastion_notes_*, so the label came from the App
    assert note._meta.app_label == "notes"
    assert note._meta.key == "notes.note"
    assert list(registry.models) == ["notes.note"]
    assert registry.get_model("Notes.Note") is note
    with pytest.raises(LookupError, match="unknown model 'notes.nothing'"):
        registry.get_model("notes.nothing")
    assert [spec[0] for spec in registry.routes()][:2] == [r"/notes/slow", r"/notes/hello"]
    assert registry.template_dirs() == [app.path / "templates"]


async def test_one_installed_apps_line_turns_the_app_on(settings, notes_app, live):
    without = await live(make_app(settings, db=connect("memory:")))
    assert (await without.fetch("/notes/hello")).code == 404

    on = load_settings(notes_app.settings_module, environ={}, VAR_DIR=settings.VAR_DIR,
                       DATABASE_URL="memory:")
    assert on.INSTALLED_APPS == [notes_app.package]
    app = make_app(on, db=connect("memory:"))
    assert "notes.note" in app.registry.models
    server = await live(app)
    await startup(app)
    response = await server.fetch("/notes/hello")
    assert response.code == 200
    body = response.body.decode()
    # the app's template, extending the project's base.html, autoescaped
    assert '<p class="hello">Hello, &lt;world&gt;!</p>' in body
    assert "/static/bastion.css" in body
    await app.db[app.registry.get_model("notes.note")._meta.collection].insert_one(
        {"_id": "n1", "text": "stored"})
    note = await server.fetch("/notes/n1")
    assert note.code == 200 and b'"text": "stored"' in note.body


def test_unknown_app_is_a_clear_error():
    with pytest.raises(ImproperlyConfigured) as info:
        Registry(installed_apps=["apps.does_not_exist"]).load()
    assert "INSTALLED_APPS entry 'apps.does_not_exist' cannot be imported" in str(info.value)


def test_app_without_app_py_is_a_clear_error(pkg_root):
    write_package(pkg_root, "bastion_no_app_py", {})
    with pytest.raises(ImproperlyConfigured, match="'bastion_no_app_py' has no app.py"):
        Registry(installed_apps=["bastion_no_app_py"]).load()


def test_app_py_without_an_app_class_is_a_clear_error(pkg_root):
    write_package(pkg_root, "bastion_no_class", {"app.py": "X = 1\n"})
    with pytest.raises(ImproperlyConfigured, match="must define exactly one App subclass"):
        Registry(installed_apps=["bastion_no_class"]).load()


def test_error_inside_an_app_names_the_app(pkg_root):
    write_package(pkg_root, "bastion_broken", {"app.py": "import no_such_dependency_xyz\n"})
    with pytest.raises(ImproperlyConfigured) as info:
        Registry(installed_apps=["bastion_broken"]).load()
    assert "'bastion_broken' failed to import" in str(info.value)
    assert "no_such_dependency_xyz" in str(info.value)


def test_two_apps_with_one_label_are_refused(pkg_root):
    code = "from core.registry import App\n\nclass A(App):\n    label = 'same'\n"
    write_package(pkg_root, "bastion_one", {"app.py": code})
    write_package(pkg_root, "bastion_two", {"app.py": code})
    with pytest.raises(ImproperlyConfigured, match="both use the label 'same'"):
        Registry(installed_apps=["bastion_one", "bastion_two"]).load()


def test_models_may_be_a_list_and_label_defaults_to_package(pkg_root):
    write_package(pkg_root, "bastion_shop", {
        "models.py": ("from core.models import Model, fields\n\n"
                      "class Order(Model):\n    code = fields.StringField(unique=True)\n"),
        "app.py": ("from core.registry import App\nfrom .models import Order\n\n"
                   "class Shop(App):\n    models = [Order]\n"),
    })
    registry = Registry(installed_apps=["bastion_shop"]).load()
    assert list(registry.apps) == ["bastion_shop"]
    assert registry.get_app("bastion_shop").verbose_name == "Bastion shop"
    assert list(registry.models) == ["bastion_shop.order"]


def test_a_stand_in_model_needs_only_the_documented_attributes(pkg_root):
    """The registry depends only on _meta.app_label/model_name/key and ensure_indexes."""
    write_package(pkg_root, "bastion_standin", {"app.py": '''
from core.registry import App


class Meta:
    app_label = "x"
    model_name = "thing"
    collection = "things"

    @property
    def key(self):
        return f"{self.app_label}.{self.model_name}"


class Thing:
    _meta = Meta()

    @classmethod
    async def ensure_indexes(cls):
        return ["name_1"]


class StandIn(App):
    label = "standin"
    models = [Thing]
'''})
    registry = Registry(installed_apps=["bastion_standin"]).load()
    assert list(registry.models) == ["standin.thing"]


async def test_ensure_indexes_creates_every_declared_index(notes_app):
    registry = Registry(installed_apps=[notes_app.package]).load()
    db = connect("memory:")
    try:
        registry.bind(db)
        collection = registry.get_model("notes.note")._meta.collection
        assert await registry.missing_indexes(db) == {"notes.note": ["title_1", "title_text"]}
        created = await registry.ensure_indexes()
        assert created == {"notes.note": ["title_1", "title_text"]}
        info = await db[collection].index_information()
        assert {"title_1", "title_text"} <= set(info)
        assert await registry.missing_indexes(db) == {}
    finally:
        await db.close()


def test_app_commands_are_discovered(notes_app):
    registry = Registry(installed_apps=[notes_app.package]).load()
    commands = discover_commands(registry)
    assert commands["hello"].source == "notes"
    assert commands["hello"].help == "Say hello from the notes app."
    assert commands["runserver"].source == "core"
    assert discover_commands(None).keys() >= {"help", "runserver", "check", "ensure_indexes",
                                              "shell"}
    assert "hello" not in discover_commands(None)


def test_core_never_imports_apps():
    """core/ must work without apps/: no module under core imports from it."""
    import pathlib
    core = pathlib.Path(importlib.import_module("core").__file__).parent
    offenders = [str(p) for p in core.rglob("*.py")
                 if any(line.lstrip().startswith(("import apps", "from apps"))
                        for line in p.read_text().splitlines())]
    assert offenders == []
