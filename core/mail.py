"""Sending e-mail: ``EMAIL_URL`` picks a backend; sending never blocks the event loop.

    from core.mail import make_message, mailer_for
    message = make_message("Subject", "alice@example.com", "text body", html="<p>html</p>",
                           from_email=settings.DEFAULT_FROM_EMAIL)
    await mailer_for(application).send(message)      # raises MailError (logged) on failure
    mailer_for(application).send_later(message)      # in the background; a failure is logged

``EMAIL_URL`` (see docs/settings.md):

``smtp://USER:PASS@HOST:PORT``   SMTP (port 25 by default); ``?starttls=1`` upgrades the
                                 connection with STARTTLS (port 587 by default) before logging
                                 in. USER and PASS are percent-encoded (``%40`` for ``@``).
``smtps://USER:PASS@HOST:PORT``  SMTP over TLS from the first byte (port 465 by default).
``console:``                     prints each message (headers and decoded text) to stdout:
                                 the development default, so ``make run`` shows reset links.
``file:DIR``                     writes each message to ``DIR/<time>-<random>.eml`` (mode
                                 0600; a relative DIR is relative to ``BASE_DIR``).

TLS certificates are verified against the system's trust store (``SSL_CERT_FILE`` names
another bundle). SMTP is spoken by ``aiosmtplib``, natively async: no thread is held while a
slow server answers, and ``EMAIL_TIMEOUT`` bounds the whole send (connect, TLS, login, data)
with a cancellation that really stops it, which a blocking ``smtplib`` call in a thread could
not. The console and file backends write from a small thread pool. At most
``Mailer.max_concurrent`` messages are in flight per process, and ``send_later`` keeps at
most ``Mailer.max_pending`` waiting (more are dropped, with a log line).

A failure is one ``bastion.mail`` log line (backend, recipients, subject, error; never the
password) and a ``MailError`` for the caller of ``send``.
"""
import asyncio
import concurrent.futures
import email.policy
import email.utils
import logging
import os
import secrets
import ssl
import sys
import time
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

import aiosmtplib

from core.conf import ImproperlyConfigured

__all__ = ["ConsoleBackend", "EmailBackend", "FileBackend", "MailError", "Mailer",
           "SmtpBackend", "backend_from_url", "make_message", "mailer_for"]

log = logging.getLogger("bastion.mail")

DEFAULT_TIMEOUT = 10.0
SMTP_OPTIONS = ("starttls",)
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off", "")

# console and file backends write here: two threads are plenty for local writes
_WRITERS = concurrent.futures.ThreadPoolExecutor(max_workers=2,
                                                 thread_name_prefix="bastion-mail")


class MailError(Exception):
    """A message could not be sent; the text is one line, fit for a log or the CLI."""


def make_message(subject, to, text, *, html=None, from_email=None, reply_to=None):
    """An ``EmailMessage``: ``text`` (plain), plus ``html`` as the alternative if given.

    ``to`` is one address or a list. Adds ``Date`` and a ``Message-ID``.
    """
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients or not all(isinstance(a, str) and "@" in a for a in recipients):
        raise ValueError(f"a message needs recipient addresses, not {to!r}")
    for value in [subject, from_email or ""] + recipients:
        if "\n" in value or "\r" in value:
            raise ValueError("header values may not contain line breaks")
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = from_email or "webmaster@localhost"
    message["To"] = ", ".join(recipients)
    if reply_to:
        message["Reply-To"] = reply_to
    message["Date"] = email.utils.formatdate(localtime=False)
    domain = (from_email or "").rpartition("@")[2].strip("> ") or "bastion.local"
    message["Message-ID"] = email.utils.make_msgid(domain=domain)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def describe(message):
    """``'Subject' to a@x, b@y``: what a log line says about a message."""
    return f"{message.get('Subject', '')!r} to {message.get('To', '')}"


# -- backends -------------------------------------------------------------------------------
class EmailBackend:
    """Delivers one message. Subclasses implement ``deliver`` (a coroutine); ``label`` is
    how logs name the backend (never with a password)."""

    label = "?"

    async def deliver(self, message, timeout):
        """Send ``message`` within ``timeout`` seconds; raise any exception on failure.

        Called by ``Mailer.send``, which turns the exception into a log line and a
        ``MailError``. Overriding it is how a new transport is added.
        """
        raise NotImplementedError

    def __repr__(self):
        return f"<{type(self).__name__} {self.label}>"


