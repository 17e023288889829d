"""A member's receipt for one payment: what it paid for, in the currency's own minor units, with
the space's name and the address of the member's location, and what was refunded of it since."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Sum

from locations.models import Location
from membership.billing.models import LedgerEntry
from membership.models import Member

Kind = LedgerEntry.Kind


@dataclass(frozen=True)
class ReceiptLine:
    label: str
    detail: str
    amount_minor: int


@dataclass(frozen=True)
class Receipt:
    entry: LedgerEntry
    number: str
    space_name: str
    location: Location | None
    zone: tzinfo
    lines: list[ReceiptLine]  # what the payment paid for; they add up to the payment
    refunds: list[LedgerEntry]
    net_minor: int  # the payment less its refunds

    @property
    def currency(self) -> str:
        return self.entry.currency


def _location(member: Member) -> Location | None:
    if member.home_location_id is not None:
        return member.home_location
    return Location.objects.order_by("pk").first()


def _lines(entry: LedgerEntry) -> list[ReceiptLine]:
    """A paid Stripe invoice is the membership and the machine time it carried (settled on the
    account by the same payment); anything else is one line."""
    settled = list(
        LedgerEntry.objects.filter(
            kind=Kind.ACCOUNT_SETTLED, cause_type=entry.cause_type, cause_id=entry.cause_id
        ).order_by("pk")
    )
    carried = -sum(s.amount_minor for s in settled)
    first = ReceiptLine(entry.get_kind_display(), entry.memo, entry.amount_minor - carried)
    return [first] + [
        ReceiptLine("Machine time", s.memo.split(": ", 1)[-1], -s.amount_minor) for s in settled
    ]


def payment_receipt(member: Member, entry_id: int) -> Receipt | None:
    """The receipt of one of the member's payments (None when the entry is not a payment of
    theirs: a charge on account, a spend of credits, a refund, someone else's)."""
    entry = (
        LedgerEntry.objects.filter(member=member, pk=entry_id)
        .select_related("member__user", "cause_type")
        .first()
    )
    if entry is None or not entry.is_payment:
        return None
    location = _location(member)
    refunds = list(entry.refunds.order_by("occurred_at", "pk"))
    refunded = entry.refunds.aggregate(total=Sum("amount_minor"))["total"] or 0
    return Receipt(
        entry=entry,
        number=f"R-{entry.pk:06d}",
        space_name=settings.SPACE_NAME,
        location=location,
        zone=location.zone if location is not None else ZoneInfo(settings.TIME_ZONE),
        lines=_lines(entry),
        refunds=refunds,
        net_minor=entry.amount_minor + refunded,
    )
