"""``core.mail``: every ``EMAIL_URL`` backend, each against a real server or file.

SMTP is checked against a real ``aiosmtpd`` server on 127.0.0.1 (``support.smtp``): plain
with a login, STARTTLS and implicit TLS with a throw-away CA made by ``trustme`` (the
client verifies the certificate), a refused login, a hung server (the timeout), a slow one
(the event loop keeps running meanwhile).
"""
import asyncio
import email
import email.policy
import logging
import os
import stat

import pytest

from core.conf import ImproperlyConfigured
from core.mail import (ConsoleBackend, FileBackend, MailError, Mailer, SmtpBackend,
                       backend_from_url, make_message)
from support.smtp import SilentServer, SmtpServer, TlsFiles

# the test server logs in over plain SMTP on purpose (the login check, without TLS)
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

LONG_LINK = "http://127.0.0.1:8000/admin/password_reset/" + "a" * 24 + "/" + "b" * 60 + "/"


def message(to="alice@example.com", html="<p>Hello <b>HTML</b></p>"):
    return make_message("Hello from a test", to, f"Hello text\n{LONG_LINK}\n", html=html,
                        from_email="Bastion <noreply@example.com>")


@pytest.fixture
def tls(tmp_path):
    return TlsFiles.make(tmp_path)


# -- EMAIL_URL --------------------------------------------------------------------------------
def test_smtp_urls_give_host_port_login_and_tls_mode():
    plain = backend_from_url("smtp://mail.example.com")
    assert (plain.host, plain.port, plain.username, plain.use_tls, plain.starttls) == \
        ("mail.example.com", 25, None, False, False)
    upgraded = backend_from_url("smtp://apikey:s%3Acret%40x@smtp.example.com?starttls=1")
    assert (upgraded.port, upgraded.username, upgraded.password, upgraded.starttls) == \
        (587, "apikey", "s:cret@x", True)
    implicit = backend_from_url("smtps://u%40example.com:pw@smtp.example.com:2465")
    assert (implicit.port, implicit.username, implicit.use_tls) == (2465, "u@example.com", True)
    assert "pw" not in implicit.label and "pw" not in repr(implicit)
    assert backend_from_url("smtps://smtp.example.com").port == 465


def test_console_and_file_urls(tmp_path):
    assert isinstance(backend_from_url("console:"), ConsoleBackend)
    relative = backend_from_url("file:var/mail", base_dir=tmp_path)
    assert isinstance(relative, FileBackend) and relative.directory == tmp_path / "var" / "mail"
    assert backend_from_url(f"file:{tmp_path}/box").directory == tmp_path / "box"


@pytest.mark.parametrize("url, words", [
    ("", "must look like"),
    ("gopher://x", "unknown scheme 'gopher'"),
    ("smtp://", "needs a host"),
    ("smtp://h:99999", "port"),
    ("smtp://h?tls=1", "unknown option(s) tls"),
    ("smtp://h?starttls=maybe", "must be 1 or 0"),
    ("smtps://h?starttls=1", "TLS already"),
    ("file:", "needs a folder"),
])
def test_wrong_urls_are_one_line_errors(url, words):
    with pytest.raises(ImproperlyConfigured) as info:
        backend_from_url(url)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_message_has_text_html_date_and_id_and_refuses_header_injection():
    built = message()
    assert built["From"] == "Bastion <noreply@example.com>"
    assert built["Message-ID"].endswith("@example.com>") and built["Date"]
    assert built.get_body(("plain",)).get_content().startswith("Hello text")
    assert "<b>HTML</b>" in built.get_body(("html",)).get_content()
    with pytest.raises(ValueError):
        make_message("Hi\nBcc: victim@example.com", "a@example.com", "x")
    with pytest.raises(ValueError):
        make_message("Hi", "not-an-address", "x")


# -- SMTP against a real server ----------------------------------------------------------------
async def test_plain_smtp_with_login_delivers_text_and_html():
    with SmtpServer(login=("mailer", "s3cret")) as smtp:
        mailer = Mailer(backend_from_url(smtp.url), timeout=5)
        await mailer.send(message(to=["alice@example.com", "bob@example.com"]))
        (got,) = await smtp.wait_for(1)
    assert got.login == "mailer" and not got.tls
    assert got.mail_from == "noreply@example.com"
    assert got.rcpt_tos == ["alice@example.com", "bob@example.com"]
    assert got.subject == "Hello from a test"
    assert LONG_LINK in got.text                       # decoded: the long line is whole
    assert "<b>HTML</b>" in got.html


async def test_refused_login_is_a_mail_error_and_one_log_line_without_the_password(caplog):
    with SmtpServer(login=("mailer", "s3cret")) as smtp:
        url = smtp.url.replace("s3cret", "wrong-pass")
        mailer = Mailer(backend_from_url(url), timeout=5)
        with caplog.at_level(logging.ERROR, logger="bastion.mail"):
            with pytest.raises(MailError) as info:
                await mailer.send(message())
        assert smtp.messages == []
    lines = [r.getMessage() for r in caplog.records if r.name == "bastion.mail"]
    assert len(lines) == 1 and "\n" not in lines[0]
    assert lines[0] == str(info.value)
    assert "could not send 'Hello from a test' to alice@example.com via smtp://mailer@" \
        in lines[0]
    assert "SMTPAuthenticationError" in lines[0] and "wrong-pass" not in lines[0]


