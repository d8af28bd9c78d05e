"""Files on admin pages: upload in the form, errors in place, download only to readers,
replace/clear/delete leave no orphan."""
import html
import io
import re

import pytest
from PIL import Image

from core.db.files import files_of
from support.multipart import multipart
from support.pages import error_for

LIST = "/admin/billing/invoice/"
READ_WRITE = {"billing.invoice": ["read", "write", "delete"]}
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"


def png(width=4, height=3):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "blue").save(buffer, "PNG")
    return buffer.getvalue()


async def post_files(browser, path, fields, files):
    fields = dict(fields, _xsrf=await browser.xsrf())
    body, content_type = multipart(fields, files)
    return await browser.fetch(path, method="POST", body=body,
                               headers={"Content-Type": content_type})


@pytest.fixture
async def alice(site):
    return await site.user_browser("alice", READ_WRITE)


async def stored(site):
    return sorted(await files_of(site.db).ids())


async def add_invoice(browser, number="INV-1", files=None):
    files = files if files is not None else [("document", "invoice.pdf", "application/pdf",
                                              PDF)]
    response = await post_files(browser, LIST + "add/", {"number": number}, files)
    assert response.code == 303, response.text[:2000]
    return response


async def the_invoice(site, number="INV-1"):
    return await site.model("billing.invoice").find_one({"number": number}, db=site.db)


async def test_the_add_form_posts_multipart_with_file_inputs(site, alice):
    page = await alice.get(LIST + "add/")
    assert page.code == 200
    assert 'enctype="multipart/form-data"' in page.text
    assert re.search(r'<input type="file" name="document" accept="[^"]*application/pdf',
                     page.text)
    assert re.search(r'<input type="file" name="scan" accept="image/png,', page.text)


async def test_upload_then_list_link_and_download(site, alice):
    await add_invoice(alice)
    invoice = await the_invoice(site)
    assert invoice.document.name == "invoice.pdf"
    assert invoice.document.content_type == "application/pdf"
    url = f"{LIST}{invoice.id}/file/document/"
    listing = await alice.get(LIST)
    assert f'href="{url}"' in listing.text
    download = await alice.get(url)
    assert download.code == 200
    assert download.raw.body == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="invoice.pdf"')
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("language, size", [("en", "1,000 bytes"), ("de", "1.000 Byte"),
                                            ("fr", "1\u202f000\u00a0octets")])
async def test_the_list_writes_a_files_size_in_the_users_language(site, language, size):
    browser = await site.user_browser(f"reader-{language}", READ_WRITE, language=language)
    padded = PDF + b" " * (1000 - len(PDF))
    await add_invoice(browser, files=[("document", "invoice.pdf", "application/pdf", padded)])
    listing = await browser.get(LIST)
    assert f"invoice.pdf ({size})" in html.unescape(listing.text)


async def test_a_refused_upload_is_shown_next_to_its_input_and_nothing_is_stored(site, alice):
    disguised = b"<html><script>alert(1)</script></html>"
    response = await post_files(alice, LIST + "add/", {"number": "INV-2"},
                                [("document", "invoice.pdf", "application/pdf", disguised)])
    assert response.code == 200
    assert "not allowed" in error_for(response.text, "document")
    assert 'value="INV-2"' in response.text                   # the user's input is kept
    assert await stored(site) == []
    assert await the_invoice(site, "INV-2") is None


async def test_a_damaged_image_is_refused_in_place(site, alice):
    response = await post_files(alice, LIST + "add/", {"number": "INV-3"},
                                [("scan", "scan.png", "image/png", png()[:30])])
    assert response.code == 200
    assert "valid image" in error_for(response.text, "scan")
    assert await stored(site) == []


