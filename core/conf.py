"""Settings: a Python module picked by ``BASTION_SETTINGS``, refined by the environment.

    from core.conf import settings
    settings.DATABASE_URL           # loaded on first use

    from core.conf import load_settings
    s = load_settings("settings.test", DATABASE_URL="memory:")   # a fresh object, for tests

Loading, in order:

1. import the module named by ``module_name`` / ``BASTION_SETTINGS`` (default
   ``settings.dev``) and take its UPPER_CASE names;
2. environment variables override single values (``ENV_OVERRIDES``), parsed
   into the setting's type;
3. keyword overrides given to ``load_settings`` win over both;
4. values are checked (``validate``): types and ranges, and settings that
   contradict each other (``validate_consistency``: e.g. an idle timeout shorter
   than the session touch interval) are refused; a relative ``embedded:`` path is
   made relative to ``BASE_DIR``;
5. the module's ``finalize(settings)`` runs last, if it has one: production uses
   it to refuse to start without ``COOKIE_SECRET``, dev to create one.

A problem is an ``ImproperlyConfigured`` with a one-line message, which
``manage.py`` prints as ``error: ...`` (exit 1).
"""
import importlib
import os
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_SETTINGS_MODULE = "settings.dev"
SETTINGS_ENV_VAR = "BASTION_SETTINGS"
MONGO_DRIVERS = ("motor", "pymongo")


class ImproperlyConfigured(Exception):
    """The settings (or INSTALLED_APPS) are wrong; the message says what to change."""


def names_missing_module(missing, dotted):
    """Is ``missing`` (a ModuleNotFoundError's ``name``) ``dotted`` itself or a parent of it?"""
    return bool(missing) and (dotted == missing or dotted.startswith(missing + "."))


def _parse_str(name, raw):
    return raw


def _parse_int(name, raw):
    try:
        return int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def _parse_bool(name, raw):
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be true/false (1/0), not {raw!r}")


def _parse_float(name, raw):
    try:
        return float(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None


def _parse_path(name, raw):
    return Path(raw).expanduser()


# Environment variable → parser; the variable overrides the setting of the same name.
ENV_OVERRIDES = {
    "DATABASE_URL": _parse_str,
    "MONGO_DRIVER": _parse_str,
    "COOKIE_SECRET": _parse_str,
    "BCRYPT_ROUNDS": _parse_int,
    "PORT": _parse_int,
    "DEBUG": _parse_bool,
    "VAR_DIR": _parse_path,
    "XHEADERS": _parse_bool,
    "TIME_ZONE": _parse_str,
    "LANGUAGE": _parse_str,
    "EMAIL_URL": _parse_str,
    "DEFAULT_FROM_EMAIL": _parse_str,
    "EMAIL_TIMEOUT": _parse_float,
    "SITE_URL": _parse_str,
    "PASSWORD_RESET_SECONDS": _parse_int,
    "REQUIRE_2FA": _parse_str,
}


class Settings:
    """Settings with attribute access: ``settings.DEBUG``.

    ``module`` is the dotted name the values came from. A missing name raises
    ``AttributeError`` naming the module; ``get(name, default)`` does not.
    """

    def __init__(self, module_name, values):
        object.__setattr__(self, "module", module_name)
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"setting {name!r} is not defined (settings module "
                                 f"{self.module})") from None

    def __setattr__(self, name, value):
        if not name.isupper():
            raise AttributeError(f"settings are UPPER_CASE names, not {name!r}")
        self._values[name] = value

    def __contains__(self, name):
        return name in self._values

    def get(self, name, default=None):
        return self._values.get(name, default)

    def as_dict(self):
        """A copy of every setting (secrets included: do not log it)."""
        return dict(self._values)

    def __repr__(self):
        return f"<Settings {self.module}>"


def load_settings(module_name=None, *, environ=None, **overrides):
    """Build a fresh ``Settings`` (see the module docstring for the order).

    ``module_name`` defaults to ``$BASTION_SETTINGS`` or ``settings.dev``;
    ``environ`` defaults to ``os.environ``; ``overrides`` are UPPER_CASE settings.
    """
    environ = os.environ if environ is None else environ
    module_name = module_name or environ.get(SETTINGS_ENV_VAR) or DEFAULT_SETTINGS_MODULE
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if names_missing_module(exc.name, module_name):
            raise ImproperlyConfigured(
                f"settings module {module_name!r} cannot be imported (no module named "
                f"{exc.name!r}); check {SETTINGS_ENV_VAR}") from None
        raise
    values = {name: getattr(module, name) for name in dir(module) if name.isupper()}
    for name, parse in ENV_OVERRIDES.items():
        raw = environ.get(name)
        if raw is not None and (raw != "" or name == "DEBUG"):
            values[name] = parse(name, raw)
    for name, value in overrides.items():
        if not name.isupper():
            raise TypeError(f"setting overrides are UPPER_CASE names, not {name!r}")
        values[name] = value
    settings = Settings(module_name, values)
    validate(settings)
    finalize = getattr(module, "finalize", None)
    if callable(finalize):
        finalize(settings)
    return settings


