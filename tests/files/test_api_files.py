"""Files through the JSON API: shown with a url, uploaded and cleared at that url (with the
version check, the admin's hooks and the audit entry), never set by a JSON body, and
read only by those who may read the object."""
import pytest

LIST = "/api/billing/invoice/"
RW = {"billing.invoice": ["read", "write"]}
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"


@pytest.fixture
async def alice(site):
    return await site.token_client("alice", RW)


async def new_invoice(client, number="INV-1"):
    reply = await client.post(LIST, {"number": number})
    assert reply.code == 201, reply
    return reply.json


async def upload(client, invoice, data=PDF, name="invoice.pdf", field="document", **headers):
    url = f"{LIST}{invoice['id']}/files/{field}?filename={name}"
    return await client.request("PUT", url, raw=data, content_type="application/pdf",
                                headers=headers)


async def test_upload_shows_the_file_with_its_url_and_download_returns_it(site, alice):
    invoice = await new_invoice(alice)
    assert invoice["document"] is None
    reply = await upload(alice, invoice, **{"If-Match": '"1"'})
    assert reply.code == 200, reply
    url = f"{LIST}{invoice['id']}/files/document"
    assert reply.json["document"] == {"name": "invoice.pdf", "content_type": "application/pdf",
                                      "size": len(PDF), "url": url}
    assert reply.json["version"] == 2
    download = await alice.get(url)
    assert download.code == 200 and download.raw.body == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    entries = await site.audit_entries(object_id=invoice["id"])
    assert [e.action for e in entries][-1] == "update"
    assert "document" in entries[-1].changes


async def test_a_refused_file_is_422_naming_the_field_and_nothing_changes(site, alice):
    invoice = await new_invoice(alice)
    reply = await upload(alice, invoice, data=b"<html><script>x</script></html>")
    assert reply.code == 422, reply
    assert "not allowed" in reply.json["fields"]["document"]
    again = await alice.get(f"{LIST}{invoice['id']}")
    assert again.json["document"] is None and again.json["version"] == 1


async def test_a_stale_version_is_409(site, alice):
    invoice = await new_invoice(alice)
    reply = await upload(alice, invoice, **{"If-Match": '"7"'})
    assert reply.code == 409, reply


async def test_a_body_over_the_fields_limit_is_413(site, alice):
    invoice = await new_invoice(alice)
    reply = await upload(alice, invoice, data=PDF + b"x" * 60_000)     # max_size 50,000
    assert reply.code == 413, reply


async def test_the_file_needs_a_name(site, alice):
    invoice = await new_invoice(alice)
    reply = await alice.request("PUT", f"{LIST}{invoice['id']}/files/document", raw=PDF,
                                content_type="application/pdf")
    assert reply.code == 400 and "filename" in reply.json["error"]
    reply = await alice.request("PUT", f"{LIST}{invoice['id']}/files/document", raw=PDF,
                                content_type="application/pdf", headers={
                                    "Content-Disposition": 'attachment; filename="a b.pdf"'})
    assert reply.code == 200 and reply.json["document"]["name"] == "a b.pdf"


async def test_delete_clears_the_field_and_the_file(site, alice):
    from core.db.files import files_of
    invoice = await new_invoice(alice)
    await upload(alice, invoice)
    reply = await alice.delete(f"{LIST}{invoice['id']}/files/document")
    assert reply.code == 200 and reply.json["document"] is None
    assert await files_of(site.db).ids() == []


async def test_a_json_body_cannot_set_a_file(site, alice):
    invoice = await new_invoice(alice)
    shown = (await upload(alice, invoice)).json
    other = await new_invoice(alice, "INV-2")
    reply = await alice.patch(f"{LIST}{other['id']}", {"document": shown["document"]})
    assert reply.code == 422 and "document" in reply.json["fields"]
    reply = await alice.put(f"{LIST}{invoice['id']}", shown)     # PUT back what GET showed
    assert reply.code == 200, reply
    assert reply.json["document"] == shown["document"]          # kept, not cleared


@pytest.mark.parametrize("path", ["files/number", "files/nothing", "files/scan"])
async def test_unknown_or_empty_file_fields_are_404(site, alice, path):
    invoice = await new_invoice(alice)
    assert (await alice.get(f"{LIST}{invoice['id']}/{path}")).code == 404


async def test_only_readers_of_the_object_get_the_file(site, alice):
    invoice = await new_invoice(alice)
    await upload(alice, invoice)
    url = f"{LIST}{invoice['id']}/files/document"
    writer = await site.token_client("wanda", {"billing.invoice": ["write"]})
    assert (await writer.get(url)).code == 403
    assert (await upload(writer, invoice)).code == 403           # a write answers the object
    outsider = await site.token_client("bob", RW)                 # outside bob's row scope
    reply = await outsider.get(url)
    assert reply.code == 404 and PDF not in (reply.raw.body or b"")
    assert (await upload(outsider, invoice)).code == 404
    assert (await site.anonymous().get(url)).code == 401


async def test_openapi_describes_file_fields_and_their_operations(site, alice):
    spec = (await alice.get("/api/openapi.json")).json
    invoice = spec["components"]["schemas"]["billing_invoice"]["properties"]["document"]
    assert invoice["readOnly"] is True and "url" in invoice["properties"]
    ops = spec["paths"]["/api/billing/invoice/{id}/files/document"]
    assert set(ops) == {"get", "put", "delete", "parameters"}
    assert "document" not in spec["components"]["schemas"]["billing_invoice_update"][
        "properties"]
    reader = await site.token_client("rita", {"billing.invoice": ["read"]})
    ops = (await reader.get("/api/openapi.json")).json["paths"][
        "/api/billing/invoice/{id}/files/document"]
    assert set(ops) == {"get", "parameters"}
