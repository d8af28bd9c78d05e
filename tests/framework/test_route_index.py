"""``core.routing.RouteIndex``: a request tries only the routes its path could match, and
finds the route Tornado's walk of every rule finds."""
import re

import pytest
import tornado.httputil
import tornado.web
from tornado.routing import PathMatches, Rule

from core.app import make_app
from core.routing import RouteIndex, literal_prefix
from support import make_settings


@pytest.mark.parametrize("pattern, prefix", [
    (r"/admin/blog/article/([^/]+)/$", "/admin/blog/article/"),
    (r"/api/openapi\.json$", "/api/openapi.json"),
    (r"/api(/.*)?$", "/api"),
    (r"/admin/x?/$", "/admin/"),
    (r"/admin/xy*$", "/admin/x"),
    (r"/admin/x{0,2}$", "/admin/"),
    (r"/admin/x+$", "/admin/x"),
    (r"/a\d+/$", "/a"),
    (r"/(robots\.txt)$", "/"),
    (r"/one/|/two/", ""),
    (r"(?i)/admin/", ""),
    (r"[/]admin/", ""),
])
def test_literal_prefix_is_the_text_every_match_starts_with(pattern, prefix):
    assert literal_prefix(pattern) == prefix


class Connection:
    def set_close_callback(self, callback):
        pass


def request(path):
    return tornado.httputil.HTTPServerRequest(
        connection=Connection(), headers=tornado.httputil.HTTPHeaders({"Host": "127.0.0.1"}),
        start_line=tornado.httputil.RequestStartLine("GET", path, "HTTP/1.1"))


@pytest.fixture
def app(tmp_path):
    return make_app(make_settings(tmp_path, ["core.audit", "apps.accounts", "apps.blog"]))


PATHS = ["/", "/robots.txt", "/static/bastion.css", "/healthz", "/admin/", "/admin/live",
         "/admin/blog/article/", "/admin/blog/article/abc/", "/admin/blog/article/abc/change/",
         "/admin/blog/article/add/", "/admin/blog/category/abc/delete/", "/api/openapi.json",
         "/api/blog/article", "/api/blog/article/x/files/y", "/api/zzz", "/admin/login/",
         "/admin/password_reset/a/b/", "/nothing", "/admin/blog/", "/admin//x/"]


@pytest.mark.parametrize("path", PATHS)
def test_the_index_finds_the_route_tornados_walk_finds(app, path):
    found = app.find_handler(request(path))
    walked = tornado.web.Application.find_handler(app, request(path))
    assert (found.handler_class, found.path_args, found.handler_kwargs) == \
        (walked.handler_class, walked.path_args, walked.handler_kwargs)


def test_a_model_page_tries_a_few_routes_not_every_one_before_it(app, monkeypatch):
    tried = []
    real_match = PathMatches.match
    monkeypatch.setattr(PathMatches, "match",
                        lambda self, req: tried.append(self) or real_match(self, req))
    found = app.find_handler(request("/admin/blog/category/abc/"))
    position = next(index for index, rule in enumerate(app.wildcard_router.rules)
                    if rule.matcher.regex.pattern == "/admin/blog/category/([^/]+)/$")
    assert found.path_args == [b"abc"]
    assert position > 40                       # the walk would have tried all of those
    assert len(tried) < 15


def test_routes_added_later_are_indexed_too(app):
    class Late(tornado.web.RequestHandler):
        pass
    index = RouteIndex()
    rules = [Rule(PathMatches(r"/a/$"), None)]
    assert [rule.matcher.regex.pattern for rule in index.candidates(rules, "/b/")] == []
    rules.append(Rule(PathMatches(r"/b/$"), Late))
    assert [rule.target for rule in index.candidates(rules, "/b/")] == [Late]
    app.wildcard_router.add_rules([(r"/late/(\d+)/$", Late)])
    found = app.find_handler(request("/late/7/"))
    assert (found.handler_class, found.path_args) == (Late, [b"7"])


def test_a_rule_with_flags_is_tried_for_every_path():
    """A pattern whose flags change what its text matches (``re.I``) is not filed under its
    text: ``/admin/x`` goes to the case-blind rule before it, as Tornado's walk finds."""
    a, b = object(), object()
    rules = [Rule(PathMatches(re.compile("/Admin/x$", re.I)), a),
             Rule(PathMatches("/admin/x$"), b)]

    def first_match(tried):
        return next(rule.target for rule in tried
                    if rule.matcher.match(request("/admin/x")) is not None)
    assert first_match(RouteIndex().candidates(rules, "/admin/x")) == first_match(rules) is a


class CountingBuckets(dict):
    """An index's buckets that count their look-ups."""
    lookups = 0

    def get(self, key, default=None):
        self.lookups += 1
        return super().get(key, default)


def test_a_long_path_looks_up_no_more_prefixes_than_the_routes_have(app):
    rules = app.wildcard_router.rules
    index = RouteIndex()
    index.candidates(rules, "/")
    longest = max(index._buckets, key=len)
    index._buckets = CountingBuckets(index._buckets)
    candidates = index.candidates(rules, "/" * 60000)
    assert index._buckets.lookups <= longest.count("/") + 1
    assert candidates == index.candidates(rules, "/")


async def test_a_very_long_path_no_route_takes_is_answered_404(app, live):
    server = await live(app)
    response = await server.fetch("/" * 30000 + "x")
    assert response.code == 404
