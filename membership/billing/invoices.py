"""Paid Stripe invoices that carry Toolgate's own invoice items (machine time, metering).

The app that made an invoice item registers, once at start-up, a handler for its kind
(`metadata.toolgate_kind`, copied by Stripe from the item onto its invoice line). When
`invoice.paid` arrives, the webhook gathers the invoice's item lines (fetching those the event
left out) and hands each app its own, inside the event's transaction: what they settle commits
with the event, once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import stripe

from membership.billing.client import BillingUnavailable, stripe_client
from membership.billing.stripe_events import (
    EventBodyInvalid,
    InvoiceLine,
    InvoicePayment,
    invoice_lines_read,
)
from membership.models import Member, Payment

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PaidInvoice:
    """One paid invoice's lines of one kind, and the payment recorded for the invoice."""

    invoice_id: str
    number: str
    currency: str
    paid_at: datetime
    member: Member
    payment: Payment  # the invoice's Payment row: what settles an on-account charge
    lines: tuple[InvoiceLine, ...]


# A handler settles what its lines paid for and returns how many lines it settled (0: all of
# them were settled before, a redelivery).
InvoiceLinesHandler = Callable[[PaidInvoice], int]
_handlers: dict[str, InvoiceLinesHandler] = {}


def invoice_lines_handler_register(kind: str, handler: InvoiceLinesHandler) -> None:
    _handlers[kind] = handler


def invoice_item_lines(invoice: InvoicePayment) -> tuple[InvoiceLine, ...]:
    """Every invoice-item line of the paid invoice: the event's, or all of them from Stripe
    when the event's list was cut short (`lines.has_more`)."""
    if invoice.lines_complete:
        return invoice.item_lines
    try:
        pages = stripe_client().v1.invoices.line_items.list(
            invoice.invoice_id, params={"limit": 100}
        )
        items = [line.to_dict() for line in pages.auto_paging_iter()]
    except stripe.StripeError as error:
        logger.warning("Could not fetch the lines of invoice %s: %s", invoice.invoice_id, error)
        raise BillingUnavailable("Stripe could not be reached just now.") from error
    try:
        return tuple(invoice_lines_read(items, f"invoice {invoice.invoice_id} lines"))
    except EventBodyInvalid as error:
        raise BillingUnavailable(
            f"Stripe answered with lines Toolgate cannot read: {error}"
        ) from None


def invoice_lines_settle(*, invoice: InvoicePayment, member: Member, payment: Payment) -> int:
    """Hand each app the lines of its kind; returns how many lines were settled now."""
    by_kind: dict[str, list[InvoiceLine]] = defaultdict(list)
    for line in invoice_item_lines(invoice):
        by_kind[line.kind].append(line)
    settled = 0
    for kind, lines in by_kind.items():
        handler = _handlers.get(kind)
        if handler is None:
            # An item someone added in the dashboard: the invoice's payment covers it.
            continue
        settled += handler(
            PaidInvoice(
                invoice_id=invoice.invoice_id,
                number=invoice.number,
                currency=invoice.currency or payment.currency,
                paid_at=invoice.paid_at,
                member=member,
                payment=payment,
                lines=tuple(lines),
            )
        )
    return settled
