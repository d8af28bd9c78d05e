"""The e-mail settings (environment, checks, start-up) and ``manage.py sendtestemail``
against a real SMTP server."""
import pytest

from core.app import make_app
from core.conf import ImproperlyConfigured, load_settings
from support.cli import manage, manage_env, one_error_line
from support.smtp import SmtpServer, TlsFiles

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def test_environment_overrides_the_mail_settings():
    s = load_settings("settings.test", environ={
        "EMAIL_URL": "smtp://mail.example.com:2525", "DEFAULT_FROM_EMAIL": "ops@example.com",
        "EMAIL_TIMEOUT": "2.5", "SITE_URL": "https://admin.example.com/",
        "PASSWORD_RESET_SECONDS": "900"})
    assert (s.EMAIL_URL, s.DEFAULT_FROM_EMAIL, s.EMAIL_TIMEOUT, s.PASSWORD_RESET_SECONDS) == \
        ("smtp://mail.example.com:2525", "ops@example.com", 2.5, 900)
    assert s.SITE_URL == "https://admin.example.com"          # without the trailing slash


def test_defaults_console_in_dev_and_test():
    assert load_settings("settings.test", environ={}).EMAIL_URL == "console:"
    base = load_settings("settings.base", environ={}, COOKIE_SECRET="x" * 40)
    assert base.PASSWORD_RESET_SECONDS == 3600 and base.SITE_URL is None
    assert base.EMAIL_TIMEOUT == 10.0


@pytest.mark.parametrize("environ, words", [
    ({"SITE_URL": "admin.example.com"}, "SITE_URL must look like"),
    ({"SITE_URL": "https://admin.example.com/?x=1"}, "SITE_URL must look like"),
    ({"SITE_URL": "ftp://admin.example.com"}, "SITE_URL must look like"),
    ({"SITE_URL": "https://[::1"}, "SITE_URL must look like"),
    ({"SITE_URL": "https://admin.example.com:port"}, "SITE_URL must look like"),
    ({"PASSWORD_RESET_SECONDS": "10"}, "PASSWORD_RESET_SECONDS must be an integer of at "
                                       "least 60"),
    ({"PASSWORD_RESET_SECONDS": "soon"}, "PASSWORD_RESET_SECONDS must be an integer"),
    ({"EMAIL_TIMEOUT": "0"}, "EMAIL_TIMEOUT must be a number above 0"),
    ({"EMAIL_TIMEOUT": "fast"}, "EMAIL_TIMEOUT must be a number"),
    ({"DEFAULT_FROM_EMAIL": "nobody"}, "DEFAULT_FROM_EMAIL must be an address"),
])
def test_wrong_values_are_refused_at_load(environ, words):
    with pytest.raises(ImproperlyConfigured, match=words):
        load_settings("settings.test", environ=environ)


def test_a_wrong_email_url_stops_start_up():
    settings = load_settings("settings.test", environ={"EMAIL_URL": "smtp://host?bogus=1"})
    with pytest.raises(ImproperlyConfigured, match="unknown option"):
        make_app(settings)


def test_a_wrong_email_url_is_a_one_line_error_for_the_server(tmp_path):
    result = manage(["runserver", "--port", "0"],
                    manage_env(tmp_path, EMAIL_URL="pigeon://coop"), timeout=60)
    assert result.returncode == 1
    assert "EMAIL_URL has unknown scheme 'pigeon'" in one_error_line(result)


# -- manage.py sendtestemail ------------------------------------------------------------------
def test_sendtestemail_sends_through_smtp(tmp_path):
    with SmtpServer(login=("ops", "pw")) as smtp:
        env = manage_env(tmp_path, EMAIL_URL=smtp.url, DEFAULT_FROM_EMAIL="ops@example.com")
        result = manage(["sendtestemail", "alice@example.com", "bob@example.com"], env)
        assert result.returncode == 0, result.stderr
        got = smtp.messages
    assert result.stdout.strip().endswith(
        f"sent 'Test email from Bastion' to alice@example.com, bob@example.com via "
        f"smtp://ops@127.0.0.1:{smtp.port}")
    assert len(got) == 1 and got[0].rcpt_tos == ["alice@example.com", "bob@example.com"]
    assert got[0].mail_from == "ops@example.com" and got[0].login == "ops"
    assert "EMAIL_URL" in got[0].text and "pw" not in got[0].text.split("(")[1]


def test_sendtestemail_over_starttls_trusting_a_given_ca(tmp_path):
    tls = TlsFiles.make(tmp_path)
    with SmtpServer(tls="starttls", tls_files=tls, login=("ops", "pw")) as smtp:
        env = manage_env(tmp_path, EMAIL_URL=smtp.url, SSL_CERT_FILE=tls.ca_file)
        result = manage(["sendtestemail", "alice@example.com"], env)
        assert result.returncode == 0, result.stderr
        assert smtp.messages[0].tls


def test_sendtestemail_failure_is_one_line_and_exit_1(tmp_path):
    with SmtpServer(login=("ops", "pw")) as smtp:
        env = manage_env(tmp_path, EMAIL_URL=smtp.url.replace(":pw@", ":nope@"))
        result = manage(["sendtestemail", "alice@example.com"], env)
        assert smtp.messages == []
    assert result.returncode == 1
    line = one_error_line(result)
    assert line.startswith("error: could not send 'Test email from Bastion' to "
                           "alice@example.com via smtp://ops@127.0.0.1:")
    assert "nope" not in line


def test_sendtestemail_console_and_file(tmp_path):
    shown = manage(["sendtestemail", "alice@example.com"],
                   manage_env(tmp_path, EMAIL_URL="console:"))
    assert shown.returncode == 0 and "Subject: Test email from Bastion" in shown.stdout
    outbox = tmp_path / "outbox"
    filed = manage(["sendtestemail", "alice@example.com"],
                   manage_env(tmp_path, EMAIL_URL=f"file:{outbox}"))
    assert filed.returncode == 0, filed.stderr
    assert len(list(outbox.glob("*.eml"))) == 1


def test_sendtestemail_bad_usage_exits_2(tmp_path):
    env = manage_env(tmp_path, EMAIL_URL="console:")
    missing = manage(["sendtestemail"], env)
    assert missing.returncode == 2 and "ADDRESS" in missing.stderr
    wrong = manage(["sendtestemail", "not an address"], env)
    assert wrong.returncode == 2 and "is not an email address" in wrong.stderr
    assert wrong.stdout == ""


def test_sendtestemail_is_listed_and_has_help(tmp_path):
    env = manage_env(tmp_path)
    listed = manage(["help"], env)
    assert listed.returncode == 0 and "sendtestemail" in listed.stdout
    shown = manage(["sendtestemail", "--help"], env)
    assert shown.returncode == 0 and "EMAIL_URL" in shown.stdout


def test_sendtestemail_with_a_wrong_email_url_is_one_line(tmp_path):
    result = manage(["sendtestemail", "alice@example.com"],
                    manage_env(tmp_path, EMAIL_URL="smtp://host?tls=yes"))
    assert result.returncode == 1
    assert one_error_line(result) == ("error: EMAIL_URL has unknown option(s) tls "
                                      "(known: starttls)")
