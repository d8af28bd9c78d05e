"""Customers and their orders: nested documents, dates and money."""
import decimal

from core.models import FileField, Model, fields

COUNTRIES = [("FR", "France"), ("DE", "Germany"), ("ES", "Spain"), ("IT", "Italy"),
             ("GB", "United Kingdom"), ("US", "United States")]


class Address(fields.SubDocument):
    street = fields.StringField(max_length=200)
    city = fields.StringField(max_length=100, required=True)
    postcode = fields.StringField(max_length=20)
    country = fields.ChoiceField(choices=COUNTRIES, required=True)


class Customer(Model):
    name = fields.StringField(max_length=200, required=True)
    email = fields.EmailField(required=True, unique=True)
    address = fields.EmbeddedField(Address)
    tags = fields.ListField(fields.SlugField(), max_items=20, unique_items=True)
    notes = fields.DictField(help_text="Free-form JSON object.")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Line(fields.SubDocument):
    sku = fields.SlugField(max_length=40, required=True)
    title = fields.StringField(max_length=200)
    quantity = fields.IntegerField(min_value=1, required=True, default=1)
    unit_price = fields.DecimalField(max_digits=12, decimal_places=2, min_value=0,
                                     required=True)

    @property
    def amount(self):
        """``quantity × unit_price`` (``None`` until both are set)."""
        if self.quantity is None or self.unit_price is None:
            return None
        return self.quantity * self.unit_price


class Order(Model):
    STATUSES = [("new", "New"), ("paid", "Paid"), ("shipped", "Shipped"),
                ("cancelled", "Cancelled")]

    customer = fields.ReferenceField(Customer, required=True)
    placed = fields.DateField(required=True)
    status = fields.ChoiceField(choices=STATUSES, default="new")
    lines = fields.ListField(Line, min_items=1, max_items=100)
    invoice = FileField(content_types=["application/pdf"], help_text="A PDF.")
    attributes = fields.DictField()

    class Meta:
        ordering = ["-placed"]

    def __str__(self):
        return f"Order {self.placed} ({self.get_display('lines')})"

    def total(self):
        """The sum of the lines' amounts, exact."""
        return sum((line.amount or decimal.Decimal(0) for line in self.lines or []),
                   decimal.Decimal("0.00"))
