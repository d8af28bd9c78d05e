"""The Tornado application on a real server: health, headers, errors, XSRF, static, gzip."""
import asyncio
import json
import re
from http.cookies import SimpleCookie

import pytest
import tornado.httputil
import tornado.web
import tornado.websocket

from core.app import TemplateLoader, make_app, startup
from core.conf import load_settings
from core.db import connect
from core.handlers.base import BaseHandler, accepts_json
from support.cli import free_port


@pytest.fixture
async def server(settings, live):
    app = make_app(settings, db=connect("memory:"))
    await startup(app)
    return await live(app)


async def test_healthz_answers_ok_json(server):
    response = await server.fetch("/healthz")
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert json.loads(response.body) == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    head = await server.fetch("/healthz", method="HEAD")
    assert head.code == 200


async def test_healthz_503_when_the_database_is_closed(settings, live):
    db = connect("memory:")
    server = await live(make_app(settings, db=db))
    assert (await server.fetch("/healthz")).code == 200
    await db.close()
    response = await server.fetch("/healthz")
    assert response.code == 503
    assert json.loads(response.body) == {"status": "unavailable"}


async def test_healthz_503_when_mongodb_is_unreachable(tmp_path, live):
    port = free_port()  # nothing listens there
    settings = load_settings("settings.test", environ={}, VAR_DIR=tmp_path,
                             DATABASE_URL=f"mongodb://127.0.0.1:{port}/bastion"
                                          "?serverSelectionTimeoutMS=300",
                             DATABASE_PING_TIMEOUT=1.0, INSTALLED_APPS=[])
    server = await live(make_app(settings))
    response = await server.fetch("/healthz", request_timeout=10)
    assert response.code == 503
    assert json.loads(response.body) == {"status": "unavailable"}


@pytest.mark.parametrize("path", ["/healthz", "/no/such/page", "/static/bastion.css",
                                  "/api/nothing"])
async def test_security_headers_on_every_response(server, path):
    response = await server.fetch(path)
    headers = response.headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    csp = headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self';" in csp and "style-src 'self';" in csp
    assert "unsafe-inline" not in csp


async def test_404_is_an_html_page_extending_the_base_layout(server):
    response = await server.fetch("/no/such/page")
    assert response.code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    body = response.body.decode()
    assert "<title>404 Not Found · Bastion</title>" in body
    assert '<a class="brand" href="/admin/">Bastion</a>' in body  # from base.html
    assert "<code>/no/such/page</code>" in body