async def test_an_image_opens_inline_with_its_size_recorded(site, alice):
    await add_invoice(alice, files=[("scan", "scan.png", "image/png", png(6, 5))])
    invoice = await the_invoice(site)
    assert (invoice.scan.width, invoice.scan.height) == (6, 5)
    download = await alice.get(f"{LIST}{invoice.id}/file/scan/")
    assert download.headers["Content-Disposition"].startswith("inline;")
    assert download.headers["Content-Type"] == "image/png"


async def test_change_page_links_the_current_file_and_keeps_it_when_untouched(site, alice):
    await add_invoice(alice)
    invoice = await the_invoice(site)
    change = f"{LIST}{invoice.id}/change/"
    page = await alice.get(change)
    assert f'href="{LIST}{invoice.id}/file/document/">invoice.pdf</a>' in page.text
    response = await post_files(alice, change, {"number": "INV-1b", "_version": "1"},
                                [("document", "", "application/octet-stream", b"")])
    assert response.code == 303, response.text[:2000]
    again = await the_invoice(site, "INV-1b")
    assert again.document == invoice.document
    assert await stored(site) == [invoice.document.id]


async def test_replacing_and_clearing_delete_the_old_file(site, alice):
    await add_invoice(alice)
    invoice = await the_invoice(site)
    change = f"{LIST}{invoice.id}/change/"
    response = await post_files(alice, change, {"number": "INV-1", "_version": "1"},
                                [("document", "v2.txt", "text/plain", b"version two\n")])
    assert response.code == 303, response.text[:2000]
    replaced = await the_invoice(site)
    assert replaced.document.name == "v2.txt"
    assert await stored(site) == [replaced.document.id]
    response = await post_files(alice, change, {"number": "INV-1", "_version": "2",
                                                "document-clear": "on"}, [])
    assert response.code == 303, response.text[:2000]
    assert (await the_invoice(site)).document is None
    assert await stored(site) == []


async def test_deleting_the_object_deletes_its_files(site, alice):
    await add_invoice(alice, files=[("document", "a.pdf", "application/pdf", PDF),
                                    ("scan", "s.png", "image/png", png())])
    invoice = await the_invoice(site)
    assert len(await stored(site)) == 2
    response = await alice.post(f"{LIST}{invoice.id}/delete/", {"post": "yes"})
    assert response.code == 303, response.text[:2000]
    assert await stored(site) == []


async def test_download_needs_read_on_the_object(site, alice):
    await add_invoice(alice)
    invoice = await the_invoice(site)
    url = f"{LIST}{invoice.id}/file/document/"
    writer_only = await site.user_browser("wanda", {"billing.invoice": ["write"]})
    assert (await writer_only.get(url)).code == 403
    other_reader = await site.user_browser("bob", {"billing.invoice": ["read"]})
    response = await other_reader.get(url)                   # outside bob's row scope
    assert response.code == 404
    assert PDF not in (response.raw.body or b"")
    anonymous = site.browser()
    response = await anonymous.get(url)
    assert response.code in (302, 303) and "/admin/login/" in response.location
    boss = await site.user_browser("boss", {"billing.invoice": ["read"]})
    assert (await boss.get(url)).raw.body == PDF


@pytest.mark.parametrize("suffix", ["file/number/", "file/nothing/", "file/scan/",
                                    "file/__class__/"])
async def test_not_a_stored_file_is_404(site, alice, suffix):
    await add_invoice(alice)
    invoice = await the_invoice(site)
    assert (await alice.get(f"{LIST}{invoice.id}/{suffix}")).code == 404


async def test_hostile_file_names_become_safe_headers(site, alice):
    await add_invoice(alice, files=[("document", 'r\u00e9sum\u00e9 "x";.txt', "text/plain",
                                     b"hello\n")])
    invoice = await the_invoice(site)
    header = (await alice.get(f"{LIST}{invoice.id}/file/document/")).headers[
        "Content-Disposition"]
    assert header.startswith('attachment; filename="r_sum_ _x__.txt"; ')
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9%20%22x%22%3B.txt" in header