class SmtpBackend(EmailBackend):
    """SMTP through ``aiosmtplib``: plain, STARTTLS (``starttls``) or implicit TLS
    (``use_tls``); logs in when ``username`` is given. ``tls_context`` defaults to
    ``ssl.create_default_context()`` (certificates and host names verified)."""

    def __init__(self, host, port, username=None, password=None, use_tls=False,
                 starttls=False, tls_context=None):
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.use_tls, self.starttls = use_tls, starttls
        self.tls_context = tls_context
        scheme = "smtps" if use_tls else "smtp"
        user = f"{quote(username, safe='')}@" if username else ""
        self.label = f"{scheme}://{user}{host}:{port}{'?starttls=1' if starttls else ''}"

    def get_tls_context(self):
        """The context TLS uses (made once); override to pin a certificate."""
        if self.tls_context is None:
            self.tls_context = ssl.create_default_context()
        return self.tls_context

    async def deliver(self, message, timeout):
        tls = self.use_tls or self.starttls
        await aiosmtplib.send(
            message, hostname=self.host, port=self.port, username=self.username,
            password=self.password, use_tls=self.use_tls, start_tls=self.starttls,
            tls_context=self.get_tls_context() if tls else None, timeout=timeout)


class ConsoleBackend(EmailBackend):
    """Prints each message to ``stream`` (stdout): its headers, then each text part decoded,
    so a link in it can be clicked (the raw wire form would break long lines)."""

    label = "console:"
    headers = ("From", "To", "Subject", "Date", "Message-ID")

    def __init__(self, stream=None):
        self.stream = stream

    def render(self, message):
        lines = [f"{name}: {message[name]}" for name in self.headers if message[name]]
        for part in message.walk():
            if part.get_content_maintype() == "text":
                lines += ["", f"[{part.get_content_type()}]", part.get_content().rstrip("\n")]
        rule = "-" * 72
        return "\n".join([rule] + lines + [rule, ""])

    def write(self, text):
        stream = self.stream or sys.stdout
        stream.write(text)
        stream.flush()

    async def deliver(self, message, timeout):
        text = self.render(message)
        await asyncio.get_running_loop().run_in_executor(_WRITERS, self.write, text)


