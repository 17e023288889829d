"""One-off payments through Stripe (class fees, and later credit packs and day passes).

Apps above membership own their prices and what a payment buys; billing owns Stripe. An app
starts a Checkout session in payment mode with `payment_checkout_start` and registers, once at
start-up, a handler for its kind of payment (`payment_handler_register`). The webhook reads the
kind Toolgate wrote into the session's metadata and calls that handler inside the event's
transaction, so the event is stored once and its effect commits with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import stripe
from django.db.models import Model
from stripe.params.checkout import SessionCreateParams, SessionCreateParamsPaymentIntentData

from core import clock
from membership.billing.client import BillingUnavailable, stripe_client
from membership.billing.ledger import ledger_entry_for_stripe, ledger_record
from membership.billing.models import LedgerEntry
from membership.billing.stripe_events import PaymentIntentFacts
from membership.models import Member, Membership, User

logger = logging.getLogger(__name__)

# Stripe's shortest Checkout lifetime; a seat held for a payment is held this long.
CHECKOUT_MINUTES = 30
KIND_KEY = "toolgate_kind"
REFERENCE_KEY = "toolgate_ref"


@dataclass(frozen=True)
class CheckoutPayment:
    """What a payment-mode Checkout session event tells the app that asked for it."""

    event_type: str  # checkout.session.completed or checkout.session.expired
    session_id: str
    kind: str
    reference: str
    payment_intent_id: str
    amount_total: int
    currency: str
    paid: bool  # payment_status "paid" (a completed session of a delayed method may not be)


# A handler returns (outcome, note) as the event log records them: "applied", "unchanged",
# "ignored". It raises WebhookRejected for a session that does not fit the object it names.
CheckoutHandler = Callable[[CheckoutPayment], tuple[str, str]]
_handlers: dict[str, CheckoutHandler] = {}


def payment_handler_register(kind: str, handler: CheckoutHandler) -> None:
    _handlers[kind] = handler


def payment_handler(kind: str) -> CheckoutHandler | None:
    return _handlers.get(kind)


@dataclass(frozen=True)
class StartedCheckout:
    session_id: str
    url: str
    expires_at: datetime


def payment_checkout_start(
    *,
    member: Member,
    kind: str,
    reference: str,
    description: str,
    amount_minor: int,
    currency: str,
    success_url: str,
    cancel_url: str,
    idempotency_key: str,
    allow_promotion_codes: bool = True,
) -> StartedCheckout:
    """A hosted Checkout session in payment mode for one line; returns where to send the member.

    The member's Stripe customer is used when they have one (the card they pay with is then
    saved to it for later desk sales); otherwise Checkout asks for their email. Promotion codes
    are allowed: the webhook records what was actually paid.
    """
    membership = Membership.objects.filter(member=member).first()
    expires_at = clock.now() + timedelta(minutes=CHECKOUT_MINUTES, seconds=30)
    metadata = {KIND_KEY: kind, REFERENCE_KEY: reference}
    metadata_only: SessionCreateParamsPaymentIntentData = {"metadata": metadata}
    params: SessionCreateParams = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": currency,
                    "unit_amount": amount_minor,
                    "product_data": {"name": description},
                },
                "quantity": 1,
            }
        ],
        "client_reference_id": f"{kind}-{reference}",
        "metadata": metadata,
        "payment_intent_data": metadata_only,
        "allow_promotion_codes": allow_promotion_codes,
        "expires_at": int(expires_at.timestamp()),
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if membership is not None and membership.stripe_customer_id:
        params["customer"] = membership.stripe_customer_id
        params["payment_intent_data"] = {**metadata_only, "setup_future_usage": "off_session"}
    else:
        params["customer_email"] = member.user.email
    try:
        session = stripe_client().v1.checkout.sessions.create(
            params=params, options={"idempotency_key": idempotency_key}
        )
    except stripe.StripeError as error:
        logger.warning("Checkout for %s %s failed: %s", kind, reference, error)
        raise BillingUnavailable(
            "Stripe could not be reached just now; nothing was charged. Please try again."
        ) from error
    assert session.url is not None, "a hosted Checkout session always has a URL"
    return StartedCheckout(session_id=session.id, url=session.url, expires_at=expires_at)


@dataclass(frozen=True)
class OffSessionCharge:
    """A card payment Stripe took without the member. `pending`: Stripe is still processing it,
    and `payment_intent.succeeded` or `payment_intent.payment_failed` will say how it ended."""

    payment_intent_id: str
    pending: bool = False


# How an off-session PaymentIntent Toolgate made ended (`payment_intent.*` events), handed to
# the app its metadata names. Like a Checkout handler: returns (outcome, note); raises
# WebhookRejected for an intent that does not fit the object its metadata names.
IntentHandler = Callable[[PaymentIntentFacts], tuple[str, str]]
_intent_handlers: dict[str, IntentHandler] = {}


def checkout_payment_unapplied(
    payment: CheckoutPayment, *, currency: str
) -> tuple[str, str] | None:
    """What a completed session that changes nothing answers (not paid yet, or its payment is
    already in the ledger: a redelivery), else None. A session paid in another currency than
    `currency`, or without a payment intent, is refused (WebhookRejected)."""
    from membership.billing.webhooks import WebhookRejected  # webhooks imports this module

    if not payment.paid:
        return "unchanged", f"session {payment.session_id} completed but is not paid yet"
    if ledger_entry_for_stripe(payment.payment_intent_id) is not None:
        return "unchanged", f"payment {payment.payment_intent_id} is already in the ledger"
    if payment.currency != currency or not payment.payment_intent_id:
        raise WebhookRejected(
            f"session {payment.session_id} paid {payment.amount_total} {payment.currency} "
            f"without a payment intent or not in {currency}"
        )
    return None


def payment_intent_handler_register(kind: str, handler: IntentHandler) -> None:
    _intent_handlers[kind] = handler


def payment_intent_handler(kind: str) -> IntentHandler | None:
    return _intent_handlers.get(kind)


class OffSessionDeclined(Exception):
    """The saved card did not pay. `needs_member`: the bank wants the member to confirm (SCA)."""

    def __init__(self, message: str, *, needs_member: bool, payment_intent_id: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.needs_member = needs_member
        self.payment_intent_id = payment_intent_id


def card_charge_off_session(
    *,
    member: Member,
    amount_minor: int,
    currency: str,
    description: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> OffSessionCharge:
    """Charge the card Stripe holds for the member, now, without them; returns the payment
    intent once it succeeded or while Stripe processes it. Raises OffSessionDeclined (declined,
    or the bank wants the member: SCA)."""
    membership = Membership.objects.filter(member=member).first()
    if membership is None or not membership.stripe_customer_id:
        raise OffSessionDeclined("This member has no card on file with Stripe.", needs_member=False)
    client = stripe_client()
    try:
        cards = client.v1.customers.payment_methods.list(
            membership.stripe_customer_id, params={"type": "card", "limit": 1}
        )
        if not cards.data:
            raise OffSessionDeclined(
                "This member has no card on file with Stripe.", needs_member=False
            )
        intent = client.v1.payment_intents.create(
            params={
                "amount": amount_minor,
                "currency": currency,
                "customer": membership.stripe_customer_id,
                "payment_method": cards.data[0].id,
                "off_session": True,
                "confirm": True,
                "description": description,
                "metadata": metadata,
            },
            options={"idempotency_key": idempotency_key},
        )
    except stripe.CardError as error:
        body = error.json_body or {}
        detail = body.get("error", {}) if isinstance(body, dict) else {}
        intent_id = str((detail.get("payment_intent") or {}).get("id", ""))
        if error.code == "authentication_required":
            raise OffSessionDeclined(
                "The bank wants the member to confirm this payment: a pay-by link was sent.",
                needs_member=True,
                payment_intent_id=intent_id,
            ) from None
        raise OffSessionDeclined(
            f"The card was declined ({error.user_message or error.code}); take cash or credits.",
            needs_member=False,
        ) from None
    except stripe.StripeError as error:
        logger.warning("Off-session charge for member %s failed: %s", member.pk, error)
        raise BillingUnavailable(
            "Stripe could not be reached just now; nothing was charged. Please try again."
        ) from error
    if intent.status in {"succeeded", "processing"}:
        return OffSessionCharge(intent.id, pending=intent.status == "processing")
    if intent.status == "requires_action":
        raise OffSessionDeclined(
            "The bank wants the member to confirm this payment: a pay-by link was sent.",
            needs_member=True,
            payment_intent_id=intent.id,
        )
    raise OffSessionDeclined(
        f"The card payment is {intent.status}; take cash or credits.", needs_member=False
    )


@dataclass(frozen=True)
class PaymentFor:
    """What a card payment pays for, as its ledger entry records it: whose, of which kind
    (a LedgerEntry.Kind), for which cause (a sale, a pass, a seat), how much and the memo."""

    member: Member
    kind: str
    cause: Model
    amount_minor: int
    currency: str
    memo: str


def card_payment_record(
    what: PaymentFor, *, payment_intent_id: str, actor: User | None
) -> LedgerEntry:
    """The ledger entry of a card payment Stripe took (at the desk, or when its success event
    or its Checkout session arrives later)."""
    return ledger_record(
        member=what.member,
        kind=what.kind,
        method=LedgerEntry.Method.STRIPE,
        amount_minor=what.amount_minor,
        currency=what.currency,
        cause=what.cause,
        recorded_by=actor,
        stripe_object_id=payment_intent_id,
        memo=what.memo,
    )


def card_charge_for(
    what: PaymentFor, *, payment_kind: str, actor: User | None, idempotency_key: str
) -> OffSessionCharge:
    """Charge the member's card on file for `what`, in the caller's transaction: the intent's
    metadata names the cause, so its later `payment_intent.*` event (or reconcile_billing)
    reaches the app registered for `payment_kind`. A payment that succeeded at once is in the
    ledger when this returns; a pending one is not (its success event records it). Raises
    OffSessionDeclined as `card_charge_off_session` does: each caller says what a declined
    card, or a bank that wants the member, means for what it sells."""
    charge = card_charge_off_session(
        member=what.member,
        amount_minor=what.amount_minor,
        currency=what.currency,
        description=what.memo,
        metadata={KIND_KEY: payment_kind, REFERENCE_KEY: str(what.cause.pk)},
        idempotency_key=idempotency_key,
    )
    if not charge.pending:
        card_payment_record(what, payment_intent_id=charge.payment_intent_id, actor=actor)
    return charge
