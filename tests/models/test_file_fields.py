"""FileField / ImageField: checked uploads, stored beside the document, never orphaned."""
import io

import pytest
from PIL import Image

from core.db.files import files_of
from core.models import (
    FileField, ImageField, Model, StaleObjectError, StoredFile, Upload, ValidationError, fields,
)
from core.models.files import sniff_content_type

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"


def png(width=3, height=2):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(buffer, "PNG")
    return buffer.getvalue()


class Invoice(Model):
    number = fields.StringField(required=True)
    document = FileField(max_size=10_000)
    scan = ImageField()

    class Meta:
        collection = "test_file_invoices"


async def stored_ids(db):
    return sorted(await files_of(db).ids())


async def test_an_upload_is_sniffed_stored_and_described(db):
    invoice = Invoice(number="A1", document=Upload(PDF, "../../etc/Invoice 7.pdf", "text/html"))
    await invoice.save()
    value = invoice.document
    assert isinstance(value, StoredFile)
    assert (value.name, value.content_type, value.size) == \
        ("Invoice 7.pdf", "application/pdf", len(PDF))    # path cut, claim ignored
    assert await files_of(db).read(value.id) == PDF
    again = await Invoice.get(invoice.id)
    assert again.document == value
    assert again.to_json()["document"] == {"name": "Invoice 7.pdf",
                                           "content_type": "application/pdf",
                                           "size": len(PDF)}


async def test_an_image_records_its_dimensions(db):
    invoice = await Invoice.create(number="A2", scan=Upload(png(5, 4), "scan.png"))
    assert (invoice.scan.width, invoice.scan.height) == (5, 4)
    assert invoice.scan.content_type == "image/png"


@pytest.mark.parametrize("upload, message", [
    (Upload(b"<html><script>alert(1)</script></html>", "x.pdf", "application/pdf"),
     "not allowed"),
    (Upload(b"", "empty.pdf"), "empty"),
    (Upload(PDF + b"x" * 10_000, "big.pdf"), "too large"),
    (Upload(b"\x00\x01\x02binary", "blob.pdf"), "not allowed"),
])
async def test_refused_uploads_name_the_field_and_store_nothing(db, upload, message):
    with pytest.raises(ValidationError) as caught:
        await Invoice(number="B", document=upload).save()
    assert "document" in caught.value.errors
    assert message in caught.value.errors["document"]
    assert await stored_ids(db) == []
    assert await Invoice.count() == 0


async def test_a_damaged_image_is_refused_and_nothing_is_stored(db):
    damaged = png()[:40]
    with pytest.raises(ValidationError) as caught:
        await Invoice(number="C", scan=Upload(damaged, "scan.png")).save()
    assert "scan" in caught.value.errors
    assert await stored_ids(db) == []


async def test_a_client_cannot_point_a_document_at_a_file_id(db):
    other = await Invoice.create(number="D", document=Upload(PDF, "secret.pdf"))
    for forged in ({"id": str(other.document.id), "name": "x"}, str(other.document.id)):
        with pytest.raises(ValidationError):
            await Invoice(number="E", document=forged).save()


async def test_replacing_a_file_deletes_the_old_one_after_the_write(db):
    invoice = await Invoice.create(number="F", document=Upload(PDF, "v1.pdf"))
    first = invoice.document.id
    invoice.document = Upload(PDF + b"%v2", "v2.pdf")
    await invoice.save()
    assert await stored_ids(db) == [invoice.document.id]
    assert first != invoice.document.id


async def test_clearing_a_file_deletes_it(db):
    invoice = await Invoice.create(number="G", document=Upload(PDF, "v1.pdf"))
    invoice.document = None
    await invoice.save()
    assert await stored_ids(db) == []
    assert (await Invoice.get(invoice.id)).document is None


async def test_saving_other_fields_keeps_the_file(db):
    invoice = await Invoice.create(number="H", document=Upload(PDF, "v1.pdf"))
    invoice.number = "H2"
    await invoice.save()
    assert await stored_ids(db) == [invoice.document.id]


async def test_a_stale_save_deletes_the_file_it_stored_and_keeps_the_old_one(db):
    invoice = await Invoice.create(number="I", document=Upload(PDF, "v1.pdf"))
    kept = invoice.document.id
    elsewhere = await Invoice.get(invoice.id)
    elsewhere.number = "changed elsewhere"
    await elsewhere.save()
    invoice.document = Upload(PDF + b"%v2", "v2.pdf")
    with pytest.raises(StaleObjectError):
        await invoice.save()
    assert await stored_ids(db) == [kept]


async def test_deleting_the_document_deletes_its_files(db):
    invoice = await Invoice.create(number="J", document=Upload(PDF, "a.pdf"),
                                   scan=Upload(png(), "s.png"))
    other = await Invoice.create(number="K", document=Upload(PDF, "b.pdf"))
    await invoice.delete()
    assert await stored_ids(db) == [other.document.id]


def test_sniffing_trusts_bytes_not_names():
    assert sniff_content_type(PDF, "image/png") == "application/pdf"
    assert sniff_content_type(b"a,b\n1,2\n", "text/csv") == "text/csv"
    assert sniff_content_type(b"a,b\n1,2\n", "application/pdf") == "text/plain"
    assert sniff_content_type(b"\x00\x01\x02\x03bad") == "application/octet-stream"
    assert sniff_content_type(b"<svg xmlns='http://www.w3.org/2000/svg'/>") != "text/plain"


@pytest.fixture
def upload_limit():
    """``upload_limit(n)`` configures the process settings with ``FILE_UPLOAD_MAX_BYTES = n``
    for the test (the previous settings come back afterwards)."""
    from core.conf import load_settings, settings
    previous = settings._wrapped

    def configure(limit):
        settings.configure(load_settings("settings.test", environ={},
                                         FILE_UPLOAD_MAX_BYTES=limit))
    yield configure
    if previous is None:
        settings.reset()
    else:
        settings.configure(previous)


async def test_the_default_size_limit_is_the_setting(db, upload_limit):
    upload_limit(len(PDF) - 1)
    with pytest.raises(ValidationError) as caught:
        await Unlimited(document=Upload(PDF, "a.pdf")).save()
    assert "too large" in caught.value.errors["document"]
    upload_limit(len(PDF))
    assert (await Unlimited(document=Upload(PDF, "a.pdf")).save()).document.size == len(PDF)


class Unlimited(Model):
    document = FileField()

    class Meta:
        collection = "test_file_unlimited"


@pytest.mark.parametrize("declare", [
    lambda: type("Scan", (fields.SubDocument,), {"page": FileField()}),
    lambda: type("Photo", (fields.SubDocument,), {"picture": ImageField()}),
    lambda: fields.ListField(FileField()),
    lambda: fields.DictField(ImageField()),
])
def test_a_file_inside_a_sub_document_a_list_or_a_dict_is_refused_when_declared(declare):
    with pytest.raises(TypeError, match="a file belongs to a model's own field"):
        declare()


def test_the_too_large_sizes_are_in_the_active_languages_number_format():
    from core import i18n
    i18n.install([i18n.CORE_LOCALE_DIR], default="en", languages=["en", "fr", "de"])
    i18n.activate(i18n.locale_for("de"))
    try:
        with pytest.raises(ValidationError) as refused:
            Invoice.document.check_upload(Upload(PDF + b"x" * 20_000, "big.pdf"))
    finally:
        i18n.activate(None)
    message = str(refused.value)
    assert "10.000" in message and "10,000" not in message, message
