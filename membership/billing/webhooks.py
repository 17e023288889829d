"""Stripe webhook events: verify, store each event once, move the membership.

Every event we act on is resolved to one membership through its customer (or, for a completed
Checkout, our own reference), and then the subscription is fetched from Stripe and applied, so
a late or repeated event can never move a membership backwards. A refused event (bad signature,
a body not of the shape we read, a customer not ours) changes nothing and is not stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from membership.billing.client import BillingUnavailable, stripe_client
from membership.billing.invoices import invoice_lines_settle
from membership.billing.ledger import ledger_record
from membership.billing.payments import (
    CheckoutPayment,
    payment_handler,
    payment_intent_handler,
)
from membership.billing.refunds import charge_refunds_record
from membership.billing.stripe_events import (
    CHECKOUT_EXPIRED,
    ChargeFacts,
    CheckoutFacts,
    EventBodyInvalid,
    InvoiceFacts,
    InvoicePayment,
    PaymentIntentFacts,
    StripeEventBody,
    SubscriptionFacts,
    event_body_read,
)
from membership.billing.sync import (
    ENDED_STATUSES,
    membership_apply_subscription,
    subscription_state,
)
from membership.models import LedgerEntry, Membership, Payment, StripeEvent

logger = logging.getLogger(__name__)


class WebhookRejected(Exception):
    """An event we refuse (400): bad signature, bad body, or not one of our customers."""

    def __init__(self, message: str, *, event_id: str = "") -> None:
        super().__init__(message)
        self.event_id = event_id

    def __str__(self) -> str:
        # The view logs and answers with this: the event id lets staff find it in Stripe.
        return f"event {self.event_id}: {self.args[0]}" if self.event_id else self.args[0]


def webhook_event_verify(*, payload: bytes, signature: str | None) -> StripeEventBody:
    """The event in `payload` if Stripe signed it with our secret recently and it has the shape
    we read; raises WebhookRejected otherwise."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        # Never accept an event we cannot verify, whatever mode the site is in.
        raise WebhookRejected("STRIPE_WEBHOOK_SECRET is not set; unverifiable event refused")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected("body is not UTF-8") from None
    if signature and not signature.isascii():
        # Stripe's header is ASCII, and the SDK's constant-time compare raises on anything else.
        raise WebhookRejected("signature check failed: the header is not ASCII")
    try:
        # The SDK's check (the first half of stripe.Webhook.construct_event): HMAC-SHA256 of
        # "<t>.<body>" with our secret, compared in constant time, and t within the tolerance.
        # We parse the body ourselves: construct_event crashes on JSON that is not an object.
        stripe.WebhookSignature.verify_header(
            text, signature, secret, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as error:
        raise WebhookRejected(f"signature check failed: {error.user_message}") from None
    try:
        event = event_body_read(text)
    except EventBodyInvalid as error:
        raise WebhookRejected(str(error), event_id=error.event_id) from None
    if event.api_version and event.api_version != settings.STRIPE_API_VERSION:
        logger.warning(
            "Stripe event %s has API version %s, expected %s: set the webhook endpoint's version",
            event.id,
            event.api_version,
            settings.STRIPE_API_VERSION,
        )
    return event


@dataclass(frozen=True)
class _Target:
    membership_id: int | None
    subscription_id: str = ""
    checkout: bool = False
    customer_id: str = ""
    note: str = ""


def webhook_event_handle(event: StripeEventBody) -> StripeEvent:
    """Apply a verified event once; a redelivered event returns the stored one unchanged.

    Raises WebhookRejected for events about customers that are not ours (nothing is stored, so a
    corrected setup can still receive the retry), BillingUnavailable when Stripe cannot be
    reached to fetch the subscription (Stripe retries the delivery later).
    """
    try:
        with transaction.atomic():
            known = StripeEvent.objects.filter(event_id=event.id).first()
            if known is not None:
                return known
            if _is_payment_checkout(event):
                return _payment_checkout_handle(event)
            if isinstance(event.facts, PaymentIntentFacts):
                return _payment_intent_handle(event, event.facts)
            if isinstance(event.facts, ChargeFacts):
                outcome, note = charge_refunds_record(event.facts)
                return _store(event, _membership_of(event.facts.customer_id), outcome, note)
            target = _target(event)
            membership = None
            outcome, note = StripeEvent.Outcome.IGNORED, target.note
            if target.membership_id is not None:
                membership = Membership.objects.select_for_update().get(pk=target.membership_id)
                # A concurrent delivery of the same event may have committed while we waited.
                known = StripeEvent.objects.filter(event_id=event.id).first()
                if known is not None:
                    return known
                outcome, note = _apply(event, membership, target)
            return _store(event, membership, outcome, note)
    except IntegrityError:
        # The same event id committed by a parallel delivery: everything here was rolled back.
        return StripeEvent.objects.get(event_id=event.id)
    except WebhookRejected as error:
        error.event_id = event.id
        raise


def _is_payment_checkout(event: StripeEventBody) -> bool:
    return isinstance(event.facts, CheckoutFacts) and event.facts.mode == "payment"


def _payment_checkout_handle(event: StripeEventBody) -> StripeEvent:
    """A one-off payment's Checkout session (completed or expired): the app that started it
    applies it (membership.billing.payments); the event is stored once either way."""
    facts = event.facts
    assert isinstance(facts, CheckoutFacts)
    handler = payment_handler(facts.kind) if facts.kind else None
    if handler is None:
        outcome, note = (
            StripeEvent.Outcome.IGNORED,
            f"Checkout session {facts.session_id} was not started by Toolgate "
            f"(kind {facts.kind or '(none)'})",
        )
    else:
        outcome, note = handler(
            CheckoutPayment(
                event_type=event.type,
                session_id=facts.session_id,
                kind=facts.kind,
                reference=facts.payment_reference,
                payment_intent_id=facts.payment_intent_id,
                amount_total=facts.amount_total,
                currency=facts.currency,
                paid=facts.paid,
            )
        )
    return _store(event, _membership_of(facts.customer_id), outcome, note)


def _payment_intent_handle(event: StripeEventBody, facts: PaymentIntentFacts) -> StripeEvent:
    """An off-session payment succeeded or failed: the app whose kind its metadata names
    applies it (a desk sale); intents Toolgate did not make off-session (a subscription's
    invoice, a Checkout payment: their own events record them) are stored as ignored."""
    handler = payment_intent_handler(facts.kind) if facts.kind else None
    if handler is None:
        outcome, note = (
            StripeEvent.Outcome.IGNORED,
            f"payment {facts.payment_intent_id} is not an off-session payment Toolgate follows",
        )
    else:
        outcome, note = handler(facts)
    return _store(event, _membership_of(facts.customer_id), outcome, note)


def _membership_of(customer_id: str) -> Membership | None:
    if not customer_id:
        return None
    return Membership.objects.filter(stripe_customer_id=customer_id).first()


def _store(
    event: StripeEventBody, membership: Membership | None, outcome: str, note: str
) -> StripeEvent:
    return StripeEvent.objects.create(
        event_id=event.id,
        type=event.type,
        stripe_created_at=event.created,
        livemode=event.livemode,
        membership=membership,
        outcome=outcome,
        note=note[:500],
        payload=event.payload,
    )


def _target(event: StripeEventBody) -> _Target:
    facts = event.facts
    if facts is None:
        return _Target(None, note=f"{event.type} is not an event Toolgate acts on")
    if isinstance(facts, CheckoutFacts):
        if event.type == CHECKOUT_EXPIRED:
            return _Target(None, note=f"Checkout session {facts.session_id} expired unpaid")
        return _checkout_target(facts)
    customer = facts.customer_id
    membership = (
        Membership.objects.filter(stripe_customer_id=customer).first() if customer else None
    )
    if membership is None:
        raise WebhookRejected(f"{event.type} for unknown customer {customer or '(none)'}")
    if isinstance(facts, SubscriptionFacts):
        claimed = facts.claimed_membership
        if claimed and claimed != str(membership.pk):
            raise WebhookRejected(
                f"subscription {facts.subscription_id} claims membership {claimed} but customer "
                f"{customer} belongs to membership {membership.pk}"
            )
        return _Target(membership.pk, subscription_id=facts.subscription_id, customer_id=customer)
    if not facts.subscription_id:
        return _Target(None, note=f"invoice {facts.invoice_id} is not for a subscription")
    return _Target(membership.pk, subscription_id=facts.subscription_id, customer_id=customer)


def _checkout_target(session: CheckoutFacts) -> _Target:
    if session.mode != "subscription":
        return _Target(None, note="Checkout session is not a subscription")
    membership = (
        Membership.objects.filter(pk=session.membership_id).first()
        if session.membership_id is not None
        else None
    )
    customer = session.customer_id
    if membership is None or not customer:
        raise WebhookRejected(
            f"Checkout session {session.session_id} for unknown membership "
            f"{session.reference!r} or without a customer"
        )
    if membership.stripe_customer_id and membership.stripe_customer_id != customer:
        raise WebhookRejected(
            f"Checkout session {session.session_id} pairs membership {membership.pk} with "
            f"customer {customer}, but that membership's customer is "
            f"{membership.stripe_customer_id}"
        )
    if Membership.objects.filter(stripe_customer_id=customer).exclude(pk=membership.pk).exists():
        raise WebhookRejected(
            f"Checkout session {session.session_id}: customer {customer} belongs to another "
            f"membership"
        )
    if not session.subscription_id:
        raise WebhookRejected(f"Checkout session {session.session_id} has no subscription")
    return _Target(
        membership.pk, subscription_id=session.subscription_id, checkout=True, customer_id=customer
    )


def _apply(event: StripeEventBody, membership: Membership, target: _Target) -> tuple[str, str]:
    current = membership.stripe_subscription_id
    other = bool(current) and target.subscription_id != current
    follows_current = membership.stripe_subscription_status not in ENDED_STATUSES
    if other and not target.checkout and follows_current:
        return (
            StripeEvent.Outcome.IGNORED,
            f"subscription {target.subscription_id} is not the member's current one ({current})",
        )
    state = subscription_state(subscription_fetch(target.subscription_id))
    if state.customer_id != target.customer_id:
        raise WebhookRejected(
            f"subscription {state.subscription_id} belongs to customer {state.customer_id}, "
            f"not {target.customer_id}"
        )
    if other and state.stripe_status in ENDED_STATUSES:
        return (
            StripeEvent.Outcome.IGNORED,
            f"subscription {state.subscription_id} has ended and is not the current one",
        )
    if other and follows_current:
        logger.warning(
            "Membership %s already has subscription %s; second subscription %s not adopted",
            membership.pk,
            current,
            state.subscription_id,
        )
        return (
            StripeEvent.Outcome.IGNORED,
            f"member already has subscription {current}; second subscription "
            f"{state.subscription_id} not adopted: cancel one in the Stripe dashboard",
        )
    if not membership.stripe_customer_id:
        Membership.objects.filter(pk=membership.pk).update(stripe_customer_id=target.customer_id)
        membership.stripe_customer_id = target.customer_id
    changed = membership_apply_subscription(
        membership=membership,
        state=state,
        reason=f"Stripe {event.type} ({event.id}): subscription {state.stripe_status}",
    )
    if isinstance(event.facts, InvoiceFacts) and event.facts.payment is not None:
        changed = _record_invoice_payment(membership, event.facts.payment) or changed
    note = f"subscription {state.subscription_id} is {state.stripe_status}"
    return (StripeEvent.Outcome.APPLIED if changed else StripeEvent.Outcome.UNCHANGED), note


def subscription_fetch(subscription_id: str) -> dict:
    """The subscription as Stripe holds it now, in the pinned API version's shape."""
    try:
        return stripe_client().v1.subscriptions.retrieve(subscription_id).to_dict()
    except stripe.StripeError as error:
        logger.warning("Could not fetch subscription %s: %s", subscription_id, error)
        raise BillingUnavailable(
            "Stripe could not be reached just now; nothing was changed."
        ) from error


def _record_invoice_payment(membership: Membership, invoice: InvoicePayment) -> bool:
    """One Payment row per paid invoice, so the member and staff see Stripe payments too; the
    on-account charges its invoice items carried are then settled (each line once)."""
    if invoice.amount_paid <= 0 or not invoice.invoice_id:
        return False
    payment, created = Payment.objects.get_or_create(
        stripe_invoice_id=invoice.invoice_id,
        defaults={
            "member_id": membership.member_id,
            "amount_cents": invoice.amount_paid,
            "currency": invoice.currency or membership.plan.currency,
            "method": Payment.Method.STRIPE,
            "period_start": invoice.period_start or invoice.paid_at,
            "period_end": invoice.period_end or invoice.paid_at,
            "note": f"Stripe invoice {invoice.number or invoice.invoice_id}",
        },
    )
    if created:
        ledger_record(
            member=membership.member,
            kind=LedgerEntry.Kind.MEMBERSHIP,
            method=LedgerEntry.Method.STRIPE,
            amount_minor=payment.amount_cents,
            currency=payment.currency,
            cause=payment,
            stripe_object_id=invoice.invoice_id,
            memo=payment.note,
            occurred_at=invoice.paid_at,
        )
    settled = invoice_lines_settle(invoice=invoice, member=membership.member, payment=payment)
    return created or settled > 0
