"""Defaults shared by every environment. See docs/settings.md for each setting.

Only UPPER_CASE names are settings. ``core.conf`` applies environment-variable
overrides (``DATABASE_URL``, ``MONGO_DRIVER``, ``COOKIE_SECRET``,
``BCRYPT_ROUNDS``, ``PORT``, ``DEBUG``, ``VAR_DIR``, ``EMAIL_URL``...: docs/settings.md
lists them) on top of the module, then calls the module's ``finalize(settings)`` if it
defines one.
"""
from pathlib import Path

# The project checkout (the folder holding manage.py).
BASE_DIR = Path(__file__).resolve().parent.parent

# Local state: the embedded database, the dev cookie secret. Git ignores var/.
VAR_DIR = BASE_DIR / "var"

DEBUG = False

# -- database ---------------------------------------------------------------------------------
# "embedded:PATH" (SQLite file; a relative PATH is relative to BASE_DIR), "memory:",
# or "mongodb://HOST:PORT/DBNAME" / "mongodb+srv://...".
DATABASE_URL = "embedded:var/bastion.sqlite3"
# Driver for mongodb:// URLs: "motor" or "pymongo" (PyMongo's AsyncMongoClient).
MONGO_DRIVER = "motor"
# Seconds /healthz and `manage.py check` wait for the database to answer a ping.
DATABASE_PING_TIMEOUT = 2.0

# -- apps -------------------------------------------------------------------------------------
# App packages; each has an app.py defining a core.registry.App subclass.
INSTALLED_APPS = [
    "core.audit",
    "apps.accounts",
    "apps.blog",
    "apps.shop",
]

# -- HTTP server ------------------------------------------------------------------------------
ADDRESS = "127.0.0.1"
PORT = 8000
# Worker processes for runserver: 1 = no fork, 0 = one per CPU.
PROCESSES = 1
# Largest request body accepted (bytes); bigger bodies get 413.
MAX_BODY_SIZE = 10 * 1024 * 1024
# The time zone pages show and take times in, for users without their own (stored: UTC).
TIME_ZONE = "UTC"
# Largest file a FileField accepts unless it says otherwise (bytes); below MAX_BODY_SIZE.
FILE_UPLOAD_MAX_BYTES = 8 * 1024 * 1024
# Trust X-Real-Ip / X-Forwarded-For / X-Scheme from a reverse proxy.
XHEADERS = False
# Seconds a graceful shutdown waits for in-flight requests.
SHUTDOWN_TIMEOUT = 10.0
# Reload the server when a source file changes (single process only).
AUTORELOAD = False

# -- templates and static files ---------------------------------------------------------------
TEMPLATE_DIRS = [BASE_DIR / "templates"]
STATIC_DIR = BASE_DIR / "static"
STATIC_URL = "/static/"

# -- security ---------------------------------------------------------------------------------
# Signs secure cookies (sessions, XSRF). Required in production; dev creates one in VAR_DIR.
COOKIE_SECRET = None
# Mark cookies Secure (HTTPS only). On in production.
SECURE_COOKIES = False
# Strict-Transport-Security max-age in seconds on every response (0 = not sent). A year
# in production: browsers then refuse plain HTTP to the site.
HSTS_SECONDS = 0
# bcrypt work factor for password hashes.
BCRYPT_ROUNDS = 12
LOGIN_URL = "/admin/login/"
# Permissions a user made by `manage.py createuser` without --perm gets,
# e.g. {"blog.article": ["read"]}.
DEFAULT_PERMISSIONS = {}
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Sent on every response (core.handlers.base); a handler may override one of them.
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}

