"""Refunds made on Stripe (the dashboard, or Toolgate's own): each one lands in the ledger once.

`charge.refunded` says a charge was refunded; the refunds themselves are fetched from Stripe
(the truth), and each one not yet in the ledger is recorded against its payment. Toolgate's own
refunds are recorded when they are made, under the payment's lock, so the event finds them.
"""

from __future__ import annotations

import logging

import stripe
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model

from core.money import money_format
from membership.billing.client import BillingUnavailable, stripe_client
from membership.billing.ledger import (
    LedgerRefused,
    entry_cause_lock,
    ledger_refund,
    refundable_minor,
)
from membership.billing.models import LedgerEntry
from membership.billing.payments import PaymentFor, card_payment_record, payment_refund
from membership.billing.stripe_events import ChargeFacts
from membership.models import User

logger = logging.getLogger(__name__)


def charge_refunds_record(charge: ChargeFacts) -> tuple[str, str]:
    """Record the charge's refunds missing from the ledger; (outcome, note) for the event log."""
    if not charge.payment_intent_id:
        return "ignored", f"charge {charge.charge_id} has no payment intent"
    payment = LedgerEntry.objects.filter(stripe_object_id=charge.payment_intent_id).first()
    if payment is None:
        return "ignored", f"payment {charge.payment_intent_id} is not in the ledger"
    # What it paid for first, then the payment: the order staff cancelling it take them in.
    entry_cause_lock(payment)
    payment = LedgerEntry.objects.select_for_update().get(pk=payment.pk)
    try:
        refunds = stripe_client().v1.refunds.list(
            params={"payment_intent": charge.payment_intent_id, "limit": 100}
        )
    except stripe.StripeError as error:
        raise BillingUnavailable("Stripe could not be reached just now.") from error
    recorded = []
    for refund in refunds.data:
        if refund.status in {"failed", "canceled"}:
            continue
        if LedgerEntry.objects.filter(stripe_object_id=refund.id).exists():
            continue
        if refund.amount > refundable_minor(payment):
            logger.error(
                "Refund %s of %s is more than the ledger has left of entry %s",
                refund.id,
                refund.amount,
                payment.pk,
            )
            continue
        try:
            ledger_refund(
                payment=payment,
                amount_minor=refund.amount,
                recorded_by=None,
                memo="Refunded on Stripe",
                stripe_object_id=refund.id,
            )
        except LedgerRefused as error:
            logger.error("Refund %s not recorded: %s", refund.id, error)
            continue
        recorded.append(money_format(refund.amount, payment.currency))
    if not recorded:
        return "unchanged", f"every refund of {charge.payment_intent_id} is in the ledger"
    return "applied", f"refunds recorded: {', '.join(recorded)}"


def payments_refund_all(*, cause: Model, kind: str, actor: User | None, reason: str) -> int:
    """Give back everything paid for `cause` in payments of `kind`, the way it was paid; cash
    goes back as prepaid credits (nobody hands cash over on a website). Returns the minor units
    refunded. The caller holds `cause` locked."""
    payments = LedgerEntry.objects.filter(
        cause_type=ContentType.objects.get_for_model(cause),
        cause_id=cause.pk,
        kind=kind,
        amount_minor__gt=0,
    ).order_by("pk")
    total = 0
    for payment in payments:
        left = refundable_minor(payment)
        if left <= 0:
            continue
        refund_id = ""
        method = payment.method
        if payment.method == LedgerEntry.Method.STRIPE:
            # Held until this refund is in the ledger: Stripe's charge.refunded for it, were it
            # to arrive first, waits here and then finds it (`charge_refunds_record`).
            LedgerEntry.objects.select_for_update().get(pk=payment.pk)
            refund_id = payment_refund(
                payment=payment,
                amount_minor=left,
                reason=reason,
                idempotency_key=f"toolgate-refund-{payment.pk}-{left}",
            )
        else:
            method = LedgerEntry.Method.CREDITS
        ledger_refund(
            payment=payment,
            amount_minor=left,
            recorded_by=actor,
            memo=reason,
            stripe_object_id=refund_id,
            method=method,
        )
        total += left
    return total


def payment_duplicate_refund(what: PaymentFor, *, payment_intent_id: str, why: str) -> LedgerEntry:
    """A card payment Stripe took for `what` when its cause no longer wants one (already paid
    another way: a pay-by link while the card was processing, a second Checkout; or ended
    meanwhile): it goes into the ledger as it happened, then back to the card in full through
    Stripe Refunds, both entries in this transaction. Returns the refund's entry.

    The refund's idempotency key is the payment intent's, so a webhook retried after a lost
    answer (its transaction rolled back, the entry numbers with it) asks for the same refund.
    docs/billing.md ("Paid twice").
    """
    payment = card_payment_record(what, payment_intent_id=payment_intent_id, actor=None)
    refund_id = payment_refund(
        payment=payment,
        amount_minor=what.amount_minor,
        reason=why,
        idempotency_key=f"toolgate-refund-duplicate-{payment_intent_id}",
    )
    return ledger_refund(
        payment=payment,
        amount_minor=what.amount_minor,
        recorded_by=None,
        memo=why,
        stripe_object_id=refund_id,
    )
