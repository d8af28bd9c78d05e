"""A field hidden from a user (``-read:FIELD``) is not learnt through a side channel either.

Its value never appears (``test_scoped_channels``: pages, API, OpenAPI, history, audit;
``test_live_fields``: live events); here: a search cannot match on it (the list page, the
API, autocomplete, the export — also through a reference, ``customer__name``), a list
filter or a sort on it is refused (400) on the page, the API and the export, and the
export's and the import's columns leave it out.
"""
import base64
import datetime
import re

import pytest

from support import make_settings, serving
from support.api import ApiSite
from support.pages import row_ids

APPS = ["core.audit", "apps.accounts", "apps.blog", "apps.shop"]
HIDDEN = {"blog.article": ["read", "write", "export", "-read:body", "-read:category",
                           "-read:published"],
          "blog.category": ["read"],
          "shop.order": ["read"],
          "shop.customer": ["read", "-read:name"]}
VISIBLE = {key: [entry for entry in entries if not entry.startswith("-")]
           for key, entries in HIDDEN.items()}


@pytest.fixture
async def shop(tmp_path):
    async with serving(ApiSite) as servers:
        site = await servers.serve(make_settings(tmp_path, APPS))
        Category, Article = site.model("blog.category"), site.model("blog.article")
        Customer, Order = site.model("shop.customer"), site.model("shop.order")
        category = await Category.create(name="Cats", db=site.db)
        article = await Article.create(title="Visible", body="zebrabody", published=True,
                                       category=category.id, db=site.db)
        customer = await Customer.create(name="Quokkaname", email="q@example.com",
                                         db=site.db)
        order = await Order.create(customer=customer.id, placed=datetime.date(2026, 1, 1),
                                   lines=[{"sku": "a1", "quantity": 1, "unit_price": "1.00"}],
                                   db=site.db)
        site.objects = dict(category=category, article=article, order=order)
        yield site


async def clients(site, username, permissions):
    api = await site.token_client(username, permissions)
    browser = site.browser()
    await browser.login(username)
    return api, browser


async def searches(site, api, browser):
    """``{channel: found?}`` for a search on the hidden values over every channel."""
    article, order = site.objects["article"], site.objects["order"]
    json = {"Accept": "application/json"}
    replies = {
        "page": await browser.get("/admin/blog/article/?q=zebrabody"),
        "api": await api.get("/api/blog/article/?q=zebrabody"),
        "autocomplete": await browser.get("/admin/blog/article/autocomplete/?q=zebrabody",
                                          headers=json),
        "export": await browser.get("/admin/blog/article/export/?format=jsonl&q=zebrabody"),
        "reference": await api.get("/api/shop/order/?q=Quokkaname"),
        "reference autocomplete": await browser.get(
            "/admin/shop/order/autocomplete/?q=Quokkaname", headers=json),
    }
    assert all(reply.code == 200 for reply in replies.values()), replies
    return {channel: str((order if "reference" in channel else article).id) in reply.text
            for channel, reply in replies.items()}


async def test_a_search_never_matches_a_hidden_field_nor_one_behind_a_reference(shop):
    found = await searches(shop, *await clients(shop, "sam", HIDDEN))
    assert found == dict.fromkeys(found, False)
    # the same searches find them for a user who may see the fields: the channels work
    found = await searches(shop, *await clients(shop, "vic", VISIBLE))
    assert found == dict.fromkeys(found, True)


async def test_filters_and_sorts_on_a_hidden_field_are_refused_on_every_channel(shop):
    api, browser = await clients(shop, "sam", HIDDEN)
    _, seer = await clients(shop, "vic", VISIBLE)
    category = shop.objects["category"].id
    for query in (f"category={category}", "published=1", "o=category", "o=-published",
                  "o=body"):
        reply = await api.get(f"/api/blog/article/?{query}")
        assert reply.code == 400 and "zebrabody" not in reply.text, (query, reply)
        for path in ("/admin/blog/article/?", "/admin/blog/article/export/?format=csv&"):
            page = await browser.get(path + query)
            assert page.code == 400, (path, query, page.code)
    for query in (f"category={category}", "published=1", "o=-published"):
        assert (await seer.get(f"/admin/blog/article/?{query}")).code == 200, query


async def test_the_export_and_the_import_leave_a_hidden_field_out(shop):
    _, browser = await clients(shop, "sam", HIDDEN)
    export = await browser.get("/admin/blog/article/export/?format=csv")
    header = export.text.splitlines()[0].split(",")
    assert export.code == 200 and "title" in header
    assert not {"body", "category", "published"} & set(header)
    assert "zebrabody" not in export.text
    page = await browser.get("/admin/blog/article/import/")
    columns = re.search(r"columns named after the fields:?\s*\(?<code>([^<]*)</code>", page.text)
    assert page.code == 200 and columns, page.text[:300]
    assert "title" in columns.group(1).split(", ") and "body" not in columns.group(1)


