"""How the shop's models appear in the admin (imported by the registry once apps load)."""
from core.admin import ModelAdmin, register

from .models import Customer, Order


@register(Customer)
class CustomerAdmin(ModelAdmin):
    list_display = ["name", "email", "address", "tags"]
    search_fields = ["name", "email", "address.city"]
    list_filter = ["address.country", "tags"]
    ordering = ["name"]


@register(Order)
class OrderAdmin(ModelAdmin):
    list_display = ["customer", "customer.address.city", "placed", "status", "lines", "total",
                    "invoice"]
    list_filter = ["status", "placed", "customer.address.country"]
    search_fields = ["customer__name", "lines.sku"]
    ordering = ["-placed"]
