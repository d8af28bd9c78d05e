"""The reset mail under each backend: printed under ``make run`` (console:), drained at
shutdown, and a dead SMTP server costs the visitor nothing but the mail (a log line)."""
import logging
import re

from reset_kit import DONE, ResetSite, follow, make_settings
from support import NEW_PASSWORD, serving
from support.smtp import LINK_RE, SmtpServer


async def test_with_console_the_server_prints_the_link(server, tmp_path, smtp, capsys):
    site = await server(make_settings(tmp_path, smtp, EMAIL_URL="console:"))
    await site.create_user("alice")
    assert (await site.ask(site.browser(), "alice@example.com")).code == 303
    await site.settle()
    out = capsys.readouterr().out
    assert "Subject: Reset your Bastion password" in out and "To: alice@example.com" in out
    (link,) = set(LINK_RE.findall(out))                 # in the text and the HTML part
    assert link.startswith(f"http://127.0.0.1:{site.port}/")
    assert smtp.messages == []
    assert (await site.set_password(site.browser(), link)).code == 303
    assert (await site.browser().login("alice", NEW_PASSWORD)).code == 303


async def test_shutdown_lets_the_mail_being_sent_finish(tmp_path):
    with SmtpServer(delay=0.5) as slow:
        async with serving(ResetSite) as servers:
            site = await servers.serve(make_settings(tmp_path, slow))
            await site.create_user("alice")
            assert (await site.ask(site.browser(), "alice@example.com")).code == 303
            assert slow.messages == []                # still being sent as the server stops
        assert [m.rcpt_tos for m in slow.messages] == [["alice@example.com"]]


async def test_an_unreachable_smtp_server_is_logged_and_the_page_is_the_same(
        server, tmp_path, smtp, caplog):
    site = await server(make_settings(tmp_path, smtp, EMAIL_URL="smtp://127.0.0.1:1"))
    await site.create_user("alice")
    browser = site.browser()
    with caplog.at_level(logging.ERROR, logger="bastion.mail"):
        asked = await site.ask(browser, "alice@example.com")
        await site.settle()
    assert (asked.code, asked.location) == (303, DONE)
    lines = [r.getMessage() for r in caplog.records if r.name == "bastion.mail"]
    assert len(lines) == 1
    assert lines[0].startswith("could not send 'Reset your Bastion password' to "
                               "alice@example.com via smtp://127.0.0.1:1: ")
    assert "/admin/password_reset/" not in lines[0]          # the link is not logged
    assert (await browser.get(DONE)).code == 200


async def test_the_link_works_with_the_token_cookie_only_on_reset_pages(site, smtp):
    await site.create_user("alice")
    await site.ask(site.browser(), "alice@example.com")
    browser = site.browser()
    opened = await follow(browser, (await smtp.wait_for(1))[0].link())
    line = opened.set_cookie_line("bastion_reset")
    assert "Path=/admin/password_reset/" in line and "SameSite=Lax" in line
    assert re.search(r"Max-Age=3600\b", line)
