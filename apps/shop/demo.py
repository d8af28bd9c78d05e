"""Demo data: eight customers and twenty-four orders with their lines (every fourth with
an invoice PDF).

    from apps.shop.demo import load_demo
    created = await load_demo(db)      # {"customers": 8, "orders": 24}, or {} if any exist

``manage.py runserver`` calls it on the first run of the dev settings (see
``ShopApp.first_run``). It is idempotent: when any customer exists it does nothing.
"""
import datetime
import random
from decimal import Decimal

from core.models import Upload, get_database

from .models import Customer, Order

CUSTOMERS = [
    ("Ada Lovelace", "ada@example.com", "12 rue de la Paix", "Paris", "75002", "FR"),
    ("Grace Hopper", "grace@example.com", "1 Navy Way", "Arlington", "22202", "US"),
    ("Alan Turing", "alan@example.com", "2 Bletchley Park", "Milton Keynes", "MK3 6EB", "GB"),
    ("Emmy Noether", "emmy@example.com", "Bunsenstraße 3", "Göttingen", "37073", "DE"),
    ("Hedy Lamarr", "hedy@example.com", "Kärntner Ring 5", "Lyon", "69002", "FR"),
    ("Rita Levi-Montalcini", "rita@example.com", "Via Po 10", "Turin", "10124", "IT"),
    ("Margarita Salas", "margarita@example.com", "Calle Mayor 8", "Madrid", "28013", "ES"),
    ("Katherine Johnson", "katherine@example.com", "4 Langley Blvd", "Hampton", "23681",
     "US"),
]
PRODUCTS = [("pen", "Fountain pen", "24.90"), ("ink", "Ink bottle", "7.50"),
            ("pad", "Notepad A5", "3.20"), ("clip", "Paper clips (100)", "1.99"),
            ("lamp", "Desk lamp", "39.00"), ("mug", "Mug", "8.00")]
TAGS = ["vip", "wholesale", "newsletter", "late-payer", "b2b"]
ORDERS = 24
SEED = 7


def invoice_pdf(number):
    """A one-page PDF saying "Invoice <number>" (demo data: every fourth order has one)."""
    text = f"BT /F1 24 Tf 72 720 Td (Invoice {number}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
               b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text)]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for index, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (index, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


async def load_demo(db=None, *, today=None):
    """Create the demo customers and orders unless any customer exists; returns
    ``{"customers": n, "orders": n}`` (``{}`` when nothing was created)."""
    db = get_database(db)
    if await Customer.using(db).count(limit=1):
        return {}
    rng = random.Random(SEED)
    today = today or datetime.date.today()
    customers = []
    for name, email, street, city, postcode, country in CUSTOMERS:
        customers.append(await Customer.using(db).create(
            name=name, email=email, tags=rng.sample(TAGS, rng.randint(0, 2)),
            address={"street": street, "city": city, "postcode": postcode,
                     "country": country},
            notes={"source": rng.choice(["web", "fair", "referral"])}))
    statuses = [value for value, _ in Order.STATUSES]
    for number in range(ORDERS):
        lines = [{"sku": sku, "title": title, "quantity": rng.randint(1, 4),
                  "unit_price": Decimal(price)}
                 for sku, title, price in rng.sample(PRODUCTS, rng.randint(1, 4))]
        invoice = Upload(invoice_pdf(number + 1), f"invoice-{number + 1}.pdf") \
            if number % 4 == 0 else None
        await Order.using(db).create(
            customer=rng.choice(customers).id, status=rng.choice(statuses),
            placed=today - datetime.timedelta(days=3 * number), lines=lines, invoice=invoice,
            attributes={"gift": True} if number % 5 == 0 else {})
    return {"customers": len(customers), "orders": ORDERS}
