"""A page's escaped expressions are written by one call each (``core.templates``), and the
bytes are the ones Tornado's own code writes for every kind of value."""
import datetime

import tornado.template
from markupsafe import Markup
from tornado import escape

from core.i18n import gettext_lazy
from core.templates import Template, TemplateLoader

SOURCE = ('<p title="{{ value }}">{{ value }}</p><a href="/x?q={{ value }}">'
          '{% raw value %}</a>{% module Plain(value) %}')


class Text(str):
    """A ``str`` subclass whose ``str()`` differs from its characters."""

    def __str__(self):
        return "other"


class Labelled:
    """An object whose ``str()`` is markup (a label built with ``format_html``)."""

    def __str__(self):
        return Markup("Tom & <b>Jerry</b>")


VALUES = ['<script>alert("x")</script>', "l'apostrophe & co", "", "é€😀",
          b"<b>bytes</b> \xc3\xa9", 42, 3.5, None, ["<a>", 1], Text("<i>sub</i>"),
          Markup("<b>safe</b> & sound"), Labelled(), datetime.datetime(2026, 12, 3, 1, 2),
          gettext_lazy("Home")]


class Modules:
    """``_tt_modules`` for the ``{% module %}`` tag: a raw expression, as Tornado writes it."""

    @staticmethod
    def Plain(value):
        return "[module]"


def test_escaped_expressions_are_one_call_each():
    code = Template(SOURCE).code
    assert code.count("_tt_escaped_utf8(") == 3
    assert "xhtml_escape(" not in code


def test_the_same_bytes_as_tornado_for_every_kind_of_value():
    ours, tornados = Template(SOURCE), tornado.template.Template(SOURCE)
    for value in VALUES:
        expected = tornados.generate(value=value, _tt_modules=Modules)
        assert ours.generate(value=value, _tt_modules=Modules) == expected, value
    assert b"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in ours.generate(
        value=VALUES[0], _tt_modules=Modules)
    assert b"l&#x27;apostrophe &amp; co" in ours.generate(value=VALUES[1], _tt_modules=Modules)


def test_markup_is_escaped_once_as_tornado_escapes_it():
    """A ``Markup`` value's own ``replace`` escapes what it inserts: escaping one through
    it would write ``&amp;lt;``. Tornado escapes its characters once, and so do we."""
    page = Template("<p>{{ value }}</p>")
    assert page.generate(value=Markup("<b>bold</b>")) == b"<p>&lt;b&gt;bold&lt;/b&gt;</p>"
    assert page.generate(value=Labelled()) == b"<p>Tom &amp; &lt;b&gt;Jerry&lt;/b&gt;</p>"


def test_a_page_naming_its_own_escape_or_none_keeps_tornados_code():
    shout = lambda text: escape.to_unicode(text).upper()        # noqa: E731
    ours, tornados = Template(SOURCE), tornado.template.Template(SOURCE)
    assert ours.generate(value="<a>", xhtml_escape=shout, _tt_modules=Modules) == \
        tornados.generate(value="<a>", xhtml_escape=shout, _tt_modules=Modules) == \
        b'<p title="<A>"><A></p><a href="/x?q=<A>"><a></a>[module]'
    unescaped = "{% autoescape None %}{{ value }}"
    assert Template(unescaped).generate(value="<a>") == b"<a>" == \
        tornado.template.Template(unescaped).generate(value="<a>")


def test_extended_and_included_templates_escape_in_one_call(tmp_path):
    (tmp_path / "base.html").write_text('<title>{% block title %}{{ site }}{% end %}</title>'
                                        '{% include "part.html" %}')
    (tmp_path / "part.html").write_text("<i>{{ part }}</i>")
    (tmp_path / "page.html").write_text('{% extends "base.html" %}'
                                        '{% block title %}{{ title }}{% end %}')
    page = TemplateLoader([tmp_path]).load("page.html")
    assert page.code.count("_tt_escaped_utf8(") == 2
    assert page.generate(title="<T>", part="&") == b"<title>&lt;T&gt;</title><i>&amp;</i>"
