"""The session cookie's signature: checked by Tornado once per cookie value and process.

``CurrentUserMixin.get_session_id`` keeps the values Tornado found good
(``VerifiedCookies``); a forged, altered or too old value still gets no session.
"""
import time

import pytest
import tornado.web
from tornado import httputil

from core.app import make_app
from core.auth.mixins import SESSION_COOKIE, VerifiedCookies
from core.db import connect
from core.handlers.base import BaseHandler
from support import make_settings

SESSION_ID = "cVo4aVJLajF3R1l2djFqbmRGX25LeGJROUUwNVBmcTloS1lPaDBjOGxMTQ"


class Connection:
    def set_close_callback(self, callback):
        pass


@pytest.fixture
def app(tmp_path):
    return make_app(make_settings(tmp_path, []), db=connect("memory:"))


def session_id_of(app, cookie):
    headers = httputil.HTTPHeaders({"Host": "127.0.0.1"})
    if cookie is not None:
        headers["Cookie"] = f'{SESSION_COOKIE}="{cookie}"'
    request = httputil.HTTPServerRequest(
        start_line=httputil.RequestStartLine("GET", "/", "HTTP/1.1"), headers=headers,
        connection=Connection())
    return BaseHandler(app, request).get_session_id()


def signed(app, value=SESSION_ID, secret=None, version=None):
    return tornado.web.create_signed_value(secret or app.settings["cookie_secret"],
                                           SESSION_COOKIE, value, version=version).decode()


@pytest.fixture
def checks(monkeypatch):
    """The values Tornado's ``decode_signed_value`` was asked to check."""
    asked = []
    decode = tornado.web.decode_signed_value

    def counting(secret, name, value, *args, **kwargs):
        asked.append(value)
        return decode(secret, name, value, *args, **kwargs)
    monkeypatch.setattr(tornado.web, "decode_signed_value", counting)
    return asked


def test_a_good_cookie_is_checked_once(app, checks):
    cookie = signed(app)
    assert [session_id_of(app, cookie) for _ in range(3)] == [SESSION_ID] * 3
    assert checks == [cookie]


@pytest.mark.parametrize("change", [
    lambda cookie: cookie[:-1] + ("0" if cookie[-1] != "0" else "1"),     # the signature
    lambda cookie: cookie.replace("|60:", "|60:x", 1)[:-1],                # the value
    lambda cookie: cookie + "|",
    lambda cookie: "2|" + cookie,
])
def test_an_altered_cookie_is_refused_after_the_good_one_was_kept(app, checks, change):
    cookie = signed(app)
    assert session_id_of(app, cookie) == SESSION_ID
    for _ in range(2):
        assert session_id_of(app, change(cookie)) is None
    assert checks == [cookie, change(cookie), change(cookie)]       # never kept


def test_another_secret_s_cookie_is_refused(app):
    assert session_id_of(app, signed(app, secret="another-secret-" + "y" * 32)) is None


def test_a_kept_cookie_too_old_is_refused_as_tornado_refuses_it(app, monkeypatch):
    cookie = signed(app)
    assert session_id_of(app, cookie) == SESSION_ID
    max_age = app.settings.get("SESSION_MAX_AGE_SECONDS", 14 * 86400)
    days = -(-max_age // 86400)
    later = time.time() + days * 86400 + 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert session_id_of(app, cookie) is None
    assert tornado.web.decode_signed_value(app.settings["cookie_secret"], SESSION_COOKIE,
                                           cookie, max_age_days=days) is None


def test_a_new_secret_forgets_what_the_old_one_verified(app, checks):
    cookie = signed(app)
    assert session_id_of(app, cookie) == SESSION_ID
    app.settings["cookie_secret"] = "a-new-secret-" + "z" * 40
    assert session_id_of(app, cookie) is None
    assert checks == [cookie, cookie]


def test_version_1_cookies_are_checked_every_time(app, checks):
    cookie = signed(app, version=1)
    assert [session_id_of(app, cookie) for _ in range(2)] == [SESSION_ID] * 2
    assert len(checks) == 2


def test_no_cookie_or_an_empty_one_has_no_session(app):
    assert session_id_of(app, None) is None
    assert session_id_of(app, "") is None


def test_the_kept_values_are_bounded():
    kept = VerifiedCookies("secret", size=3)
    values = [tornado.web.create_signed_value("secret", SESSION_COOKIE, f"id{n}").decode()
              for n in range(5)]
    for n, value in enumerate(values):
        kept.keep(value, f"id{n}")
    assert len(kept._kept) <= 3
    assert kept.session_id(values[-1], 14) == "id4"
    assert kept.session_id("not kept", 14) is False
