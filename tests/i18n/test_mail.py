"""The password reset mail is written in its recipient's language (their preference, else
the asking browser's), through a real SMTP server."""
import pytest

import support
from support import server_fixture
from support.smtp import SmtpServer

RESET = "/admin/password_reset/"


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def mail_settings(tmp_path, smtp):
    return support.make_settings(tmp_path, support.BLOG_APPS, EMAIL_URL=smtp.url,
                                 EMAIL_TIMEOUT=5.0)


server = server_fixture("mail_settings")


async def test_the_reset_mail_speaks_the_recipients_language(server, smtp):
    site = await server()
    await site.create_user("hans", language="de")
    french_browser = site.browser(remote_headers={"Accept-Language": "fr"})
    asked = await french_browser.post(RESET, {"email": "hans@example.com"})
    assert asked.code == 303
    done = await french_browser.get(asked.location)          # the page: the browser's
    assert "Consultez vos e-mails" in done.text
    (mail,) = await smtp.wait_for(1)
    assert mail.subject == "Setzen Sie Ihr Bastion-Passwort zurück"
    assert "Hallo hans," in mail.text and "innerhalb von 60 Minuten" in mail.text
    assert '<html lang="de">' in mail.html and mail.link() in mail.html


async def test_without_a_preference_the_mail_follows_the_browser(server, smtp):
    site = await server()
    await site.create_user("marie")
    browser = site.browser(remote_headers={"Accept-Language": "fr"})
    await browser.post(RESET, {"email": "marie@example.com"})
    (mail,) = await smtp.wait_for(1)
    assert mail.subject == "Réinitialisez votre mot de passe Bastion"
    assert "Bonjour marie," in mail.text and "ouvrez ce lien dans les 60 minutes" in mail.text


def test_sendtestemail_writes_and_says_it_in_the_language_setting(tmp_path, smtp):
    from support.cli import manage, manage_env
    env = manage_env(tmp_path, EMAIL_URL=smtp.url, LANGUAGE="de")
    result = manage(["sendtestemail", "alice@example.com"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(
        "'Test-E-Mail von Bastion' an alice@example.com über smtp://127.0.0.1:")
    [message] = smtp.messages
    assert message.subject == "Test-E-Mail von Bastion"
    assert "funktionieren EMAIL_URL" in message.text