async def test_an_objects_label_never_shows_a_hidden_field(shop):
    """``Customer.__str__`` is its name: under ``-read:name`` every page, reference, choice,
    audit entry and history shows ``Customer <id>`` instead; a user who may read the name
    sees it on the same pages."""
    Customer = shop.model("shop.customer")
    customer = await Customer.get(shop.objects["order"].customer, db=shop.db)
    order = shop.objects["order"]
    root = await shop.token_client("root", is_superuser=True)
    assert (await root.patch(f"/api/shop/customer/{customer.id}",
                             {"email": "new@example.com"})).code == 200
    permissions = {"shop.order": ["read", "write"], "shop.customer": ["read", "-read:name"],
                   "audit.entry": ["read"]}
    paths = ("/admin/shop/order/", f"/admin/shop/order/{order.id}/",
             f"/admin/shop/order/{order.id}/change/", "/admin/shop/customer/",
             f"/admin/shop/customer/{customer.id}/",
             f"/admin/shop/customer/{customer.id}/history/", "/admin/audit/entry/",
             "/api/audit/entry/", "/admin/shop/customer/autocomplete/?q=new")
    for username, grants, shows in (("sam", permissions, False),
                                    ("vic", {**permissions, "shop.customer": ["read"]}, True)):
        api, browser = await clients(shop, username, grants)
        for path in paths:
            reply = await (api.get(path) if path.startswith("/api/") else browser.get(
                path, headers={"Accept": "application/json"} if "autocomplete" in path
                else None))
            assert reply.code == 200, (username, path, reply.code)
            assert ("Quokkaname" in reply.text) == shows, (username, path)
    api, browser = await clients(shop, "sue", permissions)
    page = await browser.get(f"/admin/shop/customer/{customer.id}/")
    assert f"Customer {customer.id}" in page.text


async def test_the_default_order_and_the_page_cursor_never_use_a_hidden_field(shop):
    """Customers are ordered by name: under ``-read:name`` the list is ordered by id, and
    the next page's cursor (signed, not encrypted) holds no name."""
    Customer = shop.model("shop.customer")
    for i in range(30):
        await Customer.create(name=f"Zed{i:02}-name", email=f"c{i}@example.com", db=shop.db)
    permissions = {"shop.customer": ["read", "-read:name"]}
    api, browser = await clients(shop, "sam", permissions)
    listed = await api.get("/api/shop/customer/?per_page=25")
    cursor = listed.json["next"]
    payload = cursor.split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert listed.code == 200 and "-name" not in decoded and "Zed" not in decoded, decoded
    page = await browser.get("/admin/shop/customer/?per_page=25")
    links = re.findall(r"cursor=([A-Za-z0-9_\-.]+)", page.text)
    assert links and all("Zed" not in base64.urlsafe_b64decode(
        link.split(".")[0] + "=" * (-len(link.split(".")[0]) % 4)).decode("latin-1")
        for link in links)
    seer, _ = await clients(shop, "vic", {"shop.customer": ["read"]})
    names = [row["name"] for row in (await seer.get("/api/shop/customer/")).json["results"]]
    assert names == sorted(names)                       # by name for a user who sees it


async def test_the_audit_log_is_not_searched_nor_sorted_by_labels_that_may_show_them(shop):
    """An audit entry's recorded label of a customer is its name: under ``-read:name`` a
    search of the log by that name finds nothing and ``?o=object_label`` is refused."""
    customer = shop.objects["order"].customer
    root = await shop.token_client("root", is_superuser=True)
    assert (await root.patch(f"/api/shop/customer/{customer}",
                             {"email": "new@example.com"})).code == 200
    log = {"audit.entry": ["read"]}
    for username, grants, finds in (
            ("sam", {**log, "shop.customer": ["read", "-read:name"]}, False),
            ("vic", {**log, "shop.customer": ["read"]}, True)):
        api, browser = await clients(shop, username, grants)
        found = await api.get("/api/audit/entry/?q=Quokkaname")
        assert found.code == 200 and (found.json["count"] > 0) == finds, (username, found)
        page = await browser.get("/admin/audit/entry/?q=Quokkaname")
        assert page.code == 200 and bool(row_ids(page.text)) == finds, username
        sorted_ = await api.get("/api/audit/entry/?o=object_label")
        assert sorted_.code == (200 if finds else 400), (username, sorted_)