async def test_404_is_json_under_api_or_when_json_is_preferred(server):
    api = await server.fetch("/api/blog/nothing/")
    assert api.code == 404
    assert api.headers["Content-Type"].startswith("application/json")
    assert "blog.nothing" in json.loads(api.body)["error"]
    asked = await server.fetch("/no/such/page", headers={"Accept": "application/json"})
    assert asked.code == 404 and json.loads(asked.body) == {"error": "Page not found."}
    browser = await server.fetch("/no/such/page", headers={
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert browser.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("accept, expected", [
    ("application/json", True),
    ("text/html", False),
    ("*/*", False),
    ("", False),
    ("text/html;q=0.5, application/json", True),
    ("application/json;q=0.2, text/html", False),
    ("application/problem+json", True),
])
def test_accept_header_choice(accept, expected):
    headers = tornado.httputil.HTTPHeaders({"Host": "localhost"})
    if accept:
        headers["Accept"] = accept
    request = tornado.httputil.HTTPServerRequest(
        start_line=tornado.httputil.RequestStartLine("GET", "/page", "HTTP/1.1"), headers=headers)
    assert accepts_json(request) is expected


async def test_xsrf_is_enforced_on_post(server):
    without = await server.fetch("/healthz", method="POST", body="")
    assert without.code == 403
    assert "_xsrf" in without.body.decode()
    # With a token the request gets past the XSRF check (then 405: healthz has no POST).
    page = await server.fetch("/no/such/page")
    cookie = SimpleCookie(page.headers["Set-Cookie"])["_xsrf"].value
    token = re.search(r'name="xsrf-token" content="([^"]+)"', page.body.decode()).group(1)
    allowed = await server.fetch("/healthz", method="POST", body=f"_xsrf={token}",
                                 headers={"Cookie": f"_xsrf={cookie}"})
    assert allowed.code == 405


async def test_post_to_a_missing_url_is_404_not_403(server):
    response = await server.fetch("/nothing/here", method="POST", body="x=1")
    assert response.code == 404


async def test_xsrf_cookie_is_httponly_samesite_and_secure_in_production(settings, live):
    server = await live(make_app(settings, db=connect("memory:")))
    cookie = (await server.fetch("/nope")).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    prod = load_settings("settings.production", environ={"COOKIE_SECRET": "p" * 48},
                         VAR_DIR=settings.VAR_DIR, DATABASE_URL="memory:", INSTALLED_APPS=[])
    prod_server = await live(make_app(prod, db=connect("memory:")))
    assert "Secure" in (await prod_server.fetch("/nope")).headers["Set-Cookie"]


async def test_static_files_are_served_and_gzipped(server):
    plain = await server.fetch("/static/bastion.css")
    assert plain.code == 200
    assert plain.headers["Content-Type"].startswith("text/css")
    assert b".site-header" in plain.body
    gzipped = await server.fetch("/static/bastion.css", decompress_response=False,
                                 headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers.get("Content-Encoding") == "gzip"
    assert len(gzipped.body) < len(plain.body)
    missing = await server.fetch("/static/nothing.css")
    assert missing.code == 404 and b"Bastion" in missing.body


class Boom(BaseHandler):
    def get(self):
        raise ZeroDivisionError("secret internal detail")


class Denied(BaseHandler):
    def get(self):
        raise tornado.web.HTTPError(403)


class SetsSession(BaseHandler):
    def get(self):
        self.set_signed_cookie("session", "abc")
        self.set_cookie("visible", "1", httponly=False)
        self.write("ok")


async def serve_with_extra_routes(settings, live):
    app = make_app(settings, db=connect("memory:"))
    app.add_handlers(r".*", [(r"/boom", Boom), (r"/api/boom", Boom), (r"/denied", Denied),
                             (r"/session", SetsSession)])
    return await live(app)


async def test_handler_cookies_default_to_httponly_samesite_and_secure(settings, live):
    server = await serve_with_extra_routes(settings, live)
    cookies = (await server.fetch("/session")).headers.get_list("Set-Cookie")
    session = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Secure" not in session
    visible = next(c for c in cookies if c.startswith("visible="))
    assert "HttpOnly" not in visible  # an explicit flag wins
    prod = load_settings("settings.production", environ={"COOKIE_SECRET": "p" * 48},
                         VAR_DIR=settings.VAR_DIR, DATABASE_URL="memory:", INSTALLED_APPS=[])
    prod_server = await serve_with_extra_routes(prod, live)
    cookies = (await prod_server.fetch("/session")).headers.get_list("Set-Cookie")
    assert all("Secure" in c for c in cookies)


async def test_500_never_leaks_the_traceback_unless_debug(settings, live):
    server = await serve_with_extra_routes(settings, live)
    page = await server.fetch("/boom")
    assert page.code == 500
    body = page.body.decode()
    assert "500 Server Error" in body
    assert "secret internal detail" not in body and "Traceback" not in body
    api = await server.fetch("/api/boom")
    assert api.code == 500 and json.loads(api.body) == {"error": "Internal Server Error"}

    debug = load_settings("settings.test", environ={}, VAR_DIR=settings.VAR_DIR,
                          DATABASE_URL="memory:", DEBUG=True, INSTALLED_APPS=[])
    debug_server = await serve_with_extra_routes(debug, live)
    shown = (await debug_server.fetch("/boom")).body.decode()
    assert "Traceback" in shown and "secret internal detail" in shown


async def test_403_page(settings, live):
    server = await serve_with_extra_routes(settings, live)
    page = await server.fetch("/denied")
    assert page.code == 403
    assert "403 Forbidden · Bastion" in page.body.decode()
    api = await server.fetch("/denied", headers={"Accept": "application/json"})
    assert json.loads(api.body) == {"error": "Forbidden"}


def test_template_loader_searches_dirs_in_order_and_stays_inside(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "admin").mkdir(parents=True)
    (second / "admin").mkdir(parents=True)
    (first / "base.html").write_text("FIRST[{% block body %}{% end %}]")
    (second / "base.html").write_text("SECOND")
    (second / "admin" / "page.html").write_text(
        '{% extends "base.html" %}{% block body %}page{% end %}')
    (second / "admin" / "inc.html").write_text('{% include "./part.html" %}')
    (second / "admin" / "part.html").write_text("part")
    (tmp_path / "secret.txt").write_text("secret")
    loader = TemplateLoader([first, second])
    # found in the second dir; its {% extends "base.html" %} resolves from the top: first wins
    assert loader.load("admin/page.html").generate() == b"FIRST[page]"
    assert loader.load("admin/inc.html").generate() == b"part"
    assert loader.find("../secret.txt") is None
    assert loader.find("admin/../../secret.txt") is None
    with pytest.raises(FileNotFoundError, match="'nothing.html' not found"):
        loader.load("nothing.html")


class Echo(tornado.websocket.WebSocketHandler):
    def on_message(self, message):
        self.write_message(message)


async def test_open_websockets_do_not_count_as_in_flight_requests(settings, live):
    app = make_app(settings, db=connect("memory:"))
    app.add_handlers(r".*", [(r"/ws", Echo)])
    server = await live(app)
    socket = await tornado.websocket.websocket_connect(server.url("/ws").replace("http", "ws"))
    await socket.write_message("hi")
    assert await socket.read_message() == "hi"
    assert app.in_flight.count == 0  # graceful shutdown will not wait for it
    assert (await server.fetch("/healthz")).code == 200
    assert app.in_flight.count == 0
    socket.close()


class Slow(tornado.web.RequestHandler):
    """Answers once ``release`` is set; ``left`` is set when its client goes away."""
    started = release = left = None

    async def get(self):
        Slow.started.set()
        await Slow.release.wait()
        self.write("late")

    def on_connection_close(self):
        Slow.left.set()


async def test_a_request_whose_client_left_stops_counting_once_its_handler_ends(settings, live):
    """The client hangs up while its request is being handled: the request still counts
    as in flight until the handler ends, then not (graceful shutdown must not wait for it)."""
    app = make_app(settings, db=connect("memory:"))
    app.add_handlers(r".*", [(r"/slow", Slow)])
    server = await live(app)
    Slow.started, Slow.release, Slow.left = asyncio.Event(), asyncio.Event(), asyncio.Event()
    port = int(re.search(r":(\d+)/", server.url("/slow")).group(1))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    await writer.drain()
    await Slow.started.wait()
    assert app.in_flight.count == 1
    writer.close()
    await writer.wait_closed()
    await Slow.left.wait()
    for _ in range(3):
        await asyncio.sleep(0)           # Tornado lets go of the request's delegate
    Slow.release.set()
    for _ in range(500):                 # the handler's end, a few loop turns away
        if app.in_flight.count == 0:
            break
        await asyncio.sleep(0.01)
    assert app.in_flight.count == 0


@pytest.mark.parametrize("path", [
    "/static/x%00", "/static/%00", "/static/bastion.css%00", "/static/%00%00%00",
    "/static/x%01y", "/static/%2e%2e/manage.py", "/static/..%2fmanage.py",
    "/static/%2e%2e%2fsettings/base.py", "/static/%2e%2e/%2e%2e/etc/passwd",
    "/static/" + "a" * 300, "/static/" + "a/" * 2000 + "x", "/static/" + "b" * 5000,
    "/static/", "/static/.", "/static/%2e", "/static/bastion.css/", "/static//bastion.css",
    "/static/%5c..%5cmanage.py",
])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_odd_static_paths_are_404_never_500(server, path, method):
    response = await server.fetch(path, method=method)
    assert response.code == 404, (path, response.code)
    if method == "GET":
        assert b"File not found." in response.body and b"Traceback" not in response.body
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_undecodable_static_paths_are_400(server):
    for path in ("/static/%ff", "/static/%c0%ae%c0%ae/"):
        response = await server.fetch(path)
        assert response.code == 400, path
    assert (await server.fetch("/static/bastion.css")).code == 200   # real files still served


async def test_hsts_is_sent_when_configured_and_on_in_production(settings, live):
    plain = await live(make_app(settings, db=connect("memory:")))
    assert "Strict-Transport-Security" not in (await plain.fetch("/healthz")).headers
    prod = load_settings("settings.production", environ={"COOKIE_SECRET": "p" * 48},
                         VAR_DIR=settings.VAR_DIR, DATABASE_URL="memory:", INSTALLED_APPS=[])
    server = await live(make_app(prod, db=connect("memory:")))
    for path in ("/healthz", "/nope", "/static/bastion.css", "/static/x%00"):
        response = await server.fetch(path)
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000", path


# -- bodies over MAX_BODY_SIZE ----------------------------------------------------------------
LIMIT = 64 * 1024


@pytest.fixture
async def small_body_server(tmp_path, live):
    from support import make_settings
    settings = make_settings(tmp_path, [], MAX_BODY_SIZE=LIMIT, API_MAX_BODY_SIZE=LIMIT // 2)
    app = make_app(settings, db=connect("memory:"))
    await startup(app)
    return await live(app)


async def test_a_body_over_max_body_size_is_413_with_a_page_or_json(small_body_server):
    server = small_body_server
    form = "x=" + "a" * (2 * LIMIT)
    page = await server.fetch("/admin/login/", method="POST", body=form,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert page.code == 413
    assert page.headers["Content-Type"].startswith("text/html")
    text = page.body.decode()
    assert "The request body is too large: at most 64 KiB is accepted." in text
    assert "Bastion" in text and "Traceback" not in text
    api = await server.fetch("/api/blog/article/", method="POST",
                             body=json.dumps({"title": "t" * (2 * LIMIT)}),
                             headers={"Content-Type": "application/json"})
    assert api.code == 413
    assert json.loads(api.body) == {
        "error": "The request body is too large: at most 64 KiB is accepted."}
    # the server goes on serving, and a body of exactly the limit is not refused for its size
    assert (await server.fetch("/healthz")).code == 200
    at_limit = await server.fetch("/healthz", method="POST", body="a" * LIMIT)
    assert at_limit.code == 403                      # the XSRF check, not 413


@pytest.mark.parametrize("language", ["fr", "de"])
async def test_a_413_follows_accept_language(small_body_server, language):
    """Refused before any user is known: the language ``Accept-Language`` asks for."""
    from core import i18n
    api = await small_body_server.fetch(
        "/api/blog/article/", method="POST", body=json.dumps({"title": "t" * (2 * LIMIT)}),
        headers={"Content-Type": "application/json", "Accept-Language": language})
    assert api.code == 413
    said = i18n.locale_for(language).translate(
        "The request body is too large: at most %(size)s is accepted.")
    assert said != "The request body is too large: at most %(size)s is accepted."
    assert json.loads(api.body) == {"error": said % {"size": "64 KiB"}}


def test_a_size_in_bytes_is_written_in_the_language():
    from core.handlers.errors import describe_size
    assert [describe_size(1500, language) for language in ("en", "de")] == [
        "1,500 bytes", "1.500 Byte"]
    assert describe_size(10 * 1024 * 1024, "fr") == "10 MiB"


async def test_a_large_declared_body_is_refused_before_it_is_sent(small_body_server):
    response = await small_body_server.fetch(
        "/admin/login/", method="POST", body=b"a" * (LIMIT + 1), expect_100_continue=True,
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.code == 413


async def test_a_chunked_body_over_the_limit_is_413(small_body_server):
    async def produce(write):
        for _ in range(4):
            await write(b"a" * (LIMIT // 2 + 1))

    response = await small_body_server.fetch(
        "/api/anything/", method="POST", body_producer=produce,
        headers={"Content-Type": "application/json"})
    assert response.code == 413
    assert "too large" in json.loads(response.body)["error"]
    small = await small_body_server.fetch(
        "/api/anything/", method="POST", body_producer=lambda write: write(b"{}"),
        headers={"Content-Type": "application/json"})
    assert small.code == 404                          # under the limit: routed as usual


async def test_a_huge_declared_body_is_answered_at_once(small_body_server):
    import asyncio
    reader, writer = await asyncio.open_connection("127.0.0.1", small_body_server.port)
    try:
        writer.write(b"POST /api/blog/article/ HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)    # then the server closes
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"400 Bad Request" not in answer
    assert json.loads(body)["error"].startswith("The request body is too large")


async def test_serve_freezes_what_start_up_built_before_it_is_ready(settings):
    """The collector skips what lives as long as the process (gc.freeze before serving)."""
    import gc
    import socket

    from core.app import serve

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.setblocking(False)
    frozen_when_ready = []
    gc.unfreeze()
    try:
        await serve(make_app(settings, db=connect("memory:")), [sock],
                    ready=lambda: frozen_when_ready.append(gc.get_freeze_count()),
                    stop_requested=lambda: True)
    finally:
        gc.unfreeze()
    assert frozen_when_ready and frozen_when_ready[0] > 0


async def test_healthz_pings_in_the_requests_own_task(settings, live, monkeypatch):
    """No task of its own for the ping: a probe takes no extra turns of a busy loop."""
    db = connect("memory:")
    server = await live(make_app(settings, db=db))
    tasks = []
    real = db.ping

    async def ping():
        tasks.append(asyncio.current_task().get_coro().__qualname__)
        return await real()

    monkeypatch.setattr(db, "ping", ping)
    assert (await server.fetch("/healthz")).code == 200
    assert tasks == ["RequestHandler._execute"]


async def test_healthz_503_when_the_ping_outlasts_its_timeout(tmp_path, live, monkeypatch):
    settings = load_settings("settings.test", environ={}, VAR_DIR=tmp_path,
                             DATABASE_URL="memory:", DATABASE_PING_TIMEOUT=0.05,
                             INSTALLED_APPS=[])
    db = connect("memory:")
    server = await live(make_app(settings, db=db))
    never = asyncio.Event()

    async def ping():
        await never.wait()

    monkeypatch.setattr(db, "ping", ping)
    response = await server.fetch("/healthz", request_timeout=10)
    assert response.code == 503
    assert json.loads(response.body) == {"status": "unavailable"}
