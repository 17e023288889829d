"""Prepaid credits (a wallet): bought as packs online or at the desk, spent at the desk, expired.

The balance is a sum of ledger entries (selectors.member_credit_balance): credit purchases add,
everything paid from credits subtracts (spends, expiries; refunds onto credits add back).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import Model, Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from core.money import money_format
from core.submissions import submission_claim
from membership.billing import selectors
from membership.billing.catalogue import CreditPack
from membership.billing.config import stripe_enabled
from membership.billing.ledger import LedgerRefused, ledger_entry_for_stripe, ledger_record
from membership.billing.models import LedgerEntry
from membership.billing.payments import (
    CheckoutPayment,
    payment_checkout_start,
    payment_handler_register,
)
from membership.models import Member, User

Kind, Method = LedgerEntry.Kind, LedgerEntry.Method
KIND = "credit_pack"


class SaleRefused(LedgerRefused):
    """A sale or a spend that cannot be made as asked (the message says why)."""


def credits_spend(
    *,
    member: Member,
    amount_minor: int,
    currency: str,
    kind: str,
    cause: Model,
    actor: User | None,
    memo: str,
) -> LedgerEntry:
    """Pay `amount_minor` from the member's prepaid credits; refused if that would take the
    balance below zero, or below the credit limit staff set for the member.

    The member's row is locked first, so two spends at once (two tabs, two desks) are served one
    after the other and the second sees what the first left.
    """
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        left = selectors.member_credit_balance(locked, currency)
        if amount_minor > left + locked.credit_limit_minor:
            limit = (
                f" (and {money_format(locked.credit_limit_minor, currency)} of credit)"
                if locked.credit_limit_minor
                else ""
            )
            raise SaleRefused(
                f"Not enough credits: {money_format(left, currency)} left{limit}, "
                f"{money_format(amount_minor, currency)} needed."
            )
        return ledger_record(
            member=locked,
            kind=kind,
            method=Method.CREDITS,
            amount_minor=amount_minor,
            currency=currency,
            cause=cause,
            recorded_by=actor,
            memo=memo,
        )


def credits_buy_at_desk(
    *, member: Member, amount_minor: int, currency: str, actor: User, token: uuid.UUID | None = None
) -> LedgerEntry:
    """A credit pack paid in cash at the desk."""
    if type(amount_minor) is not int or amount_minor <= 0:
        raise SaleRefused(_("A credit pack has a positive price."))
    with transaction.atomic():
        submission_claim(token)
        return ledger_record(
            member=member,
            kind=Kind.CREDIT_PURCHASE,
            method=Method.CASH,
            amount_minor=amount_minor,
            currency=currency,
            cause=member,
            recorded_by=actor,
            memo="Credit pack bought at the desk",
        )


def credit_pack_checkout(*, member: Member, pack: CreditPack) -> str:
    """Checkout for a credit pack; returns the URL. The credits arrive with the webhook."""
    if not stripe_enabled():
        raise SaleRefused(_("This space sells credit packs at the front desk."))
    if not pack.active:
        raise SaleRefused(_("%(name)s is no longer sold.") % {"name": pack.name})
    billing = settings.SITE_URL + reverse("membership_billing")
    started = payment_checkout_start(
        member=member,
        kind=KIND,
        reference=f"{pack.pk}-{member.pk}",
        description=f"Prepaid credits: {pack.name}",
        amount_minor=pack.amount_minor,
        currency=pack.currency,
        success_url=billing + "?credits=success",
        cancel_url=billing + "?checkout=canceled",
        idempotency_key=f"toolgate-credits-{pack.pk}-{member.pk}-{uuid.uuid4().hex[:8]}",
        # Credits are money: a promotion code would mint them at a discount.
        allow_promotion_codes=False,
    )
    return started.url


def _pack_paid(payment: CheckoutPayment) -> tuple[str, str]:
    from membership.billing.webhooks import WebhookRejected

    pack_id, _, member_id = payment.reference.partition("-")
    pack = CreditPack.objects.filter(pk=int(pack_id) if pack_id.isdigit() else 0).first()
    member = Member.objects.filter(pk=int(member_id) if member_id.isdigit() else 0).first()
    if pack is None or member is None:
        raise WebhookRejected(f"credit pack session for unknown pack or member {payment.reference}")
    if payment.event_type == "checkout.session.expired" or not payment.paid:
        return "unchanged", "credit pack not paid"
    if ledger_entry_for_stripe(payment.payment_intent_id) is not None:
        return "unchanged", f"payment {payment.payment_intent_id} is already in the ledger"
    if payment.currency != pack.currency or payment.amount_total != pack.amount_minor:
        raise WebhookRejected(
            f"session {payment.session_id} paid {payment.amount_total} {payment.currency}, "
            f"not the pack's {pack.amount_minor} {pack.currency}"
        )
    ledger_record(
        member=member,
        kind=Kind.CREDIT_PURCHASE,
        method=Method.STRIPE,
        amount_minor=payment.amount_total,
        currency=payment.currency,
        cause=pack,
        stripe_object_id=payment.payment_intent_id,
        memo=f"Credit pack: {pack.name}",
    )
    return "applied", f"{pack.name} credited"


def credits_expire(*, now: datetime) -> int:
    """Expire credits bought more than CREDITS_EXPIRE_MONTHS ago and still unspent (oldest are
    spent first); each expiry is a ledger entry. Returns how many members' credits expired.

    Idempotent: after an expiry the balance is at most what was bought inside the window.
    """
    months = settings.CREDITS_EXPIRE_MONTHS
    if not months:
        return 0
    cutoff = now - relativedelta(months=months)
    holders = (
        LedgerEntry.objects.filter(kind=Kind.CREDIT_PURCHASE)
        .values_list("member_id", "currency")
        .distinct()
    )
    expired = 0
    for member_id, currency in holders:
        with transaction.atomic():
            member = Member.objects.select_for_update().get(pk=member_id)
            balance = selectors.member_credit_balance(member, currency)
            recent = (
                LedgerEntry.objects.filter(
                    member=member,
                    currency=currency,
                    kind=Kind.CREDIT_PURCHASE,
                    occurred_at__gt=cutoff,
                ).aggregate(total=Sum("amount_minor"))["total"]
                or 0
            )
            stale = balance - max(recent, 0)
            if stale <= 0:
                continue
            ledger_record(
                member=member,
                kind=Kind.CREDIT_EXPIRY,
                method=Method.CREDITS,
                amount_minor=stale,
                currency=currency,
                cause=member,
                memo=f"Credits bought before {cutoff:%Y-%m-%d} and not spent",
                occurred_at=now,
            )
            expired += 1
    return expired


def register() -> None:
    payment_handler_register(KIND, _pack_paid)
