"""Settings: module choice, environment overrides, dev secret, production's refusal."""
import os
import stat

import pytest

from core.conf import ImproperlyConfigured, LazySettings, load_settings
from support.cli import manage, manage_env


def test_bastion_settings_env_var_picks_the_module():
    assert load_settings(environ={"BASTION_SETTINGS": "settings.test"}).module == "settings.test"
    assert load_settings("settings.production",
                         environ={"COOKIE_SECRET": "x" * 40}).module == "settings.production"


def test_default_module_is_dev(tmp_path):
    s = load_settings(environ={}, VAR_DIR=tmp_path)
    assert s.module == "settings.dev"
    assert s.DEBUG is True
    assert s.DATABASE_URL == f"embedded:{s.BASE_DIR / 'var' / 'bastion.sqlite3'}"


def test_defaults_per_module(tmp_path):
    dev = load_settings("settings.dev", environ={}, VAR_DIR=tmp_path)
    test = load_settings("settings.test", environ={})
    assert (dev.BCRYPT_ROUNDS, dev.PORT, dev.MONGO_DRIVER) == (12, 8000, "motor")
    assert test.BCRYPT_ROUNDS == 4
    assert test.DATABASE_URL == "memory:"


def test_environment_overrides_each_variable_with_its_type():
    s = load_settings("settings.test", environ={
        "DATABASE_URL": "mongodb://db.example:27017/bastion",
        "MONGO_DRIVER": "pymongo",
        "COOKIE_SECRET": "from-the-env",
        "BCRYPT_ROUNDS": "6",
        "PORT": "9001",
        "DEBUG": "true",
    })
    assert s.DATABASE_URL == "mongodb://db.example:27017/bastion"
    assert s.MONGO_DRIVER == "pymongo"
    assert s.COOKIE_SECRET == "from-the-env"
    assert s.BCRYPT_ROUNDS == 6
    assert s.PORT == 9001
    assert s.DEBUG is True


def test_keyword_overrides_win_over_the_environment():
    s = load_settings("settings.test", environ={"PORT": "9001"}, PORT=9100)
    assert s.PORT == 9100


def test_relative_embedded_path_is_relative_to_base_dir():
    s = load_settings("settings.test", environ={"DATABASE_URL": "embedded:var/other.sqlite3"})
    assert s.DATABASE_URL == f"embedded:{s.BASE_DIR / 'var' / 'other.sqlite3'}"


@pytest.mark.parametrize("name, value, words", [
    ("BCRYPT_ROUNDS", "many", "BCRYPT_ROUNDS must be an integer"),
    ("BCRYPT_ROUNDS", "3", "BCRYPT_ROUNDS must be an integer from 4 to 31"),
    ("PORT", "70000", "PORT must be an integer from 0 to 65535"),
    ("MONGO_DRIVER", "mongoengine", "MONGO_DRIVER must be one of motor, pymongo"),
    ("DATABASE_URL", "postgres://x/y", "unknown scheme 'postgres'"),
    ("DATABASE_URL", "nonsense", "DATABASE_URL must look like"),
    ("DEBUG", "maybe", "DEBUG must be true/false"),
])
def test_bad_values_are_refused_with_a_clear_message(name, value, words):
    with pytest.raises(ImproperlyConfigured) as info:
        load_settings("settings.test", environ={name: value})
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_settings_module_is_a_clear_error():
    with pytest.raises(ImproperlyConfigured, match="settings module 'settings.nope'"):
        load_settings("settings.nope", environ={})


def test_settings_attribute_access_and_missing_names():
    s = load_settings("settings.test", environ={})
    assert s.get("NOT_A_SETTING", 5) == 5
    with pytest.raises(AttributeError, match="NOT_A_SETTING.*settings.test"):
        s.NOT_A_SETTING  # noqa: B018


def test_lazy_settings_load_on_first_use_and_can_be_configured():
    lazy = LazySettings()
    assert not lazy.configured
    custom = load_settings("settings.test", environ={}, PORT=1234)
    lazy.configure(custom)
    assert lazy.PORT == 1234
    lazy.reset()
    assert not lazy.configured


def test_dev_creates_a_private_cookie_secret_once(tmp_path):
    var = tmp_path / "var"
    first = load_settings("settings.dev", environ={}, VAR_DIR=var)
    path = var / "cookie_secret"
    assert path.exists()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(first.COOKIE_SECRET) >= 40
    assert path.read_text().strip() == first.COOKIE_SECRET
    second = load_settings("settings.dev", environ={}, VAR_DIR=var)
    assert second.COOKIE_SECRET == first.COOKIE_SECRET


def test_dev_uses_cookie_secret_from_env_without_writing_a_file(tmp_path):
    s = load_settings("settings.dev", environ={"COOKIE_SECRET": "given", "VAR_DIR": str(tmp_path)})
    assert s.COOKIE_SECRET == "given"
    assert s.VAR_DIR == tmp_path
    assert not (tmp_path / "cookie_secret").exists()


