"""Reference labels: an article whose category the user may not read names it "(hidden)".

Cells: profiles × places a reference label shows (list column, filter sidebar, detail row,
change-form ``<select>``, add-form ``<select>``, the category autocomplete). A category is
unreadable without ``blog.category: read``, outside the category admin's row scope
(``get_base_filter``) or failing its object rule for ``read``; then its name (a marker)
appears nowhere, the cell reads "(hidden)" with no link, the change form keeps it selected
as "(hidden)", and no ``<select>`` or sidebar offers it. A superuser, or a user who may read
it, sees its name.
"""
import re
from dataclasses import dataclass

import pytest
import pytest_asyncio

import acl_kit
from support import make_settings, serving
from support.pages import text_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

SECRET = acl_kit.MARKERS["blog.category"] + "-label"
VISIBLE = "acl-visible-category"
ARTICLE = acl_kit.MARKERS["blog.article"] + "-label"
HIDDEN = "(hidden)"


@dataclass(frozen=True)
class RefProfile:
    name: str
    article: tuple                 # actions on blog.article
    category_read: bool = False
    scoped_out: bool = False       # the category admin's base filter leaves SECRET out
    rule_denies: bool = False      # the category admin's object rule refuses reading SECRET
    superuser: bool = False


PROFILES = [
    RefProfile("article-read", ("read",)),
    RefProfile("article-read-write", ("read", "write")),
    RefProfile("article-write", ("write",)),
    RefProfile("with-category-read", ("read", "write"), category_read=True),
    RefProfile("category-out-of-scope", ("read", "write"), category_read=True,
               scoped_out=True),
    RefProfile("category-rule-denies", ("read", "write"), category_read=True,
               rule_denies=True),
    RefProfile("superuser", (), superuser=True),
]
PLACES = ("list-column", "list-filter", "detail", "change-select", "add-select",
          "autocomplete")
PAGE_OF = {"list-column": "list", "list-filter": "list", "detail": "detail",
           "change-select": "change:get", "add-select": "add:get"}


def label_visible(profile):
    """May the profile read the SECRET category (so see its name)? (the rule, pure)"""
    if profile.superuser:
        return True
    return profile.category_read and not profile.scoped_out and not profile.rule_denies


def page_status(profile, place):
    if place == "autocomplete":              # read on the *target* model, categories
        return 200 if profile.superuser or profile.category_read else 403
    article = acl_kit.plan()["blog.article"]
    granted = acl_kit.Profile(profile.name, frozenset(profile.article),
                              superuser=profile.superuser)
    return acl_kit.expected(granted, article, PAGE_OF[place]).status


def username(profile):
    return f"acl-ref-{profile.name}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ref_world(tmp_path_factory):
    from apps.blog.admin import CategoryAdmin
    scoped = {username(p) for p in PROFILES if p.scoped_out}
    ruled = {username(p) for p in PROFILES if p.rule_denies}
    with acl_kit.hidden_by_name(CategoryAdmin, SECRET, scoped, ruled):
        async with serving(shutdown_first=True) as servers:
            settings = make_settings(tmp_path_factory.mktemp("acl-ref"), acl_kit.APPS)
            site = await servers.serve(settings)
            Category, Article = site.model("blog.category"), site.model("blog.article")
            secret = await Category.create(name=SECRET, description=SECRET, db=site.db)
            visible = await Category.create(name=VISIBLE, db=site.db)
            article = await Article.create(title=ARTICLE, category=secret.id, db=site.db)
            browsers = {}
            for profile in PROFILES:
                perms = {"blog.article": list(profile.article)} if profile.article else {}
                if profile.category_read:
                    perms["blog.category"] = ["read"]
                browsers[profile.name] = await site.user_browser(
                    username(profile), perms, is_superuser=profile.superuser)
            yield {"site": site, "secret": secret, "visible": visible, "article": article,
                   "browsers": browsers}


def list_cell(page, article_id, column):
    columns = re.findall(r'<th scope="col" class="column-([^"]+)"', page)
    row = re.search(rf'<tr data-id="{article_id}">(.*?)</tr>', page, re.S)
    assert row is not None and column in columns, (columns, row)
    cells = [html for cls, html in re.findall(r'<td(?: class="([^"]*)")?>(.*?)</td>',
                                              row.group(1), re.S)
             if cls != "action-checkbox"]
    return cells[columns.index(column)]


def sidebar_labels(page, title="category"):
    found = re.search(rf"<h3>By {title}</h3>\s*<ul>(.*?)</ul>", page, re.S)
    labels = [text_of(a) for a in re.findall(r"<a [^>]*>(.*?)</a>", found.group(1), re.S)] \
        if found else []
    return [label for label in labels if label != "All"]


CELLS = [(profile, place) for profile in PROFILES for place in PLACES]


@pytest.mark.parametrize("profile,place", CELLS,
                         ids=[f"{p.name}|{place}" for p, place in CELLS])
async def test_reference_label(ref_world, profile, place):
    browser = ref_world["browsers"][profile.name]
    article, secret = ref_world["article"], ref_world["secret"]
    base = "/admin/blog/article/"
    path = {"list": base, "detail": f"{base}{article.id}/",
            "change:get": f"{base}{article.id}/change/", "add:get": f"{base}add/"}.get(
        PAGE_OF.get(place), "/admin/blog/category/autocomplete/")
    page = await browser.fetch(path, headers={"Accept": "application/json"}) \
        if place == "autocomplete" else await browser.get(path)
    status = page_status(profile, place)
    assert page.code == status, (place, acl_kit.shown(page))
    visible = label_visible(profile)
    if not visible:
        found = acl_kit.find_marker(page.text, [acl_kit.MARKERS["blog.category"]])
        assert found is None, f"the unreadable category's name shows: …{found[1]}…"
    if status != 200:
        return
    link = f'href="/admin/blog/category/{secret.id}/"'
    if place in ("list-column", "detail"):
        if place == "list-column":
            cell = list_cell(page.text, article.id, "category")
        else:
            row = re.search(r"<dt>Category</dt><dd>(.*?)</dd>", page.text, re.S)
            assert row is not None, acl_kit.shown(page)
            cell = row.group(1)
        if visible:
            assert text_of(cell) == SECRET and link in cell, cell
        else:
            assert text_of(cell) == HIDDEN and "<a" not in cell, cell
    elif place == "autocomplete":
        labels = [item["label"] for item in page.json()["results"]]
        assert (SECRET in labels) == visible, labels
        assert VISIBLE in labels and HIDDEN not in labels, labels
    elif place == "list-filter":
        labels = sidebar_labels(page.text)
        assert (SECRET in labels) == visible, labels
        readable = profile.superuser or profile.category_read
        assert (VISIBLE in labels) == readable, labels        # only readable ones, all of them
        assert HIDDEN not in labels, labels
    else:
        options = acl_kit.parse_form(page.text).selects.get("category")
        assert options is not None, acl_kit.shown(page)
        labels = [label for _value, label, _selected in options]
        selected = [label for _value, label, chosen in options if chosen]
        offered = [label for value, label, chosen in options if value and not chosen]
        if place == "change-select":
            assert selected == [SECRET if visible else HIDDEN], options
        assert (SECRET in offered or SECRET in selected) == (visible or False), options
        if place == "add-select":
            assert selected in ([], ["---------"]) and (SECRET in labels) == visible, options
        readable = profile.superuser or profile.category_read
        assert (VISIBLE in labels) == readable, options
