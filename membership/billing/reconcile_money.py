"""Compare the ledger's money with Stripe's: card payments, refunds and (through the apps that
make them) invoice items, over a recent window; report each difference, and repair those a
missed webhook explains (the rest need staff).

Stripe is read in lists over the window (`created[gte]`), so a daily run costs a few requests, not
one per entry; an entry whose object is not in the list is fetched on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import stripe
from django.db import transaction

from core.money import money_format
from membership.billing.client import BillingUnavailable
from membership.billing.models import LedgerEntry
from membership.billing.payments import (
    KIND_KEY,
    REFERENCE_KEY,
    CheckoutPayment,
    payment_handler,
    payment_intent_handler,
)
from membership.billing.refunds import charge_refunds_record
from membership.billing.stripe_events import ChargeFacts, PaymentIntentFacts

logger = logging.getLogger(__name__)

Kind, Method = LedgerEntry.Kind, LedgerEntry.Method
_GONE = {"failed", "canceled"}


@dataclass(frozen=True)
class MoneyDrift:
    """One difference between the ledger and Stripe. `fixable`: a fix run repairs it (a missed
    webhook); otherwise it is for staff to look at (the Stripe dashboard and the member page)."""

    what: str  # "charge", "refund", "invoice item"
    stripe_id: str
    member: str
    difference: str
    fixable: bool

    def __str__(self) -> str:
        return f"{self.what} {self.stripe_id} ({self.member or 'no member'}): {self.difference}"


# An app's own check (metering's invoice items): (client, since, dry_run) -> the drifts it found,
# each fixable one repaired unless dry_run.
MoneyCheck = Callable[[stripe.StripeClient, datetime, bool], list[MoneyDrift]]
_checks: list[MoneyCheck] = []


def money_check_register(check: MoneyCheck) -> None:
    if check not in _checks:
        _checks.append(check)


def stripe_list(pages: stripe.ListObject) -> dict[str, dict]:
    """Every object of a Stripe list, all pages, by id, as plain dicts."""
    return {item.id: item.to_dict() for item in pages.auto_paging_iter()}


def money_reconcile(
    *, client: stripe.StripeClient, since: datetime, dry_run: bool
) -> list[MoneyDrift]:
    """Every money difference since `since`; unless `dry_run`, the fixable ones are repaired."""
    try:
        drifts = _charges(client, since, dry_run) + _refunds(client, since, dry_run)
        for check in _checks:
            drifts += check(client, since, dry_run)
    except stripe.StripeError as error:
        raise BillingUnavailable(f"Stripe could not be reached: {error}") from error
    return drifts


def _member(entry: LedgerEntry | None) -> str:
    return str(entry.member) if entry is not None else ""


def _ledger_stripe(entries: Iterable[LedgerEntry]) -> dict[str, LedgerEntry]:
    return {e.stripe_object_id: e for e in entries}


def _compare(what: str, entry: LedgerEntry, found: dict | None, amount: int) -> list[MoneyDrift]:
    """An object the ledger holds against what Stripe holds (None: Stripe has no such object)."""
    if found is None:
        difference = "in the ledger, not on Stripe"
    elif found.get("status") in _GONE or found.get("status") == "requires_payment_method":
        difference = f"in the ledger, but Stripe says {found['status']}"
    elif (found.get("amount"), found.get("currency")) != (amount, entry.currency):
        stripe_amount = money_format(int(found.get("amount") or 0), str(found.get("currency")))
        difference = (
            f"the ledger has {money_format(amount, entry.currency)}, Stripe {stripe_amount}"
        )
    else:
        return []
    return [MoneyDrift(what, entry.stripe_object_id, _member(entry), difference, fixable=False)]


def _fetch(retrieve: Callable[[str], stripe.StripeObject], object_id: str) -> dict | None:
    try:
        return retrieve(object_id).to_dict()
    except stripe.InvalidRequestError as error:
        if error.http_status == 404:
            return None
        raise


def _charges(client: stripe.StripeClient, since: datetime, dry_run: bool) -> list[MoneyDrift]:
    """Card payments (payment intents) of the window, both ways."""
    on_stripe = stripe_list(
        client.v1.payment_intents.list(
            params={"created": {"gte": int(since.timestamp())}, "limit": 100}
        )
    )
    ours = _ledger_stripe(
        LedgerEntry.objects.filter(
            method=Method.STRIPE, stripe_object_id__startswith="pi_", occurred_at__gte=since
        )
        .exclude(kind=Kind.REFUND)
        .select_related("member")
    )
    drifts: list[MoneyDrift] = []
    for intent_id, entry in ours.items():
        found = on_stripe.get(intent_id) or _fetch(client.v1.payment_intents.retrieve, intent_id)
        drifts += _compare("charge", entry, found, entry.amount_minor)
    for intent_id, intent in on_stripe.items():
        metadata = intent.get("metadata") or {}
        if intent.get("status") != "succeeded" or not metadata.get("toolgate_kind"):
            continue  # not ours (a subscription's invoice), or no money moved
        if intent_id in ours or LedgerEntry.objects.filter(stripe_object_id=intent_id).exists():
            continue
        drifts.append(_missing_payment(client, intent, dry_run))
    return drifts


def _missing_payment(client: stripe.StripeClient, intent: dict, dry_run: bool) -> MoneyDrift:
    """A payment Stripe took for Toolgate that the ledger lacks: the app that asked for it
    records it as the webhook it missed would have. A payment made through Checkout (a class
    fee, a credit pack, a pay-by link) goes to its `checkout.session.completed` handler (the
    seat confirmed, the credits added), an off-session one (a desk sale or day pass) to its
    `payment_intent.succeeded` handler; a payment no app claims is for staff. Once applied,
    the payment intent is in the ledger, so a second run finds nothing to do."""
    metadata = intent["metadata"]
    facts = PaymentIntentFacts(
        payment_intent_id=intent["id"],
        customer_id=str(intent.get("customer") or ""),
        kind=str(metadata["toolgate_kind"]),
        reference=str(metadata.get("toolgate_ref") or ""),
        succeeded=True,
        amount=int(intent.get("amount") or 0),
        currency=str(intent.get("currency") or ""),
        failure="",
    )
    apply = _checkout_handled(client, facts)
    intent_handler = payment_intent_handler(facts.kind)
    if apply is None and intent_handler is not None:
        apply = partial(intent_handler, facts)
    amount = money_format(facts.amount, facts.currency)
    difference = f"{amount} paid on Stripe ({facts.kind} {facts.reference}), not in the ledger"
    drift = MoneyDrift("charge", facts.payment_intent_id, "", difference, apply is not None)
    if apply is not None and not dry_run:
        from membership.billing.webhooks import WebhookRejected

        try:
            with transaction.atomic():
                outcome, note = apply()
        except WebhookRejected as error:
            logger.error("Payment %s not recorded: %s", facts.payment_intent_id, error)
            return MoneyDrift(
                "charge", facts.payment_intent_id, "", f"{difference}: {error}", False
            )
        if outcome != "applied":
            return MoneyDrift("charge", facts.payment_intent_id, "", f"{difference}: {note}", False)
    return drift


def _checkout_handled(
    client: stripe.StripeClient, facts: PaymentIntentFacts
) -> Callable[[], tuple[str, str]] | None:
    """The completed Checkout session that took this payment, handed to the handler of its
    kind as its `checkout.session.completed` would have been; None when the payment did not
    come through a Checkout session of that kind (one request, for missing payments only)."""
    handler = payment_handler(facts.kind)
    if handler is None:
        return None
    sessions = client.v1.checkout.sessions.list(
        params={"payment_intent": facts.payment_intent_id, "limit": 1}
    )
    session = sessions.data[0].to_dict() if sessions.data else None
    if session is None or session.get("status") != "complete":
        return None
    metadata = session.get("metadata") or {}
    if metadata.get(KIND_KEY) != facts.kind:
        return None
    payment = CheckoutPayment(
        event_type="checkout.session.completed",
        session_id=str(session["id"]),
        kind=facts.kind,
        reference=str(metadata.get(REFERENCE_KEY) or ""),
        payment_intent_id=facts.payment_intent_id,
        amount_total=int(session.get("amount_total") or 0),
        currency=str(session.get("currency") or ""),
        paid=session.get("payment_status") == "paid",
    )
    return partial(handler, payment)


def _refunds(client: stripe.StripeClient, since: datetime, dry_run: bool) -> list[MoneyDrift]:
    """Refunds of the window, both ways: one made on Stripe and missed is recorded as
    `charge.refunded` would have; one the ledger has and Stripe lacks is for staff."""
    on_stripe = stripe_list(
        client.v1.refunds.list(params={"created": {"gte": int(since.timestamp())}, "limit": 100})
    )
    ours = _ledger_stripe(
        LedgerEntry.objects.filter(
            kind=Kind.REFUND, stripe_object_id__startswith="re_", occurred_at__gte=since
        ).select_related("member")
    )
    drifts: list[MoneyDrift] = []
    for refund_id, entry in ours.items():
        found = on_stripe.get(refund_id) or _fetch(client.v1.refunds.retrieve, refund_id)
        drifts += _compare("refund", entry, found, -entry.amount_minor)
    missing_by_payment: dict[str, list[dict]] = {}
    for refund_id, refund in on_stripe.items():
        if refund.get("status") in _GONE or refund_id in ours:
            continue
        if LedgerEntry.objects.filter(stripe_object_id=refund_id).exists():
            continue
        payment = LedgerEntry.objects.filter(
            stripe_object_id=str(refund.get("payment_intent") or "")
        ).first()
        if payment is None:
            continue  # a refund of a payment the ledger never had (not Toolgate's)
        amount = money_format(int(refund["amount"]), payment.currency)
        drifts.append(
            MoneyDrift(
                "refund",
                refund_id,
                _member(payment),
                f"{amount} refunded on Stripe from {payment.stripe_object_id}, not in the ledger",
                fixable=True,
            )
        )
        missing_by_payment.setdefault(payment.stripe_object_id, []).append(refund)
    if dry_run:
        return drifts
    for intent_id in missing_by_payment:
        with transaction.atomic():
            charge_refunds_record(
                ChargeFacts(
                    charge_id="",
                    payment_intent_id=intent_id,
                    customer_id="",
                    amount_refunded=0,
                    currency="",
                )
            )
    # A refund the ledger still refuses (more than is left of its payment) is for staff.
    return [
        drift
        if not drift.fixable
        or LedgerEntry.objects.filter(stripe_object_id=drift.stripe_id).exists()
        else MoneyDrift(
            drift.what,
            drift.stripe_id,
            drift.member,
            f"{drift.difference}: not recordable (more than is left of the payment)",
            fixable=False,
        )
        for drift in drifts
    ]