def test_production_requires_cookie_secret_and_sets_secure_cookies():
    with pytest.raises(ImproperlyConfigured, match="COOKIE_SECRET is not set"):
        load_settings("settings.production", environ={})
    s = load_settings("settings.production", environ={"COOKIE_SECRET": "s" * 48})
    assert s.SECURE_COOKIES is True
    assert s.DEBUG is False


def test_production_without_secret_exits_1_with_one_line(tmp_path):
    env = manage_env(tmp_path, BASTION_SETTINGS="settings.production")
    for command in (["check"], ["runserver", "--port", "0"]):
        result = manage(command, env)
        assert result.returncode == 1, result
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error: COOKIE_SECRET is not set")
        assert "Traceback" not in result.stderr


def test_xheaders_can_be_turned_on_from_the_environment():
    assert load_settings("settings.test", environ={}).XHEADERS is False
    assert load_settings("settings.test", environ={"XHEADERS": "true"}).XHEADERS is True


# -- settings that contradict each other -------------------------------------------------------
@pytest.mark.parametrize("overrides, words", [
    ({"SESSION_IDLE_SECONDS": 30}, "SESSION_IDLE_SECONDS (30) must be at least 120"),
    ({"SESSION_IDLE_SECONDS": 60}, "logs out users who are active"),
    ({"SESSION_IDLE_SECONDS": 0}, "SESSION_IDLE_SECONDS must be an integer of at least 1"),
    ({"SESSION_IDLE_SECONDS": 7200, "SESSION_MAX_AGE_SECONDS": 3600},
     "SESSION_MAX_AGE_SECONDS (3600) is below SESSION_IDLE_SECONDS (7200)"),
    ({"MAX_BODY_SIZE": 1000}, "API_MAX_BODY_SIZE (1048576) is above MAX_BODY_SIZE (1000)"),
    ({"MAX_BODY_SIZE": -1}, "MAX_BODY_SIZE must be an integer of at least 1"),
    ({"API_MAX_BODY_SIZE": "1m"}, "API_MAX_BODY_SIZE must be an integer"),
    ({"AUTORELOAD": True, "PROCESSES": 0}, "AUTORELOAD works with one process only"),
    ({"PROCESSES": -2}, "PROCESSES must be an integer of at least 0"),
    ({"SHUTDOWN_TIMEOUT": -1}, "SHUTDOWN_TIMEOUT must be a number of at least 0"),
    ({"HSTS_SECONDS": 1.5}, "HSTS_SECONDS must be an integer"),
    ({"FILE_UPLOAD_MAX_BYTES": 0}, "FILE_UPLOAD_MAX_BYTES must be an integer of at least 1"),
])
def test_contradicting_settings_are_refused_in_one_line(overrides, words):
    with pytest.raises(ImproperlyConfigured) as info:
        load_settings("settings.test", environ={}, **overrides)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_consistent_edge_values_are_accepted():
    s = load_settings("settings.test", environ={}, SESSION_IDLE_SECONDS=120,
                      SESSION_MAX_AGE_SECONDS=120, MAX_BODY_SIZE=1024 * 1024,
                      AUTORELOAD=True, PROCESSES=1, SHUTDOWN_TIMEOUT=0)
    assert (s.SESSION_IDLE_SECONDS, s.MAX_BODY_SIZE) == (120, 1024 * 1024)


CONTRADICTING = '''
from settings.test import *  # noqa: F401,F403

SESSION_IDLE_SECONDS = 30
'''


def test_contradicting_settings_stop_check_runserver_and_other_commands(tmp_path):
    module = f"bastion_contradicting_{os.getpid()}"
    (tmp_path / "pkgs").mkdir()
    (tmp_path / "pkgs" / f"{module}.py").write_text(CONTRADICTING)
    env = manage_env(tmp_path, BASTION_SETTINGS=module, PYTHONPATH=tmp_path / "pkgs")
    for command in (["check"], ["runserver", "--port", "0"], ["ensure_indexes"]):
        result = manage(command, env)
        assert result.returncode == 1, (command, result)
        lines = result.stderr.strip().splitlines()
        assert lines == ["error: SESSION_IDLE_SECONDS (30) must be at least 120: a session's "
                         "last use is recorded at most once every 60 s, so a shorter idle "
                         "timeout logs out users who are active"], (command, result.stderr)


def test_production_refuses_a_short_cookie_secret(tmp_path):
    with pytest.raises(ImproperlyConfigured) as info:
        load_settings("settings.production", environ={"COOKIE_SECRET": "s" * 31})
    assert str(info.value).startswith("COOKIE_SECRET is 31 bytes; production needs at least 32")
    assert "\n" not in str(info.value)
    s = load_settings("settings.production", environ={"COOKIE_SECRET": "s" * 32})
    assert s.HSTS_SECONDS == 365 * 24 * 3600
    env = manage_env(tmp_path, BASTION_SETTINGS="settings.production", COOKIE_SECRET="short")
    result = manage(["check"], env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: COOKIE_SECRET is 5 bytes; production needs at least 32 (e.g. COOKIE_SECRET="
        "$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))'))"]