# -- logging in and sessions (core.auth) ------------------------------------------------------
# The user model, as "<app_label>.<model_name>"; core finds it through the registry.
AUTH_USER_MODEL = "accounts.user"
# A session unused this long is over (seconds); last use is recorded at most once a minute.
SESSION_IDLE_SECONDS = 2 * 60 * 60
# A session this old is over however busy it is (seconds).
SESSION_MAX_AGE_SECONDS = 14 * 24 * 60 * 60
# How long a process may reuse a session's user and permissions without reading them
# again (seconds; 0: read them on every request). Logout, a password change, a
# deactivation and any saved user or role count at once in every process anyway: the
# session and the "auth epoch" are read on every request (docs/deploy.md).
AUTH_CACHE_SECONDS = 5
# Logins are refused (429, Retry-After; the password is not checked) after this many
# failures within the window for one username from one client address (USER_LIMIT) or
# from one address for any username (IP_LIMIT): locked for BASE_DELAY_SECONDS after the
# latest failure, doubling with each further failure, at most the window.
LOGIN_THROTTLE_USER_LIMIT = 5
LOGIN_THROTTLE_IP_LIMIT = 20
LOGIN_THROTTLE_WINDOW_SECONDS = 15 * 60
LOGIN_THROTTLE_BASE_DELAY_SECONDS = 60
# This many failures for one username from all addresses within the window: every address
# that has failed for it gets one try; addresses that have not are unaffected (0: off).
LOGIN_THROTTLE_ATTACK_LIMIT = 50
# Password checks (bcrypt) running at once per process; 0 = CPUs - 1 (at least 1), which
# leaves a core to the event loop during a burst of logins.
LOGIN_THROTTLE_CONCURRENCY = 0
# Let visitors create their own account at /admin/register/ (404 when off).
ALLOW_REGISTRATION = False
# Who must have a second factor (TOTP or a passkey): "off", "staff" (superusers and every
# user holding any grant, directly or through a role) or "superusers". Such a user without
# one is made to enrol TOTP at their next login, before any session exists.
REQUIRE_2FA = "off"
# Seconds between a right password and the second step (code, passkey, enrolment).
LOGIN_CHALLENGE_SECONDS = 300
# The issuer name authenticator apps show next to the account.
TOTP_ISSUER = "Bastion"
# The WebAuthn relying party id passkeys are bound to: the site's domain name (None: the
# host name of SITE_URL if set, else of the request). Changing it voids every passkey.
WEBAUTHN_RP_ID = None
# The languages a user may pick on their account page: (code, name) pairs.
LANGUAGES = [("en", "English"), ("fr", "Français"), ("de", "Deutsch")]
# The language of pages for users without a preference whose browser asks for none of
# LANGUAGES, and of the command line's messages (a code of LANGUAGES).
LANGUAGE = "en"

# -- e-mail (core.mail) and password reset --------------------------------------------------
# Where mail goes: "smtp://USER:PASS@HOST:PORT" (?starttls=1 upgrades with STARTTLS),
# "smtps://USER:PASS@HOST:PORT" (TLS from the start), "console:" (printed to stdout; the dev
# default) or "file:DIR" (one .eml file per message).
EMAIL_URL = "smtp://localhost:25"
# The From address of the mail Bastion sends (password reset links, sendtestemail).
DEFAULT_FROM_EMAIL = "bastion@localhost"
# Seconds one message may take to send (connect, TLS, login, data) before it fails.
EMAIL_TIMEOUT = 10.0
# The site's public address, e.g. "https://admin.example.com": mailed links start with it.
# None: taken from each request (its Host header, and X-Scheme with XHEADERS), which a
# client chooses, so set it in production.
SITE_URL = None
# How long a mailed password reset link stays valid (seconds).
PASSWORD_RESET_SECONDS = 60 * 60

# -- the admin's look (templates/base.html) ----------------------------------------------------
# The end of every page's <title> ("Articles · Bastion") and the footer.
SITE_TITLE = "Bastion"
# The text of the header's home link on every page, the login page included (None: SITE_TITLE).
SITE_HEADER = None
# An image shown before SITE_HEADER, e.g. "/static/logo.svg" (the CSP allows 'self' images).
SITE_LOGO_URL = None

# -- first run --------------------------------------------------------------------------------
# On (dev only): `manage.py runserver` on a database with no users runs each app's
# App.first_run hook: a superuser "admin" with a random password, printed once, and demo data.
FIRST_RUN_DEMO = False

# -- JSON API ---------------------------------------------------------------------------------
# Largest JSON body /api/ accepts (bytes); bigger → 413.
API_MAX_BODY_SIZE = 1024 * 1024

# -- admin import (/admin/<app>/<model>/import/) ------------------------------------------------
# Most rows one import file may hold (more: the page asks to split the file).
IMPORT_MAX_ROWS = 1000

# -- live updates (/admin/live) ---------------------------------------------------------------
# How often each process reads new audit entries, and how far back each read looks again
# (entries committed late or by another process are caught; ids already sent are skipped).
LIVE_FEED_INTERVAL = 0.1
LIVE_FEED_OVERLAP_SECONDS = 3.0
# WebSocket heartbeat: ping every N seconds, close a client silent for the timeout.
LIVE_PING_INTERVAL = 20.0
LIVE_PING_TIMEOUT = 20.0
# How often an open socket re-reads its session and permissions (logout, revokes).
LIVE_RECHECK_SECONDS = 5.0
# Bytes of events written to a live socket and not yet read by its client before the
# socket is dropped (a stalled client never holds the others up; live.js reconnects).
LIVE_SOCKET_BUFFER_BYTES = 1024 * 1024
