"""List filters (``core.admin.filters``): every kind, custom ones, the date hierarchy, and
the 400 for arguments the list cannot take — on the page and in the API."""
import datetime
import html

import pytest

from desk_kit import POSTS, UTC, add_posts, add_writer, sidebar, sidebar_link, titles


@pytest.fixture
async def root(desk):
    return await desk.user_browser("root", is_superuser=True)


def at(*parts):
    return datetime.datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize("query, message", [
    ("colour=red", "Unknown query argument 'colour'"),
    ("score=ten", "Invalid filter score='ten'"),
    ("score__gte=1e999", "Invalid filter score__gte"),
    ("published__gte=yesterday", "Invalid filter published__gte='yesterday'"),
    ("writer=nope", "Invalid filter writer='nope'"),
    ("colours=green", "Invalid filter colours='green': not one of the choices."),
    ("rating=medium", "Invalid filter rating='medium': not one of the choices."),
    ("published__year=20x6", "Invalid published__year='20x6'"),
    ("published__month=13&published__year=2026", "Invalid published__month='13'"),
    ("published__day=3", "published__day needs __month"),
    ("published__year=2026&published__month=2&published__day=30", "That day does not exist."),
])
async def test_unknown_or_invalid_list_arguments_are_a_clear_400_on_the_page_and_in_the_api(
        desk, root, query, message):
    await add_posts(desk, [{"title": "kept"}])
    page = await root.get(f"{POSTS}?{query}")
    assert page.code == 400
    assert message in html.unescape(page.text)
    assert titles(page.text) == []
    api = await root.fetch(f"/api/desk/post/?{query}", headers={"Accept": "application/json"})
    assert api.code == 400 and message in api.json()["error"]


