"""Usage charges: each metered session's time in one local month, priced once.

A charge is the cause of its ledger entry (kind "machine time", on account). One charge per
(session, month), enforced by the database, is what makes posting a month twice charge nothing
twice.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from metering.rules import GRANT_LABELS, Grant


class UsageCharge(models.Model):
    class Billing(models.TextChoices):
        NONE = "", "Nothing to pay"
        STATEMENT = "statement", "On the statement (paid at the desk)"
        INVOICE = "invoice", "On the next Stripe invoice"

    session = models.ForeignKey(
        "access.UsageSession", on_delete=models.PROTECT, related_name="charges"
    )
    month = models.DateField(help_text="The first day of the local month this part falls in.")
    member = models.ForeignKey(
        "membership.Member", on_delete=models.PROTECT, related_name="usage_charges"
    )
    machine = models.ForeignKey(
        "equipment.Machine", on_delete=models.PROTECT, related_name="usage_charges"
    )
    grant = models.CharField(max_length=20, choices=[(g.value, GRANT_LABELS[g]) for g in Grant])
    part_start = models.DateTimeField()
    part_end = models.DateTimeField()
    # The part that ends the session: once it is posted, the session is done.
    last_part = models.BooleanField()
    seconds = models.PositiveIntegerField()
    included_seconds = models.PositiveIntegerField()
    charged_minutes = models.PositiveIntegerField()
    amount_minor = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    billing = models.CharField(max_length=20, choices=Billing.choices, blank=True)
    # The charges of one member's month on one machine posted together go on the invoice as one
    # item (a line per machine and month, not per session; Stripe takes 250 lines an invoice).
    invoice_batch = models.UUIDField(null=True, blank=True)
    stripe_invoice_item_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-month", "part_start", "id"]
        indexes = [models.Index(fields=["member", "machine", "month"])]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "month"], name="usage_charge_once_per_session_month"
            ),
            models.CheckConstraint(
                condition=Q(included_seconds__lte=models.F("seconds")),
                name="usage_charge_included_within_time",
            ),
            models.CheckConstraint(
                condition=Q(amount_minor=0, billing="") | Q(amount_minor__gt=0) & ~Q(billing=""),
                name="usage_charge_billed_when_charged",
            ),
            models.CheckConstraint(
                condition=Q(billing="invoice", invoice_batch__isnull=False)
                | ~Q(billing="invoice") & Q(invoice_batch__isnull=True),
                name="usage_charge_invoiced_in_a_batch",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.machine} {self.month:%Y-%m}: {self.charged_minutes} min"

    @property
    def description(self) -> str:
        """The ledger's memo: the session's part, on its local day."""
        local = self.part_start.astimezone(self.machine.location.zone)
        return (
            f"{self.machine.name}: {self.charged_minutes} min on {local:%Y-%m-%d}"
            f" ({self.month:%B %Y})"
        )