def validate(settings):
    """Check types and ranges; normalise paths. Raises ``ImproperlyConfigured``."""
    for name in ("BASE_DIR", "VAR_DIR", "STATIC_DIR"):
        if name not in settings:
            raise ImproperlyConfigured(f"{settings.module} must define {name}")
        settings._values[name] = Path(settings.get(name)).expanduser()
    base = settings.BASE_DIR
    if not settings.VAR_DIR.is_absolute():
        settings.VAR_DIR = base / settings.VAR_DIR
    settings.TEMPLATE_DIRS = [Path(d) if Path(d).is_absolute() else base / d
                              for d in settings.get("TEMPLATE_DIRS", [])]

    url = settings.get("DATABASE_URL")
    if not isinstance(url, str) or ":" not in url:
        raise ImproperlyConfigured(f"DATABASE_URL must look like 'embedded:PATH', 'memory:' "
                                   f"or 'mongodb://HOST/DB', not {url!r}")
    scheme, _, rest = url.partition(":")
    if scheme not in ("embedded", "memory", "mongodb", "mongodb+srv"):
        raise ImproperlyConfigured(f"DATABASE_URL has unknown scheme {scheme!r} (expected "
                                   "embedded, memory, mongodb or mongodb+srv)")
    if scheme == "embedded":
        if not rest:
            raise ImproperlyConfigured("DATABASE_URL 'embedded:' needs a file path, "
                                       "e.g. embedded:var/bastion.sqlite3")
        path = Path(rest).expanduser()
        if not path.is_absolute():
            settings.DATABASE_URL = f"embedded:{base / path}"

    if settings.get("MONGO_DRIVER") not in MONGO_DRIVERS:
        raise ImproperlyConfigured(f"MONGO_DRIVER must be one of {', '.join(MONGO_DRIVERS)}, "
                                   f"not {settings.get('MONGO_DRIVER')!r}")
    rounds = settings.get("BCRYPT_ROUNDS")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or not 4 <= rounds <= 31:
        raise ImproperlyConfigured(f"BCRYPT_ROUNDS must be an integer from 4 to 31, "
                                   f"not {rounds!r}")
    port = settings.get("PORT")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ImproperlyConfigured(f"PORT must be an integer from 0 to 65535, not {port!r}")
    apps = settings.get("INSTALLED_APPS")
    if not isinstance(apps, (list, tuple)) or not all(isinstance(a, str) for a in apps):
        raise ImproperlyConfigured("INSTALLED_APPS must be a list of dotted package names")
    if len(set(apps)) != len(apps):
        raise ImproperlyConfigured("INSTALLED_APPS lists the same package twice")
    secret = settings.get("COOKIE_SECRET")
    if secret is not None and not isinstance(secret, (str, bytes)):
        raise ImproperlyConfigured("COOKIE_SECRET must be a string")
    validate_mail(settings)
    validate_accounts(settings)
    validate_consistency(settings)


def validate_mail(settings):
    """The mail and link settings (``EMAIL_URL`` itself is parsed by ``core.mail`` when the
    application or a command builds its mailer): ``PASSWORD_RESET_SECONDS`` at least 60,
    ``EMAIL_TIMEOUT`` above 0, ``DEFAULT_FROM_EMAIL`` one address, and ``SITE_URL`` ``None``
    or ``http(s)://host[:port][/prefix]``, kept without its trailing slash (mailed links
    append ``/admin/...`` to it)."""
    _number(settings, "PASSWORD_RESET_SECONDS", 60, default=3600)
    if _number(settings, "EMAIL_TIMEOUT", 0, integer=False, default=10.0) <= 0:
        raise ImproperlyConfigured("EMAIL_TIMEOUT must be a number above 0")
    sender = settings.get("DEFAULT_FROM_EMAIL", "bastion@localhost")
    if not isinstance(sender, str) or "@" not in sender or "\n" in sender or "\r" in sender:
        raise ImproperlyConfigured(f"DEFAULT_FROM_EMAIL must be an address like "
                                   f"noreply@example.com or 'Bastion <noreply@example.com>', "
                                   f"not {sender!r}")
    value = settings.get("SITE_URL")
    if value is None or value == "":
        settings.SITE_URL = None
        return
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
        if parts is not None:
            parts.port                              # a port that is not a number raises
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname \
            or parts.query or parts.fragment or parts.username or parts.password:
        raise ImproperlyConfigured(f"SITE_URL must look like https://admin.example.com "
                                   f"(scheme, host, an optional path), not {value!r}")
    settings.SITE_URL = value.rstrip("/")


