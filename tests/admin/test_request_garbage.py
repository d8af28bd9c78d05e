"""A finished request leaves nothing to the cyclic garbage collector.

Reference counting frees a request's objects as soon as its response is finished
when nothing of it is in a reference cycle: the handler lets go of what the request
kept on it (``BaseHandler._break_cycles``), a template's page lets go of its names
(``core.templates.Template``), the tracked connection lets go of its delegate
(``core.app``). Left in cycles, every list page's handler, change list, objects and
connection waited for the collector, whose passes then cost a list page ~0.3 ms.
"""
import contextlib
import gc
import weakref

import tornado.web

from core.app import _TrackedDelegate
from core.templates import Template

LIST = "/admin/notes/note/"


@contextlib.contextmanager
def cyclic_garbage():
    """Yields a list that, once the block is over, holds what the collector found
    unreachable of what the block made (the collector is off inside it)."""
    flags, found = gc.get_debug(), []
    gc.collect()
    gc.disable()
    gc.set_debug(flags | gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        found.extend(gc.garbage)
    finally:
        gc.garbage.clear()
        gc.set_debug(flags)
        gc.enable()


async def test_a_served_list_page_leaves_no_request_in_a_cycle(site):
    Note = site.model("notes.note")
    for n in range(3):
        await Note.create(title=f"note {n}", db=site.db)
    root = await site.user_browser("root", is_superuser=True)
    with cyclic_garbage() as garbage:
        for _ in range(3):
            page = await root.get(LIST + "?q=note")
            assert page.code == 200 and "note 2" in page.text
    left = [type(o).__name__ for o in garbage
            if isinstance(o, (tornado.web.RequestHandler, Note))
            or (isinstance(o, _TrackedDelegate) and o.start_line is not None)
            or (isinstance(o, dict) and "_tt_execute" in o)]
    assert left == []


def test_a_template_s_page_lets_go_of_its_names():
    class Shown:
        def __str__(self):
            return "shown"
    shown = Shown()
    alive = weakref.ref(shown)
    gc.disable()
    try:
        assert Template("<p>{{ value }}</p>").generate(value=shown) == b"<p>shown</p>"
        del shown
        assert alive() is None, "the page's names outlived it (a cycle)"
    finally:
        gc.enable()


def test_a_failing_template_s_traceback_still_shows_its_lines():
    import traceback
    try:
        Template("<p>\n{{ 1 / 0 }}</p>", name="page.html").generate()
    except ZeroDivisionError:
        shown = traceback.format_exc()
    assert "page.html:2" in shown


def test_a_filter_s_pinned_terms_leave_no_cycle():
    from core.db.embedded.sql import pinned_terms
    with cyclic_garbage() as found:
        for _ in range(10):
            pinned_terms({"a": 1, "$and": [{"b": {"$gt": 2}}, {"c": {"$regex": "x"}}]}, set())
    assert not [o for o in found if callable(o)]
    pinned = pinned_terms({"a": 1, "$and": [{"b": {"$gt": 2}}]}, set())
    assert sorted(pinned) == ["a", "b"] and pinned["a"][1] is True and pinned["b"][1] is False
