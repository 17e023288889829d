"""Stripe webhook events: verify, store each event once, move the membership.

Every event we act on is resolved to one membership through its customer (or, for a completed
Checkout, our own reference), and then the subscription is fetched from Stripe and applied, so
a late or repeated event can never move a membership backwards.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from membership.billing.client import BillingUnavailable, stripe_client
from membership.billing.sync import (
    ENDED_STATUSES,
    membership_apply_subscription,
    stripe_id,
    stripe_time,
    subscription_state,
)
from membership.models import Membership, Payment, StripeEvent

logger = logging.getLogger(__name__)

CHECKOUT_COMPLETED = "checkout.session.completed"
SUBSCRIPTION_EVENTS = {
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
}
INVOICE_PAID = "invoice.paid"
INVOICE_EVENTS = {INVOICE_PAID, "invoice.payment_failed"}
HANDLED_EVENTS = {CHECKOUT_COMPLETED, *SUBSCRIPTION_EVENTS, *INVOICE_EVENTS}


class WebhookRejected(Exception):
    """An event we refuse (400): bad signature, bad body, or not one of our customers."""


def webhook_event_verify(*, payload: bytes, signature: str | None) -> dict:
    """The event in `payload` if Stripe signed it with our secret recently; raises otherwise."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        # Never accept an event we cannot verify, whatever mode the site is in.
        raise WebhookRejected("STRIPE_WEBHOOK_SECRET is not set; unverifiable event refused")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected("body is not UTF-8") from None
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
        event = json.loads(text)
    except ValueError:
        raise WebhookRejected("body is not valid JSON") from None
    if not (
        isinstance(event, dict)
        and str(event.get("id", "")).startswith("evt_")
        and isinstance(event.get("type"), str)
        and isinstance(event.get("created"), int)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    ):
        raise WebhookRejected("body is not a Stripe event")
    if event.get("api_version") and event["api_version"] != settings.STRIPE_API_VERSION:
        logger.warning(
            "Stripe event %s has API version %s, expected %s: set the webhook endpoint's version",
            event["id"],
            event["api_version"],
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


def webhook_event_handle(event: dict) -> StripeEvent:
    """Apply a verified event once; a redelivered event returns the stored one unchanged.

    Raises WebhookRejected for events about customers that are not ours (nothing is stored, so a
    corrected setup can still receive the retry), BillingUnavailable when Stripe cannot be
    reached to fetch the subscription (Stripe retries the delivery later).
    """
    try:
        with transaction.atomic():
            known = StripeEvent.objects.filter(event_id=event["id"]).first()
            if known is not None:
                return known
            target = _target(event)
            membership = None
            outcome, note = StripeEvent.Outcome.IGNORED, target.note
            if target.membership_id is not None:
                membership = Membership.objects.select_for_update().get(pk=target.membership_id)
                # A concurrent delivery of the same event may have committed while we waited.
                known = StripeEvent.objects.filter(event_id=event["id"]).first()
                if known is not None:
                    return known
                outcome, note = _apply(event, membership, target)
            return StripeEvent.objects.create(
                event_id=event["id"],
                type=event["type"],
                stripe_created_at=stripe_time(event["created"]),
                livemode=bool(event.get("livemode")),
                membership=membership,
                outcome=outcome,
                note=note[:500],
                payload=event,
            )
    except IntegrityError:
        # The same event id committed by a parallel delivery: everything here was rolled back.
        return StripeEvent.objects.get(event_id=event["id"])


def _target(event: dict) -> _Target:
    kind = event["type"]
    obj = event["data"]["object"]
    if kind not in HANDLED_EVENTS:
        return _Target(None, note=f"{kind} is not an event Toolgate acts on")
    if kind == CHECKOUT_COMPLETED:
        return _checkout_target(obj)
    customer = stripe_id(obj.get("customer"))
    membership = (
        Membership.objects.filter(stripe_customer_id=customer).first() if customer else None
    )
    if membership is None:
        raise WebhookRejected(f"{kind} for unknown customer {customer or '(none)'}")
    claimed = str((obj.get("metadata") or {}).get("membership_id", ""))
    if kind in SUBSCRIPTION_EVENTS:
        if claimed and claimed != str(membership.pk):
            raise WebhookRejected(
                f"subscription {obj.get('id')} claims membership {claimed} but customer "
                f"{customer} belongs to membership {membership.pk}"
            )
        return _Target(membership.pk, subscription_id=str(obj.get("id", "")), customer_id=customer)
    subscription_id = _invoice_subscription(obj)
    if not subscription_id:
        return _Target(None, note=f"invoice {obj.get('id')} is not for a subscription")
    return _Target(membership.pk, subscription_id=subscription_id, customer_id=customer)


def _checkout_target(session: dict) -> _Target:
    if session.get("mode") != "subscription":
        return _Target(None, note="Checkout session is not a subscription")
    reference = str(
        session.get("client_reference_id") or (session.get("metadata") or {}).get("membership_id")
    )
    membership = (
        Membership.objects.filter(pk=int(reference)).first() if reference.isdigit() else None
    )
    customer = stripe_id(session.get("customer"))
    if membership is None or not customer:
        raise WebhookRejected(
            f"Checkout session {session.get('id')} for unknown membership {reference!r} "
            f"or without a customer"
        )
    if membership.stripe_customer_id and membership.stripe_customer_id != customer:
        raise WebhookRejected(
            f"Checkout session {session.get('id')} pairs membership {membership.pk} with customer "
            f"{customer}, but that membership's customer is {membership.stripe_customer_id}"
        )
    if Membership.objects.filter(stripe_customer_id=customer).exclude(pk=membership.pk).exists():
        raise WebhookRejected(
            f"Checkout session {session.get('id')}: customer {customer} belongs to another membership"
        )
    subscription_id = stripe_id(session.get("subscription"))
    if not subscription_id:
        raise WebhookRejected(f"Checkout session {session.get('id')} has no subscription")
    return _Target(
        membership.pk, subscription_id=subscription_id, checkout=True, customer_id=customer
    )


def _invoice_subscription(invoice: dict) -> str:
    """The invoice's subscription: under `parent` in the pinned version, top level before 2025."""
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return stripe_id(details.get("subscription")) or stripe_id(invoice.get("subscription"))


def _apply(event: dict, membership: Membership, target: _Target) -> tuple[str, str]:
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
        reason=f"Stripe {event['type']} ({event['id']}): subscription {state.stripe_status}",
    )
    if event["type"] == INVOICE_PAID:
        changed = _record_invoice_payment(membership, event["data"]["object"]) or changed
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


def _record_invoice_payment(membership: Membership, invoice: dict) -> bool:
    """One Payment row per paid invoice, so the member and staff see Stripe payments too."""
    amount = int(invoice.get("amount_paid") or 0)
    if amount <= 0 or not invoice.get("id"):
        return False
    lines = (invoice.get("lines") or {}).get("data") or [{}]
    period = lines[0].get("period") or {}
    start = stripe_time(period.get("start")) or stripe_time(invoice.get("period_start"))
    end = stripe_time(period.get("end")) or stripe_time(invoice.get("period_end"))
    _, created = Payment.objects.get_or_create(
        stripe_invoice_id=invoice["id"],
        defaults={
            "member_id": membership.member_id,
            "amount_cents": amount,
            "currency": invoice.get("currency") or membership.plan.currency,
            "method": Payment.Method.STRIPE,
            "period_start": start or _paid_at(invoice),
            "period_end": end or _paid_at(invoice),
            "note": f"Stripe invoice {invoice.get('number') or invoice['id']}",
        },
    )
    return created


def _paid_at(invoice: dict) -> datetime:
    transitions = invoice.get("status_transitions") or {}
    return stripe_time(transitions.get("paid_at")) or stripe_time(invoice.get("created"))