def validate_accounts(settings):
    """``REQUIRE_2FA`` is one of its choices; ``LANGUAGES`` is ``[(code, name), ...]``."""
    from core.auth.twofactor import REQUIRE_2FA_CHOICES
    policy = settings.get("REQUIRE_2FA", "off")
    if policy not in REQUIRE_2FA_CHOICES:
        raise ImproperlyConfigured(f"REQUIRE_2FA must be one of {', '.join(REQUIRE_2FA_CHOICES)}"
                                   f", not {policy!r}")
    languages = settings.get("LANGUAGES", [])
    if not isinstance(languages, (list, tuple)) or not all(
            isinstance(item, (list, tuple)) and len(item) == 2 and
            all(isinstance(part, str) and part for part in item) for item in languages):
        raise ImproperlyConfigured("LANGUAGES must be a list of (code, name) pairs, e.g. "
                                   "[('en', 'English'), ('fr', 'Français')]")
    language = settings.get("LANGUAGE", "en")
    codes = [code for code, _name in languages]
    if not isinstance(language, str) or (codes and language not in codes):
        raise ImproperlyConfigured(f"LANGUAGE must be one of the codes of LANGUAGES "
                                   f"({', '.join(codes)}), not {language!r}")
    _number(settings, "LOGIN_CHALLENGE_SECONDS", 30, default=300)


def _number(settings, name, minimum, integer=True, default=None):
    value = settings.get(name, default)
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value < minimum:
        kind = "an integer" if integer else "a number"
        raise ImproperlyConfigured(f"{name} must be {kind} of at least {minimum}, "
                                   f"not {value!r}")
    return value


def validate_consistency(settings):
    """Refuse settings that contradict each other (``ImproperlyConfigured``, one line).

    Called by ``validate``, so every command and the server refuse them at start-up,
    and ``manage.py check`` reports them.
    """
    from core.auth.sessions import TOUCH_SECONDS as touch   # last use written this often
    idle = _number(settings, "SESSION_IDLE_SECONDS", 1, default=2 * 3600)
    max_age = _number(settings, "SESSION_MAX_AGE_SECONDS", 1, default=14 * 86400)
    if idle < 2 * touch:
        raise ImproperlyConfigured(
            f"SESSION_IDLE_SECONDS ({idle}) must be at least {2 * touch}: a session's last "
            f"use is recorded at most once every {touch} s, so a shorter idle timeout "
            "logs out users who are active")
    if max_age < idle:
        raise ImproperlyConfigured(
            f"SESSION_MAX_AGE_SECONDS ({max_age}) is below SESSION_IDLE_SECONDS ({idle}); "
            "the absolute session lifetime must be at least the idle timeout")
    body = _number(settings, "MAX_BODY_SIZE", 1, default=10 * 1024 * 1024)
    api_body = _number(settings, "API_MAX_BODY_SIZE", 1, default=1024 * 1024)
    if api_body > body:
        raise ImproperlyConfigured(
            f"API_MAX_BODY_SIZE ({api_body}) is above MAX_BODY_SIZE ({body}); the server "
            "refuses any body over MAX_BODY_SIZE, so the API limit must not exceed it")
    _number(settings, "FILE_UPLOAD_MAX_BYTES", 1, default=8 * 1024 * 1024)
    from core.timezones import is_zone_name
    zone = settings.get("TIME_ZONE", "UTC")
    if not is_zone_name(zone):
        raise ImproperlyConfigured(f"TIME_ZONE must name a time zone such as 'Europe/Paris' "
                                   f"or 'UTC', not {zone!r}")
    processes = _number(settings, "PROCESSES", 0, default=1)
    if processes != 1 and settings.get("AUTORELOAD"):
        raise ImproperlyConfigured(f"AUTORELOAD works with one process only, but PROCESSES "
                                   f"is {processes}")
    _number(settings, "SHUTDOWN_TIMEOUT", 0, integer=False, default=10.0)
    _number(settings, "HSTS_SECONDS", 0, default=0)


def ensure_dev_cookie_secret(var_dir):
    """Return the secret in ``var_dir/cookie_secret``, creating it (mode 0600) if missing.

    Safe when several processes start at once: the file is created exclusively
    and a process that loses the race reads the winner's secret.
    """
    var_dir = Path(var_dir)
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "cookie_secret"
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            existing = path.read_text().strip()
            if existing:
                return existing
            time.sleep(0.01)  # another process created it and is writing it now
        raise ImproperlyConfigured(f"{path} is empty; delete it to get a new secret") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret


class LazySettings:
    """The process-wide settings, loaded on first attribute access.

    ``configure(settings)`` installs a given ``Settings`` instead (``manage.py``
    and tests use it); ``reset()`` forgets it so the next access loads again.
    """

    def __init__(self):
        object.__setattr__(self, "_wrapped", None)

    def _setup(self):
        if self._wrapped is None:
            object.__setattr__(self, "_wrapped", load_settings())
        return self._wrapped

    def __getattr__(self, name):
        return getattr(self._setup(), name)

    def __setattr__(self, name, value):
        setattr(self._setup(), name, value)

    def __contains__(self, name):
        return name in self._setup()

    def configure(self, settings):
        object.__setattr__(self, "_wrapped", settings)
        return settings

    def reset(self):
        object.__setattr__(self, "_wrapped", None)

    @property
    def configured(self):
        return self._wrapped is not None

    def __repr__(self):
        return f"<LazySettings {self._wrapped!r}>"


settings = LazySettings()
