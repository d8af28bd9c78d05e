"""Demo data: eight customers and twenty-four orders with their lines.

    from apps.shop.demo import load_demo
    created = await load_demo(db)      # {"customers": 8, "orders": 24}, or {} if any exist

``manage.py runserver`` calls it on the first run of the dev settings (see
``ShopApp.first_run``). It is idempotent: when any customer exists it does nothing.
"""
import datetime
import random
from decimal import Decimal

from core.models import get_database

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
        await Order.using(db).create(
            customer=rng.choice(customers).id, status=rng.choice(statuses),
            placed=today - datetime.timedelta(days=3 * number), lines=lines,
            attributes={"gift": True} if number % 5 == 0 else {})
    return {"customers": len(customers), "orders": ORDERS}
