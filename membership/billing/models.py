"""The ledger: every money movement is one entry that is never changed or deleted.

Imported by `membership.models` (so it belongs to the membership app). Amounts are integers in the
currency's minor unit as Stripe counts it (core.money); balances are sums of entries (selectors),
never counters. A mistake is corrected by a reversing entry; the database itself refuses to
update or delete an entry (triggers, migration 0005_ledger).
"""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length, Lower
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LedgerImmutable(Exception):
    """Something tried to change or delete a ledger entry: record a reversing entry instead."""


_M = TypeVar("_M", bound=models.Model)


class ImmutableQuerySet(models.QuerySet[_M]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise LedgerImmutable("Ledger entries are never changed; record a reversing entry.")

    def delete(self) -> NoReturn:
        raise LedgerImmutable("Ledger entries are never deleted; record a reversing entry.")


class LedgerQuerySet(ImmutableQuerySet["LedgerEntry"]):
    pass


class WrittenOnce(models.Model):
    """A row saved once and never changed or deleted (a ledger entry, a discount)."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise LedgerImmutable("Ledger entries are never changed; record a reversing entry.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise LedgerImmutable("Ledger entries are never deleted; record a reversing entry.")


class LedgerEntry(WrittenOnce):
    """One movement of money between a member and the space.

    `amount_minor` is signed from the space's side: positive when the member pays or is charged,
    negative when the space pays back (a refund) or owes the member. `method` says how it moved:
    cash at the desk, through Stripe, out of the member's prepaid credits, or onto their account
    (the next invoice or statement).
    """

    class Kind(models.TextChoices):
        MEMBERSHIP = "membership", _("Membership")
        CLASS_FEE = "class_fee", _("Class fee")
        NO_SHOW_FEE = "no_show_fee", _("No-show fee")
        REFUND = "refund", _("Refund")
        USAGE = "usage", _("Machine time")
        CREDIT_PURCHASE = "credit_purchase", _("Credit purchase")
        CREDIT_EXPIRY = "credit_expiry", _("Credits expired")
        MATERIAL = "material", _("Material sale")
        DAY_PASS = "day_pass", _("Day pass")
        # Charges on account paid by a Stripe invoice: negative, method "on account".
        ACCOUNT_SETTLED = "account_settled", _("On account settled")
        ADJUSTMENT = "adjustment", _("Adjustment")

    class Method(models.TextChoices):
        CASH = "cash", _("Cash at the desk")
        STRIPE = "stripe", _("Card (Stripe)")
        CREDITS = "credits", _("Prepaid credits")
        ACCOUNT = "account", _("On account")

    member = models.ForeignKey(
        "membership.Member", on_delete=models.PROTECT, related_name="ledger_entries"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    method = models.CharField(max_length=20, choices=Method.choices)
    amount_minor = models.BigIntegerField(
        help_text="In the currency's minor unit (Stripe's rules)."
    )
    currency = models.CharField(max_length=3)
    # What the money is for: a Payment, an Enrollment, a material sale... (any app's model).
    cause_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    cause_id = models.PositiveBigIntegerField()
    cause = GenericForeignKey("cause_type", "cause_id")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty when Stripe or the system recorded it.",
    )
    stripe_object_id = models.CharField(
        max_length=255, blank=True, help_text="The invoice, payment intent or refund on Stripe."
    )
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        help_text="The mistaken entry this one cancels out.",
    )
    refund_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refunds",
        help_text="The payment this refund gives money back from.",
    )
    memo = models.CharField(max_length=500, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["member", "currency"]),
            models.Index(fields=["cause_type", "cause_id"]),
            models.Index(fields=["occurred_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_minor=0), name="ledger_amount_not_zero"),
            models.CheckConstraint(
                condition=Exact(Length("currency"), 3) & Q(currency=Lower("currency")),
                name="ledger_currency_lowercase_iso",
            ),
            # One entry per Stripe object: a redelivered webhook cannot record a payment twice.
            models.UniqueConstraint(
                fields=["stripe_object_id"],
                condition=~Q(stripe_object_id=""),
                name="ledger_one_entry_per_stripe_object",
            ),
            # Machine time is charged once per cause (a session's part in one month, metering):
            # a posting job run twice cannot charge it twice. Its reversal shares the cause.
            models.UniqueConstraint(
                fields=["cause_type", "cause_id"],
                condition=Q(kind="usage", reverses__isnull=True),
                name="ledger_one_usage_charge_per_cause",
            ),
            models.CheckConstraint(
                condition=Q(refund_of__isnull=True) | Q(kind="refund", amount_minor__lt=0),
                name="ledger_refund_is_negative",
            ),
        ]

    def __str__(self) -> str:
        from core.money import money_format

        return f"{self.get_kind_display()} {money_format(self.amount_minor, self.currency)}"

    @property
    def is_payment(self) -> bool:
        """Money the member paid (cash or card): it has a receipt."""
        return (
            self.amount_minor > 0
            and self.method in {self.Method.CASH, self.Method.STRIPE}
            and self.kind != self.Kind.REFUND
        )


class Discount(WrittenOnce):
    """A discount staff gave on a payment taken at the desk (manual mode's coupons): what the
    list price was, what came off, why, and who gave it. Its entry holds the amount paid.

    Written once with its entry and never changed, like the entry itself.
    """

    class Kind(models.TextChoices):
        PERCENT = "percent", _("Percent off")
        FIXED = "fixed", _("Amount off")

    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="discount")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.PositiveIntegerField(help_text="Percent, or minor units off.")
    list_minor = models.PositiveBigIntegerField(help_text="The price before the discount.")
    discount_minor = models.PositiveBigIntegerField(help_text="What came off, in minor units.")
    reason = models.CharField(max_length=300)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ImmutableQuerySet["Discount"].as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_minor__gt=0) & Q(discount_minor__lt=models.F("list_minor")),
                name="discount_leaves_something_to_pay",
            ),
            models.CheckConstraint(
                condition=~Q(kind="percent") | Q(value__gte=1, value__lte=99),
                name="discount_percent_between_1_and_99",
            ),
        ]

    def __str__(self) -> str:
        from core.money import money_format

        return f"{money_format(self.discount_minor, self.entry.currency)} off: {self.reason}"


class StripeRefund(models.Model):
    """A refund Toolgate decided to make through Stripe: the outbox row of the refund.

    Written in the transaction that decides the refund (a cancellation, a payment that arrived
    twice), with the amount, the reason and the idempotency key; the task runner then asks
    Stripe (`membership.billing.refund_sending`). The ledger's refund entry is written once
    Stripe has the refund, from its answer or from `charge.refunded`, whichever comes first:
    never before, so the ledger holds only money that moved. Unlike entries, the row changes:
    requested, then succeeded or failed (staff may try a failed one again).
    """

    class State(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    payment = models.ForeignKey(
        LedgerEntry, on_delete=models.PROTECT, related_name="stripe_refunds"
    )
    amount_minor = models.PositiveBigIntegerField(help_text="In the payment's currency.")
    reason = models.CharField(max_length=500, help_text="The refund entry's memo.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty when Toolgate decided it (a payment that arrived twice).",
    )
    # The key of every request for this refund: a retry after a lost answer is the same refund.
    # It changes only when staff try a refund Stripe refused again (Stripe would replay the
    # refusal), after Toolgate has looked for the refund on Stripe first.
    idempotency_key = models.CharField(max_length=255, unique=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.REQUESTED)
    attempts = models.PositiveIntegerField(default=0, help_text="Requests to Stripe so far.")
    staff_retries = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When the task runner asks Stripe (again)."
    )
    last_error = models.CharField(max_length=500, blank=True)
    stripe_refund_id = models.CharField(max_length=255, blank=True)
    entry = models.OneToOneField(
        LedgerEntry,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refund_request",
        help_text="The ledger's refund entry, once Stripe made the refund.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="stripe_refund_positive"),
            # Succeeded means in the ledger; nothing else is.
            models.CheckConstraint(
                condition=Q(state="succeeded", entry__isnull=False)
                | (~Q(state="succeeded") & Q(entry__isnull=True)),
                name="stripe_refund_succeeded_is_in_ledger",
            ),
            models.UniqueConstraint(
                fields=["stripe_refund_id"],
                condition=~Q(stripe_refund_id=""),
                name="stripe_refund_one_row_per_refund",
            ),
        ]

    def __str__(self) -> str:
        from core.money import money_format

        return (
            f"Refund of {money_format(self.amount_minor, self.payment.currency)} "
            f"({self.get_state_display()})"
        )

    @property
    def member(self) -> Any:
        """Whose payment it gives back (staff act on it where the member's home is)."""
        return self.payment.member
