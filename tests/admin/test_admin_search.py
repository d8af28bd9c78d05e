"""``search_fields`` lookups (``core.admin.search``): contains, ``^prefix``, ``=exact``,
paths through references, quoted phrases — and no match through a model the user may
not read."""
import pytest

from core.admin.search import split_words
from desk_kit import POSTS, WRITERS, add_posts, add_writer, titles


@pytest.fixture
async def root(desk):
    return await desk.user_browser("root", is_superuser=True)


def test_quoted_phrases_stay_together():
    assert split_words('"big cat" dog  "" x"y') == ["big cat", "dog", 'x"y']
    assert split_words(" ".join(f"w{i}" for i in range(20))) == [f"w{i}" for i in range(10)]


async def test_contains_exact_and_prefix_lookups(desk, root):
    await add_posts(desk, [{"title": "Blue Moon", "sku": "AB-1"},
                           {"title": "Moonlight", "sku": "AB-12"},
                           {"title": "Harvest", "sku": "ab-1"}])
    found = titles((await root.get(f"{POSTS}?q=moon")).text)
    assert sorted(found) == ["Blue Moon", "Moonlight"]
    assert titles((await root.get(f"{POSTS}?q=AB-1")).text) == ["Blue Moon"]   # =sku exact
    writers = [await add_writer(desk, "Ann Lee", "annlee"),
               await add_writer(desk, "Lee Ann", "leeann")]
    page = await root.get(f"{WRITERS}?q=lee")
    assert "Ann Lee" in page.text and "Lee Ann" in page.text     # name contains
    page = await root.get(f"{WRITERS}?q=ann")
    assert "Ann Lee" in page.text and "Lee Ann" in page.text
    page = await root.get(f"{WRITERS}?q=eeann")                  # ^handle: no infix match
    assert writers[1].name not in page.text


async def test_quoted_phrase_matches_as_one(desk, root):
    await add_posts(desk, [{"title": "big cat dog"}, {"title": "cat big dog"}])
    found = titles((await root.get(f'{POSTS}?q=big+cat')).text)
    assert sorted(found) == ["big cat dog", "cat big dog"]
    assert titles((await root.get(f'{POSTS}?q=%22big+cat%22')).text) == ["big cat dog"]


async def test_search_through_a_reference(desk, root):
    ruby = await add_writer(desk, "Ruby Red", "ruby", team="red")
    bob = await add_writer(desk, "Bob Blue", "bobby", team="blue")
    await add_posts(desk, [{"title": "one", "writer": ruby.id},
                           {"title": "two", "writer": bob.id},
                           {"title": "Ruby's own words"}])
    found = titles((await root.get(f"{POSTS}?q=ruby")).text)
    assert sorted(found) == ["Ruby's own words", "one"]
    assert titles((await root.get(f"{POSTS}?q=bob")).text) == ["two"]      # ^writer__handle
    assert titles((await root.get(f"{POSTS}?q=obby")).text) == []
    assert titles((await root.get(f"{POSTS}?q=blue+two")).text) == ["two"]
    api = await root.fetch("/api/desk/post/?q=bob", headers={"Accept": "application/json"})
    assert [item["title"] for item in api.json()["results"]] == ["two"]


async def test_a_reference_the_user_may_not_read_matches_nothing(desk):
    ruby = await add_writer(desk, "Ruby Red", "ruby", team="red")
    bob = await add_writer(desk, "Bob Blue", "bob", team="blue")
    await add_posts(desk, [{"title": "one", "writer": ruby.id},
                           {"title": "two", "writer": bob.id}])
    blind = await desk.user_browser("blind", {"desk.post": ["read"]})
    assert titles((await blind.get(f"{POSTS}?q=ruby")).text) == []
    # row scope: the red team's reader cannot find posts by the blue team's writer name
    red = await desk.user_browser("red-reader", {"desk.post": ["read"], "desk.writer": ["read"]})
    assert titles((await red.get(f"{POSTS}?q=bob")).text) == []
    assert titles((await red.get(f"{POSTS}?q=ruby")).text) == ["one"]
