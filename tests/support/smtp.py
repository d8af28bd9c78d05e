"""A real SMTP server for tests: ``aiosmtpd`` on 127.0.0.1, in its own thread and loop.

    with SmtpServer() as smtp:                    # plain SMTP, no login
        ...send to smtp.url...
        received = await smtp.wait_for(1)         # [Received(...)], parsed
    with SmtpServer(tls="starttls", tls_files=certs, login=("u", "p")) as smtp: ...
    with SmtpServer(tls="implicit", tls_files=certs) as smtp: ...   # smtps://

``TlsFiles.make(tmp_path)`` issues a throw-away CA and a certificate for 127.0.0.1 and
localhost (``trustme``); ``ca_file`` is what a client must trust (``SSL_CERT_FILE``).
``delay`` makes the server wait that long before accepting each message's data (a slow
server). ``SilentServer`` accepts connections and never says a word (a hung server).
"""
import asyncio
import email
import email.policy
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from .cli import free_port

# a mailed reset link: scheme, host, an optional SITE_URL path, the reset path with id and token
LINK_RE = re.compile(r"https?://[^\s\"<>/]+(?:/[^\s\"<>]*?)?"
                     r"/admin/password_reset/[0-9a-f]{24}/[0-9a-z]+-[0-9a-f]+/")


@dataclass
class TlsFiles:
    ca: object
    server_context: ssl.SSLContext
    ca_file: str

    @classmethod
    def make(cls, folder):
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(server_context)
        ca_file = str(folder / "test-ca.pem")
        ca.cert_pem.write_to_path(ca_file)
        return cls(ca, server_context, ca_file)

    def client_context(self):
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


@dataclass
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list
    message: object                 # email.message.EmailMessage
    login: str = None               # who logged in (None: nobody)
    tls: bool = False               # the session was encrypted

    @property
    def subject(self):
        return self.message["Subject"]

    @property
    def text(self):
        return self.message.get_body(("plain",)).get_content()

    @property
    def html(self):
        body = self.message.get_body(("html",))
        return body.get_content() if body is not None else None

    def link(self):
        """The password reset link in the text part."""
        found = LINK_RE.findall(self.text)
        assert len(found) == 1, self.text
        return found[0]


@dataclass
class Inbox:
    messages: list = field(default_factory=list)
    delay: float = 0.0

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        parsed = email.message_from_bytes(envelope.original_content or envelope.content,
                                          policy=email.policy.default)
        login = getattr(session.auth_data, "login", None)
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed,
                                      login.decode() if login else None, encrypted))
        return "250 Message accepted for delivery"


class SmtpServer:
    """An ``aiosmtpd`` server on a free 127.0.0.1 port (a context manager)."""

    def __init__(self, tls=None, tls_files=None, login=None, delay=0.0):
        self.inbox = Inbox(delay=delay)
        self.port = free_port()
        self.tls, self.login = tls, login
        kwargs = {}
        if tls == "implicit":
            kwargs["ssl_context"] = tls_files.server_context
        elif tls == "starttls":
            kwargs.update(tls_context=tls_files.server_context, require_starttls=True)
        if login is not None:
            kwargs.update(authenticator=self.authenticate, auth_required=True,
                          auth_require_tls=tls is not None)
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port,
                                     ready_timeout=5.0, **kwargs)

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        user, password = self.login
        ok = (auth_data.login.decode(), auth_data.password.decode()) == (user, password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    @property
    def url(self):
        scheme = "smtps" if self.tls == "implicit" else "smtp"
        credentials = f"{self.login[0]}:{self.login[1]}@" if self.login else ""
        query = "?starttls=1" if self.tls == "starttls" else ""
        return f"{scheme}://{credentials}127.0.0.1:{self.port}{query}"

    @property
    def messages(self):
        return list(self.inbox.messages)

    async def wait_for(self, count=1, timeout=10.0):
        """The first ``count`` messages, once they arrived (AssertionError after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while len(self.inbox.messages) < count:
            assert time.monotonic() < deadline, \
                f"{len(self.inbox.messages)} of {count} messages arrived in {timeout} s"
            await asyncio.sleep(0.02)
        return self.messages[:count]

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


class SilentServer:
    """Listens on a free 127.0.0.1 port, accepts, and never answers (a hung server)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        self.sock.settimeout(0.05)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
                self.accepted.append(conn)
            except OSError:
                continue

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(2)
        for conn in self.accepted:
            conn.close()
        self.sock.close()
