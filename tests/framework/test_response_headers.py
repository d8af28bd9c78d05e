"""What every response carries, and the fixed work of a request cycle.

``BaseHandler.clear`` writes Tornado's default headers (``Server``, ``Content-Type``,
``Date``) and the security headers without checking each value again per response (the
application checked them once, when it was built) and with the ``Date`` text made once a
second; a response without an ``ETag`` skips the ``If-None-Match`` parse; the access log
line is put together only when ``tornado.access`` writes it. None of it may change what a
response says.
"""
import email.utils
import logging
import time

import pytest
import tornado.web
from tornado import httputil

from core.app import make_app
from core.db import connect
from core.handlers.base import BaseHandler, HttpDate


class Connection:
    def set_close_callback(self, callback):
        pass


def handler_for(app, handler_class=BaseHandler, headers=None):
    request = httputil.HTTPServerRequest(
        start_line=httputil.RequestStartLine("GET", "/page/", "HTTP/1.1"),
        headers=httputil.HTTPHeaders({"Host": "127.0.0.1", **(headers or {})}),
        connection=Connection())
    return handler_class(app, request)


@pytest.fixture
def app(settings):
    return make_app(settings, db=connect("memory:"))


def test_a_handler_starts_with_the_headers_tornado_s_clear_writes(app, monkeypatch):
    monkeypatch.setattr(time, "time", lambda: 1_700_000_000.75)      # Tornado's clock
    monkeypatch.setattr("core.handlers.base.http_date", HttpDate(time.time))
    handler = handler_for(app)
    ours = list(handler._headers.get_all())
    tornado.web.RequestHandler.clear(handler)          # Tornado's own, set_header by set_header
    assert ours == list(handler._headers.get_all())
    assert [name for name, _value in ours] == [
        "Server", "Content-Type", "Date", "X-Frame-Options", "X-Content-Type-Options",
        "Referrer-Policy", "Content-Security-Policy"]
    assert dict(ours)["Date"] == "Tue, 14 Nov 2023 22:13:20 GMT"


def test_an_admin_handler_adds_no_store_after_the_security_headers(app):
    from core.admin.views.base import AdminHandler
    names = [name for name, _value in handler_for(app, AdminHandler)._headers.get_all()]
    assert names[-1] == "Cache-Control" and len(names) == 8


async def test_served_responses_list_the_same_headers(settings, live):
    server = await live(make_app(settings, db=connect("memory:")))
    health = await server.fetch("/healthz", decompress_response=False)
    missing = await server.fetch("/no/such/page", decompress_response=False)
    expected = {"Server", "Content-Type", "Date", "X-Frame-Options", "X-Content-Type-Options",
                "Referrer-Policy", "Content-Security-Policy", "Content-Length",
                "Cache-Control", "Vary", "Connection"}
    assert set(health.headers) == expected
    assert set(missing.headers) == expected - {"Cache-Control"} | {"Set-Cookie"}
    for response in (health, missing):
        date = email.utils.parsedate_to_datetime(response.headers["Date"]).timestamp()
        assert abs(date - time.time()) < 5


def test_the_date_text_is_tornado_s_and_follows_the_clock():
    now = [1_700_000_000.2]
    date = HttpDate(lambda: now[0])
    first = date()
    assert first == httputil.format_timestamp(now[0])
    now[0] = 1_700_000_000.9                  # the same second: the same text
    assert date() is first
    for moment in (1_700_000_001.0, 1_700_003_599.99, 951_782_400.5):
        now[0] = moment
        assert date() == httputil.format_timestamp(moment)


@pytest.mark.parametrize("value", ["DENY\r\nSet-Cookie: a=b", "DENY\n", "a\x00b", 1])
def test_a_security_header_value_that_could_not_be_sent_stops_start_up(tmp_path, value):
    from support import make_settings
    settings = make_settings(tmp_path, [], SECURITY_HEADERS={"X-Frame-Options": value})
    with pytest.raises(ValueError, match="X-Frame-Options"):
        make_app(settings, db=connect("memory:"))


def test_etag_matching_is_tornado_s_when_a_response_has_one(app):
    handler = handler_for(app, headers={"If-None-Match": '"abc", W/"def"'})
    assert handler.check_etag_header() is False               # no ETag: nothing matches
    handler.set_header("Etag", 'W/"def"')
    assert handler.check_etag_header() is True
    handler.set_header("Etag", '"xyz"')
    assert handler.check_etag_header() is False
    star = handler_for(app, headers={"If-None-Match": "*"})
    assert star.check_etag_header() is False
    star.set_header("Etag", '"xyz"')
    assert star.check_etag_header() is True


def test_the_access_line_is_tornado_s_and_only_made_when_written(app, caplog, monkeypatch):
    handler = handler_for(app)
    summaries = []
    summary = handler._request_summary
    monkeypatch.setattr(handler, "_request_summary", lambda: summaries.append(1) or summary())
    access = logging.getLogger("tornado.access")
    monkeypatch.setattr(access, "level", logging.WARNING)
    app.log_request(handler)                   # a 200 below the logger's level
    assert summaries == []
    with caplog.at_level(logging.INFO, logger="tornado.access"):
        app.log_request(handler)
        handler.set_status(404)
        app.log_request(handler)
    lines = [(record.levelname, record.getMessage()) for record in caplog.records
             if record.name == "tornado.access"]
    assert [level for level, _line in lines] == ["INFO", "WARNING"]
    assert lines[0][1].startswith("200 GET /page/ (") and lines[0][1].endswith("ms")
    assert len(summaries) == 2
    logged = []
    app.settings["log_function"] = logged.append
    app.log_request(handler)
    assert logged == [handler]
