"""Customers and their orders: nested documents, dates and money."""
import decimal

from core.i18n import gettext_lazy as _l
from core.models import FileField, Model, fields

COUNTRIES = [("FR", _l("France")), ("DE", _l("Germany")), ("ES", _l("Spain")),
             ("IT", _l("Italy")), ("GB", _l("United Kingdom")), ("US", _l("United States"))]


class Address(fields.SubDocument):
    street = fields.StringField(max_length=200, verbose_name=_l("street"))
    city = fields.StringField(max_length=100, required=True, verbose_name=_l("city"))
    postcode = fields.StringField(max_length=20, verbose_name=_l("postcode"))
    country = fields.ChoiceField(choices=COUNTRIES, required=True, verbose_name=_l("country"))


class Customer(Model):
    name = fields.StringField(max_length=200, required=True, verbose_name=_l("name"))
    email = fields.EmailField(required=True, unique=True, verbose_name=_l("e-mail address"))
    address = fields.EmbeddedField(Address, verbose_name=_l("address"))
    tags = fields.ListField(fields.SlugField(), max_items=20, unique_items=True,
                            verbose_name=_l("tags"))
    notes = fields.DictField(help_text=_l("Free-form JSON object."), verbose_name=_l("notes"))

    class Meta:
        ordering = ["name"]
        verbose_name = _l("customer")
        verbose_name_plural = _l("customers")

    def __str__(self):
        return self.name


class Line(fields.SubDocument):
    sku = fields.SlugField(max_length=40, required=True, verbose_name=_l("SKU"))
    title = fields.StringField(max_length=200, verbose_name=_l("title"))
    quantity = fields.IntegerField(min_value=1, required=True, default=1,
                                   verbose_name=_l("quantity"))
    unit_price = fields.DecimalField(max_digits=12, decimal_places=2, min_value=0,
                                     required=True, verbose_name=_l("unit price"))

    @property
    def amount(self):
        """``quantity × unit_price`` (``None`` until both are set)."""
        if self.quantity is None or self.unit_price is None:
            return None
        return self.quantity * self.unit_price


class Order(Model):
    STATUSES = [("new", _l("New")), ("paid", _l("Paid")), ("shipped", _l("Shipped")),
                ("cancelled", _l("Cancelled"))]

    customer = fields.ReferenceField(Customer, required=True, verbose_name=_l("customer"))
    placed = fields.DateField(required=True, verbose_name=_l("placed"))
    status = fields.ChoiceField(choices=STATUSES, default="new", verbose_name=_l("status"))
    lines = fields.ListField(Line, min_items=1, max_items=100, verbose_name=_l("lines"))
    invoice = FileField(content_types=["application/pdf"], help_text=_l("A PDF."),
                        verbose_name=_l("invoice"))
    attributes = fields.DictField(verbose_name=_l("attributes"))

    class Meta:
        ordering = ["-placed"]
        verbose_name = _l("order")
        verbose_name_plural = _l("orders")

    def __str__(self):
        return _l("Order %(placed)s (%(lines)s)") % {
            "placed": self.placed, "lines": self.get_display("lines")}

    def total(self):
        """The sum of the lines' amounts, exact."""
        return sum((line.amount or decimal.Decimal(0) for line in self.lines or []),
                   decimal.Decimal("0.00"))

    total.short_description = _l("total")
