"""Refunds: deciding them (a StripeRefund row, sent by the task runner) and recording those made
on Stripe (the dashboard, or Toolgate's own): each one lands in the ledger once.

A card refund Toolgate decides is written as a request in the deciding transaction; the ledger's
entry follows Stripe's refund (`membership.billing.refund_sending`). `charge.refunded` says a
charge was refunded; the refunds themselves are fetched from Stripe (the truth), and each one
not yet in the ledger is recorded against its payment: Toolgate's own (named in its metadata)
settle their request with the request's reason, others read "Refunded on Stripe".
"""

from __future__ import annotations

import logging

import stripe
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Sum
from django.utils.translation import gettext as _

from core import clock
from core.money import money_format
from membership.billing.client import BillingUnavailable, stripe_client
from membership.billing.ledger import (
    LedgerRefused,
    entry_cause_lock,
    ledger_refund,
    refundable_minor,
)
from membership.billing.models import LedgerEntry, StripeRefund
from membership.billing.payments import PaymentFor, card_payment_record
from membership.billing.refund_sending import refund_confirm, refund_made_for, refund_queue
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
        asked = _request_of(payment, refund)
        if asked is not None:
            # Toolgate's own, whose answer the task runner has not recorded yet.
            refund_confirm(asked, refund_id=refund.id, now=clock.now())
            recorded.append(money_format(refund.amount, payment.currency))
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


def _request_of(payment: LedgerEntry, refund: stripe.Refund) -> StripeRefund | None:
    """The request (locked) a refund on Stripe was made for, if Toolgate asked for it."""
    asked = refund_made_for(refund)
    if not asked.isdigit():
        return None
    return (
        StripeRefund.objects.select_for_update()
        .filter(pk=int(asked), payment=payment, amount_minor=refund.amount)
        .exclude(state=StripeRefund.State.SUCCEEDED)
        .first()
    )


def refund_pending_minor(payment: LedgerEntry) -> int:
    """What refunds requested of `payment` and not yet answered by Stripe will give back."""
    pending = StripeRefund.objects.filter(payment=payment, state=StripeRefund.State.REQUESTED)
    return pending.aggregate(total=Sum("amount_minor"))["total"] or 0


def refund_request(
    *,
    payment: LedgerEntry,
    amount_minor: int,
    reason: str,
    requested_by: User | None,
    idempotency_key: str,
) -> StripeRefund:
    """Decide to give `amount_minor` of a Stripe payment back to the card: the request is
    written in the caller's transaction and sent by the task runner once it commits. Refused
    (LedgerRefused) when it is more than the ledger has left of the payment less what refunds
    already on their way will give back. The caller holds the payment's cause locked; here the
    payment is locked too, so two requests at once cannot together give back too much."""
    if payment.method != LedgerEntry.Method.STRIPE or not payment.stripe_object_id:
        raise LedgerRefused(_("That payment did not go through Stripe; refund it in cash."))
    if type(amount_minor) is not int or amount_minor <= 0:
        raise LedgerRefused(_("A refund gives back a positive amount."))
    locked = LedgerEntry.objects.select_for_update().get(pk=payment.pk)
    left = refundable_minor(locked) - refund_pending_minor(locked)
    if amount_minor > left:
        raise LedgerRefused(
            _("A refund of %(amount)s is more than is left of that payment (%(left)s).")
            % {
                "amount": money_format(amount_minor, locked.currency),
                "left": money_format(max(left, 0), locked.currency),
            }
        )
    row = StripeRefund.objects.create(
        payment=locked,
        amount_minor=amount_minor,
        reason=reason.strip()[:500],
        requested_by=requested_by,
        idempotency_key=idempotency_key,
        next_attempt_at=clock.now(),
        created_at=clock.now(),
    )
    refund_queue(row)
    return row


def payments_refund_all(*, cause: Model, kind: str, actor: User | None, reason: str) -> int:
    """Give back everything paid for `cause` in payments of `kind`, the way it was paid; cash
    goes back as prepaid credits (nobody hands cash over on a website), at once; a card payment
    is requested of Stripe (`refund_request`), in the ledger once Stripe made it. Returns the
    minor units refunded or requested. The caller holds `cause` locked."""
    payments = LedgerEntry.objects.filter(
        cause_type=ContentType.objects.get_for_model(cause),
        cause_id=cause.pk,
        kind=kind,
        amount_minor__gt=0,
    ).order_by("pk")
    total = 0
    for payment in payments:
        if payment.method == LedgerEntry.Method.STRIPE:
            # Requested now, in the ledger once Stripe made it (refund_sending).
            LedgerEntry.objects.select_for_update().get(pk=payment.pk)
            left = refundable_minor(payment) - refund_pending_minor(payment)
            if left <= 0:
                continue
            asked = StripeRefund.objects.filter(payment=payment).count()
            refund_request(
                payment=payment,
                amount_minor=left,
                reason=reason,
                requested_by=actor,
                idempotency_key=f"toolgate-refund-{payment.pk}-{asked + 1}",
            )
        else:
            left = refundable_minor(payment)
            if left <= 0:
                continue
            ledger_refund(
                payment=payment,
                amount_minor=left,
                recorded_by=actor,
                memo=reason,
                method=LedgerEntry.Method.CREDITS,
            )
        total += left
    return total


def payment_duplicate_refund(what: PaymentFor, *, payment_intent_id: str, why: str) -> StripeRefund:
    """A card payment Stripe took for `what` when its cause no longer wants one (already paid
    another way: a pay-by link while the card was processing, a second Checkout; or ended
    meanwhile): it goes into the ledger as it happened, and its refund in full is requested of
    Stripe, both in this transaction (the webhook's). Returns the request.

    The request's idempotency key is the payment intent's, and the database keeps one request
    per key: nothing that reaches this twice for one payment (a redelivered event, reconcile)
    can ask Stripe for a second refund. docs/billing.md ("Paid twice").
    """
    payment = card_payment_record(what, payment_intent_id=payment_intent_id, actor=None)
    return refund_request(
        payment=payment,
        amount_minor=what.amount_minor,
        reason=why,
        requested_by=None,
        idempotency_key=f"toolgate-refund-duplicate-{payment_intent_id}",
    )