async def test_starttls_verifies_the_certificate_then_logs_in(tls, monkeypatch):
    with SmtpServer(tls="starttls", tls_files=tls, login=("mailer", "s3cret")) as smtp:
        assert "?starttls=1" in smtp.url
        untrusted = Mailer(backend_from_url(smtp.url), timeout=5)
        with pytest.raises(MailError, match="CERTIFICATE_VERIFY_FAILED|certificate verify"):
            await untrusted.send(message())       # the throw-away CA is not trusted yet
        monkeypatch.setenv("SSL_CERT_FILE", tls.ca_file)
        trusted = Mailer(backend_from_url(smtp.url), timeout=5)
        await trusted.send(message())
        (got,) = await smtp.wait_for(1)
    assert got.tls and got.login == "mailer"


async def test_smtps_is_tls_from_the_first_byte(tls):
    with SmtpServer(tls="implicit", tls_files=tls) as smtp:
        assert smtp.url.startswith("smtps://")
        backend = backend_from_url(smtp.url)
        backend.tls_context = tls.client_context()       # trust the test CA
        await Mailer(backend, timeout=5).send(message())
        (got,) = await smtp.wait_for(1)
    assert got.tls and got.subject == "Hello from a test"


async def test_a_server_that_never_answers_fails_within_the_timeout(caplog):
    with SilentServer() as silent:
        mailer = Mailer(SmtpBackend("127.0.0.1", silent.port), timeout=0.3)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with caplog.at_level(logging.ERROR, logger="bastion.mail"):
            with pytest.raises(MailError, match=r"no answer within 0.3 s"):
                await mailer.send(message())
        assert loop.time() - started < 2.0
    assert any("no answer within 0.3 s" in r.getMessage() for r in caplog.records)


async def test_the_event_loop_keeps_running_while_a_slow_server_takes_the_message():
    with SmtpServer(delay=0.5) as smtp:
        mailer = Mailer(backend_from_url(smtp.url), timeout=5)
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.ensure_future(ticker())
        try:
            await mailer.send(message())
        finally:
            task.cancel()
        assert len(smtp.messages) == 1
    assert ticks >= 10, ticks        # ~50 in 0.5 s; a held loop would tick once or never


async def test_send_later_sends_in_the_background_and_bounds_the_queue(caplog):
    with SmtpServer() as smtp:
        mailer = Mailer(backend_from_url(smtp.url), timeout=5)
        mailer.max_pending = 2
        assert mailer.send_later(message(to="a@example.com"))
        assert mailer.send_later(message(to="b@example.com"))
        with caplog.at_level(logging.ERROR, logger="bastion.mail"):
            assert mailer.send_later(message(to="c@example.com")) is False
        assert await mailer.drain(5)
        got = await smtp.wait_for(2)
    assert sorted(m.rcpt_tos[0] for m in got) == ["a@example.com", "b@example.com"]
    assert any("2 messages are waiting already" in r.getMessage() for r in caplog.records)


async def test_a_failed_background_send_is_logged_not_raised(caplog):
    mailer = Mailer(SmtpBackend("127.0.0.1", 1), timeout=2)     # nothing listens on port 1
    with caplog.at_level(logging.ERROR, logger="bastion.mail"):
        mailer.send_later(message())
        assert await mailer.drain(5)
    assert any("could not send 'Hello from a test'" in r.getMessage() for r in caplog.records)


# -- console and file -------------------------------------------------------------------------
async def test_console_prints_headers_and_decoded_text(capsys):
    await Mailer(backend_from_url("console:")).send(message())
    out = capsys.readouterr().out
    assert "Subject: Hello from a test" in out and "To: alice@example.com" in out
    assert LONG_LINK in out.splitlines()                 # one whole line, clickable
    assert "[text/html]" in out and "<b>HTML</b>" in out


async def test_file_writes_one_private_eml_per_message(tmp_path):
    folder = tmp_path / "outbox"
    mailer = Mailer(backend_from_url(f"file:{folder}"))
    await mailer.send(message(to="a@example.com"))
    await mailer.send(message(to="b@example.com"))
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 2 and not list(folder.glob(".*"))     # no partial files left
    assert stat.S_IMODE(os.stat(files[0]).st_mode) == 0o600
    parsed = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
              for f in files]
    assert sorted(p["To"] for p in parsed) == ["a@example.com", "b@example.com"]
    assert LONG_LINK in parsed[0].get_body(("plain",)).get_content()


async def test_file_backend_failure_is_a_mail_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(MailError, match="could not send .* via file:"):
        await Mailer(FileBackend(blocker / "box")).send(message())
