"""A day pass product and the passes sold from it.

Imported by `equipment.models` (so they belong to the equipment app: a pass names machines). A
pass is for one local day, read in the zone of the location of the machine it opens; the
database keeps one live pass per holder, product and day, so a pass cannot be bought twice.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.money import CurrencyError, currency_code, minor_step, money_format


def _space_currency() -> str:
    return settings.SPACE_CURRENCY


class DayPassProduct(models.Model):
    """What a day pass opens and costs: the machines it names (one by one, or every machine
    needing a certification: a machine class) at the locations it names."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    price_minor = models.PositiveIntegerField(
        help_text=_("In minor units (cents; whole won or yen).")
    )
    currency = models.CharField(max_length=3, default=_space_currency)
    machines = models.ManyToManyField(
        "equipment.Machine", blank=True, related_name="day_pass_products"
    )
    certifications = models.ManyToManyField(
        "training.Certification",
        blank=True,
        related_name="day_pass_products",
        help_text=_("A machine class: every machine that needs one of these certifications."),
    )
    locations = models.ManyToManyField(
        "locations.Location",
        related_name="day_pass_products",
        help_text=_("Where the pass opens machines; a named machine elsewhere stays shut."),
    )
    active = models.BooleanField(default=True, help_text=_("Still sold."))

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(price_minor__gt=0), name="day_pass_product_priced")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({money_format(self.price_minor, self.currency)})"

    def clean(self) -> None:
        try:
            self.currency = currency_code(self.currency)
        except CurrencyError as error:
            raise ValidationError({"currency": str(error)}) from None
        step = minor_step(self.currency)
        if (self.price_minor or 0) % step:
            raise ValidationError(
                {
                    "price_minor": _("Stripe takes %(currency)s in multiples of %(step)s.")
                    % {"currency": self.currency.upper(), "step": step}
                }
            )


class DayPassState(models.TextChoices):
    AWAITING = "awaiting", _("Awaiting payment")  # Checkout is open
    PAID = "paid", pgettext_lazy("day pass state", "Paid")  # opens its machines on its day
    EXPIRED = "expired", _("Not paid")  # Checkout expired: the day is free to buy again
    REFUNDED = "refunded", _("Refunded")  # its payment given back: it opens nothing any more
    CANCELLED = (
        "cancelled",
        pgettext_lazy("day pass state", "Cancelled"),
    )  # by staff, with a reason (refunded or not)


# A pass in one of these opens nothing, and its holder may buy that product for that day again.
ENDED_STATES = (DayPassState.EXPIRED, DayPassState.REFUNDED, DayPassState.CANCELLED)


class DayPass(models.Model):
    product = models.ForeignKey(DayPassProduct, on_delete=models.PROTECT, related_name="passes")
    holder = models.ForeignKey(
        "membership.Member", on_delete=models.PROTECT, related_name="day_passes"
    )
    day = models.DateField(help_text=_("The local day it opens machines, at each location's zone."))
    state = models.CharField(
        max_length=20, choices=DayPassState.choices, default=DayPassState.AWAITING
    )
    price_minor = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=20)  # a LedgerEntry.Method
    checkout_session_id = models.CharField(max_length=255, blank=True)
    # The desk's off-session card payment while Stripe processes it: only its payment_intent.*
    # events settle the pass (a Checkout's intent carries the same metadata, not this id).
    payment_intent_id = models.CharField(max_length=255, blank=True)
    sold_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when bought online."),
    )
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(
        max_length=500, blank=True, help_text=_("Why it was refunded or cancelled, and by whom.")
    )

    class Meta:
        ordering = ["-day", "-id"]
        verbose_name_plural = _("day passes")
        constraints = [
            # Bought twice (two tabs, a double click at the desk): the second is refused.
            models.UniqueConstraint(
                fields=["holder", "product", "day"],
                condition=~Q(state__in=[state.value for state in ENDED_STATES]),
                name="day_pass_once_per_holder_product_day",
            ),
        ]
        indexes = [models.Index(fields=["holder", "day"])]

    def __str__(self) -> str:
        return f"{self.product.name} for {self.holder} on {self.day:%Y-%m-%d}"