class FileBackend(EmailBackend):
    """Writes each message to its own ``.eml`` file in ``directory`` (made if missing)."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.label = f"file:{self.directory}"

    def write(self, data):
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(6)}.eml"
        partial = self.directory / f".{name}.part"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        final = self.directory / name
        os.replace(partial, final)       # readers never see half a message
        return final

    async def deliver(self, message, timeout):
        data = message.as_bytes(policy=email.policy.SMTP)
        return await asyncio.get_running_loop().run_in_executor(_WRITERS, self.write, data)


def _flag(name, values):
    raw = (values[-1] if values else "").strip().lower()
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"EMAIL_URL option {name} must be 1 or 0, not {raw!r}")


def backend_from_url(url, base_dir=None):
    """The ``EmailBackend`` for an ``EMAIL_URL``; ``ImproperlyConfigured`` (one line) if the
    URL is wrong. A relative ``file:`` folder is relative to ``base_dir``."""
    if not isinstance(url, str) or ":" not in url:
        raise ImproperlyConfigured(f"EMAIL_URL must look like smtp://HOST:PORT, smtps://..., "
                                   f"console: or file:DIR, not {url!r}")
    scheme = url.partition(":")[0].lower()
    if scheme == "console":
        return ConsoleBackend()
    if scheme == "file":
        folder = url.partition(":")[2]
        if folder.startswith("//"):
            folder = urlsplit(url).path
        if not folder:
            raise ImproperlyConfigured("EMAIL_URL 'file:' needs a folder, e.g. file:var/mail")
        path = Path(unquote(folder)).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        return FileBackend(path)
    if scheme not in ("smtp", "smtps"):
        raise ImproperlyConfigured(f"EMAIL_URL has unknown scheme {scheme!r} (expected smtp, "
                                   "smtps, console or file)")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured("EMAIL_URL has a port that is not a number from 0 to "
                                   "65535") from None
    if not parts.hostname:
        raise ImproperlyConfigured(f"EMAIL_URL {scheme}:// needs a host, e.g. "
                                   f"{scheme}://smtp.example.com")
    options = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(options) - set(SMTP_OPTIONS))
    if unknown:
        raise ImproperlyConfigured(f"EMAIL_URL has unknown option(s) {', '.join(unknown)} "
                                   f"(known: {', '.join(SMTP_OPTIONS)})")
    starttls = _flag("starttls", options.get("starttls"))
    use_tls = scheme == "smtps"
    if use_tls and starttls:
        raise ImproperlyConfigured("EMAIL_URL: smtps:// is TLS already; drop ?starttls=1 "
                                   "(or use smtp://...?starttls=1)")
    if port is None:
        port = 465 if use_tls else 587 if starttls else 25
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    return SmtpBackend(parts.hostname, port, username=username, password=password,
                       use_tls=use_tls, starttls=starttls)


# -- the mailer -------------------------------------------------------------------------------
class Mailer:
    """Sends messages through ``backend``: at most ``max_concurrent`` at once, each within
    ``timeout`` seconds; ``send_later`` runs a send in the background."""

    max_concurrent = 4
    max_pending = 200

    def __init__(self, backend, timeout=DEFAULT_TIMEOUT, from_email=None):
        self.backend = backend
        self.timeout = float(timeout)
        self.from_email = from_email
        self.pending = set()
        self._slots = None

    @classmethod
    def from_settings(cls, settings):
        """The mailer of ``EMAIL_URL``, ``EMAIL_TIMEOUT`` and ``DEFAULT_FROM_EMAIL``."""
        backend = backend_from_url(settings.get("EMAIL_URL") or "console:",
                                   settings.get("BASE_DIR"))
        return cls(backend, timeout=settings.get("EMAIL_TIMEOUT") or DEFAULT_TIMEOUT,
                   from_email=settings.get("DEFAULT_FROM_EMAIL"))

    def message(self, subject, to, text, **kwargs):
        """``make_message`` from ``DEFAULT_FROM_EMAIL`` (unless ``from_email`` is given)."""
        kwargs.setdefault("from_email", self.from_email)
        return make_message(subject, to, text, **kwargs)

    @property
    def slots(self):
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_concurrent)
        return self._slots

    async def send(self, message, log_failure=True):
        """Deliver ``message``; on failure log one line (unless ``log_failure`` is false: the
        caller reports it) and raise ``MailError``."""
        async with self.slots:
            try:
                await asyncio.wait_for(self.backend.deliver(message, self.timeout),
                                       self.timeout)
            except asyncio.CancelledError:
                raise
            except (asyncio.TimeoutError, TimeoutError):
                reason = f"no answer within {self.timeout:g} s"
            except Exception as exc:
                reason = f"{type(exc).__name__}: {' '.join(str(exc).split()) or 'failed'}"
            else:
                log.info("sent %s via %s", describe(message), self.backend.label)
                return
        line = f"could not send {describe(message)} via {self.backend.label}: {reason}"
        if log_failure:
            log.error("%s", line)
        raise MailError(line)

    def send_later(self, message):
        """Send ``message`` in the background (a failure is logged); False if too many are
        waiting already (the message is dropped, and that is logged)."""
        if len(self.pending) >= self.max_pending:
            log.error("could not send %s via %s: %d messages are waiting already",
                      describe(message), self.backend.label, len(self.pending))
            return False
        task = asyncio.get_running_loop().create_task(self._send_quietly(message))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)
        return True

    async def _send_quietly(self, message):
        try:
            await self.send(message)
        except MailError:
            pass                                  # logged by send

    async def drain(self, timeout=None):
        """Wait for the background sends (at most ``timeout`` s); True if none is left."""
        if not self.pending:
            return True
        done, waiting = await asyncio.wait(set(self.pending), timeout=timeout)
        return not waiting


def mailer_for(application):
    """The application's ``Mailer`` (``application.mailer``, made from its settings once)."""
    mailer = getattr(application, "mailer", None)
    if mailer is None:
        mailer = Mailer.from_settings(application.settings)
        application.mailer = mailer
    return mailer