async def test_date_range_presets_and_from_to(desk, root):
    now = datetime.datetime.now(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    await add_posts(desk, [
        {"title": "today", "published": today + datetime.timedelta(minutes=1)},
        {"title": "four days ago", "published": today - datetime.timedelta(days=4)},
        {"title": "last year", "published": today.replace(year=today.year - 1)},
        {"title": "undated"},
    ])
    page = await root.get(POSTS)
    assert sidebar(page.text, "published") == ["All", "Today", "Past 7 days", "This month",
                                               "This year"]
    assert 'type="date" name="published__gte"' in page.text
    today_url = sidebar_link(page.text, "published", "Today")
    assert titles((await root.get(today_url)).text) == ["today"]
    week = await root.get(sidebar_link(page.text, "published", "Past 7 days"))
    assert sorted(titles(week.text)) == ["four days ago", "today"]
    assert 'aria-current="true">Past 7 days' in week.text
    year = titles((await root.get(sidebar_link(page.text, "published", "This year"))).text)
    assert "last year" not in year and "undated" not in year
    start = (today - datetime.timedelta(days=5)).date().isoformat()
    end = (today - datetime.timedelta(days=1)).date().isoformat()          # "to" is inclusive
    ranged = await root.get(f"{POSTS}?published__gte={start}&published__lte={end}")
    assert titles(ranged.text) == ["four days ago"]
    assert f'value="{start}"' in ranged.text and f'value="{end}"' in ranged.text


async def test_number_range_list_contains_and_choices(desk, root):
    await add_posts(desk, [
        {"title": "low", "score": 3, "tags": ["jazz", "live"], "colours": ["red"]},
        {"title": "mid", "score": 10, "tags": ["rock"], "colours": ["red", "blue"]},
        {"title": "high", "score": 50, "tags": ["jazz"], "kind": "howto"},
    ])
    assert sorted(titles((await root.get(f"{POSTS}?score__gte=5&score__lte=10")).text)) == \
        ["mid"]
    assert titles((await root.get(f"{POSTS}?score=50")).text) == ["high"]
    assert sorted(titles((await root.get(f"{POSTS}?tags=jazz")).text)) == ["high", "low"]
    page = await root.get(f"{POSTS}?colours=blue")
    assert titles(page.text) == ["mid"]
    assert sidebar(page.text, "colours") == ["All", "Red", "Blue"]
    assert sidebar(page.text, "tags") == ["All"]                # a text box: any item
    assert 'name="tags" value=""' in page.text
    assert titles((await root.get(f"{POSTS}?kind=howto")).text) == ["high"]
    combined = await root.get(f"{POSTS}?tags=jazz&score__lte=10")
    assert titles(combined.text) == ["low"]
    assert "Clear search and filters" in combined.text


async def test_a_custom_simple_list_filter(desk, root):
    await add_posts(desk, [{"title": "low", "score": 3}, {"title": "high", "score": 30}])
    page = await root.get(POSTS)
    assert sidebar(page.text, "rating") == ["All", "Low (under 10)", "High (10 and over)"]
    high = await root.get(sidebar_link(page.text, "rating", "High (10 and over)"))
    assert titles(high.text) == ["high"]
    assert 'aria-current="true">High (10 and over)' in high.text


async def test_reference_filter_lists_only_readable_objects_and_is_searchable(desk, root):
    red = await add_writer(desk, "Ruby Red", "ruby", team="red")
    blue = await add_writer(desk, "Bob Blue", "bob", team="blue")
    await add_posts(desk, [{"title": "by ruby", "writer": red.id},
                           {"title": "by bob", "writer": blue.id}])
    page = await root.get(POSTS)
    assert sorted(sidebar(page.text, "writer")) == ["All", "Bob Blue", "Ruby Red"]
    assert titles((await root.get(f"{POSTS}?writer={blue.id}")).text) == ["by bob"]
    found = await root.get(f"{POSTS}?writer__search=rub")
    assert sidebar(found.text, "writer") == ["All", "Ruby Red"]
    assert titles(found.text) == ["by bob", "by ruby"] or \
        sorted(titles(found.text)) == ["by bob", "by ruby"]          # searching the sidebar
    # a reader scoped to the red team never sees the blue writer's name
    scoped = await desk.user_browser("red-reader", {"desk.post": ["read"],
                                                    "desk.writer": ["read"]})
    page = await scoped.get(POSTS)
    assert sidebar(page.text, "writer") == ["All", "Ruby Red"]
    picked = await scoped.get(f"{POSTS}?writer={blue.id}")
    assert picked.code == 200 and "Bob Blue" not in picked.text
    assert "(hidden)" in picked.text
    # without read on writers: no writer is listed at all
    blind = await desk.user_browser("blind", {"desk.post": ["read"]})
    page = await blind.get(POSTS)
    assert sidebar(page.text, "writer") == ["All"]
    assert "Ruby Red" not in page.text and "Bob Blue" not in page.text


async def test_date_hierarchy_drills_down_year_month_day(desk, root):
    await add_posts(desk, [
        {"title": "a", "published": at(2024, 3, 5, 10)},
        {"title": "b", "published": at(2026, 1, 9, 8)},
        {"title": "c", "published": at(2026, 1, 20, 8)},
        {"title": "d", "published": at(2026, 11, 2, 8)},
        {"title": "undated"},
    ])
    page = await root.get(POSTS)
    years = _date_links(page.text)
    assert [label for label, _ in years] == ["2024", "2026"]             # 2025 has none
    year = await root.get(dict(years)["2026"])
    assert sorted(titles(year.text)) == ["b", "c", "d"]
    months = _date_links(year.text)
    assert [label for label, _ in months] == ["‹ All dates", "January", "November"]
    month = await root.get(dict(months)["January"])
    assert sorted(titles(month.text)) == ["b", "c"]
    days = _date_links(month.text)
    assert [label for label, _ in days][-2:] == ["January 9", "January 20"]
    day = await root.get(dict(days)["January 20"])
    assert titles(day.text) == ["c"]
    assert [label for label, _ in _date_links(day.text)] == ["‹ All dates", "‹ 2026",
                                                             "‹ January 2026"]
    # the hierarchy respects the other filters
    narrowed = await root.get(f"{POSTS}?published__year=2026&q=d")
    assert [label for label, _ in _date_links(narrowed.text)] == ["‹ All dates", "November"]


def _date_links(text):
    import re
    match = re.search(r'<nav class="date-hierarchy"[^>]*>(.*?)</nav>', text, re.S)
    if not match:
        return []
    return [(html.unescape(label), html.unescape(url)) for url, label in
            re.findall(r'<a href="([^"]*)"[^>]*>([^<]*)</a>', match.group(1))]


async def test_filter_arguments_survive_sorting_and_paging(desk, root):
    await add_posts(desk, [{"title": f"p{i:02d}", "score": i, "tags": ["x"]}
                           for i in range(30)])
    page = await root.get(f"{POSTS}?tags=x&score__gte=3&per_page=25&o=score")
    assert titles(page.text)[0] == "p03"
    import re
    next_url = html.unescape(re.search(r'<a href="([^"]*)" rel="next">', page.text).group(1))
    assert "tags=x" in next_url and "score__gte=3" in next_url
    rest = await root.get(next_url)
    assert titles(rest.text) == ["p28", "p29"]
