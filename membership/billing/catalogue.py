"""Materials sold at the desk (plywood, acrylic, filament) and each sale of them.

Imported by `membership.models`. The stock count can never go below zero (a database check);
every sale is paid by one ledger entry whose cause is the sale.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def _space_currency() -> str:
    return settings.SPACE_CURRENCY


class Material(models.Model):
    name = models.CharField(max_length=120, unique=True)
    unit = models.CharField(max_length=40, help_text="What one counts: sheet, metre, 100 g spool.")
    price_minor = models.PositiveIntegerField(help_text="Per unit, in minor units (cents, won).")
    currency = models.CharField(max_length=3, default=_space_currency)
    stock = models.IntegerField(default=0)
    low_stock_threshold = models.PositiveIntegerField(
        default=0, help_text="Staff are emailed when the stock falls to this or below."
    )
    low_stock_alerted_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the alert went out; cleared by restocking."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="material_stock_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.name} (per {self.unit})"


class MaterialSale(models.Model):
    class State(models.TextChoices):
        PAID = "paid", "Paid"
        AWAITING = "awaiting", "Awaiting payment"  # the card needs the member (SCA): pay-by link
        # Not paid within DESK_SALE_PAYMENT_MINUTES: the sale is undone (desk_sales_expire).
        EXPIRED = "expired", "Expired unpaid"

    material = models.ForeignKey(Material, on_delete=models.PROTECT, related_name="sales")
    member = models.ForeignKey(
        "membership.Member", on_delete=models.PROTECT, related_name="material_sales"
    )
    quantity = models.PositiveIntegerField()
    unit_price_minor = models.PositiveIntegerField()
    total_minor = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=20)  # a LedgerEntry.Method
    state = models.CharField(max_length=20, choices=State.choices, default=State.PAID)
    payment_intent_id = models.CharField(max_length=255, blank=True)
    pay_url = models.URLField(max_length=1000, blank=True)
    sold_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="material_sale_quantity"),
            models.CheckConstraint(
                condition=Q(total_minor=models.F("quantity") * models.F("unit_price_minor")),
                name="material_sale_total_is_quantity_times_price",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.material.name} to {self.member}"  # noqa: RUF001


class CreditPack(models.Model):
    """Prepaid credits members buy online (Checkout) or at the desk: pay this, spend this."""

    name = models.CharField(max_length=120, unique=True)
    amount_minor = models.PositiveIntegerField(help_text="Price and credits, in minor units.")
    currency = models.CharField(max_length=3, default=_space_currency)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["amount_minor"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="credit_pack_not_free")
        ]

    def __str__(self) -> str:
        return self.name
