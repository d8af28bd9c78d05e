"""A misconfigured ``ModelAdmin`` stops start-up, ``runserver`` and ``manage.py check``
with one line per mistake (the checks themselves: tests/admin/test_admin_checks.py)."""
import pytest

from core.admin.checks import AdminConfigurationError
from core.app import make_app
from core.registry import Registry
from support import make_settings
from support.cli import free_port, manage, manage_env

BROKEN_ADMIN_PY = '''
from core.admin import ModelAdmin, register

from .models import Note


@register(Note)
class NoteAdmin(ModelAdmin):
    list_display = ["titel"]
    list_filter = ["text"]
'''
TYPO = ("notes.note (NoteAdmin): list_display[0] 'titel' is not a field of Note")


@pytest.fixture
def broken_app(notes_app):
    (notes_app.root / notes_app.package / "admin.py").write_text(BROKEN_ADMIN_PY)
    return notes_app


def test_make_app_refuses_a_misconfigured_admin(tmp_path, broken_app):
    settings = make_settings(tmp_path, [broken_app.package])
    registry = Registry(installed_apps=[broken_app.package]).load()
    with pytest.raises(AdminConfigurationError) as caught:
        make_app(settings, registry)
    text = str(caught.value)
    assert TYPO in text and "Did you mean 'title'?" in text
    assert "list_filter[0] 'text'" in text


@pytest.mark.parametrize("command", [["check"], ["runserver", "--port", "{port}"]])
def test_commands_refuse_a_misconfigured_admin(tmp_path, broken_app, command):
    env = manage_env(tmp_path, BASTION_SETTINGS=broken_app.settings_module,
                     PYTHONPATH=broken_app.root)
    args = [arg.replace("{port}", str(free_port())) for arg in command]
    result = manage(args, env, timeout=60)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert TYPO in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
