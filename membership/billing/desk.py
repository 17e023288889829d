"""Selling materials at the desk, and prepaid credits spent and bought there.

A sale decrements the stock and records its ledger entry in one transaction: paid in cash, from
the member's prepaid credits (never below zero), or charged to the card Stripe holds for them
(an off-session PaymentIntent; when the bank wants the member to confirm, SCA, the sale waits
for them with a pay-by link by email). The low-stock email goes through the task runner.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext as _

from core import clock
from core.money import money_format
from core.submissions import submission_claim
from membership.billing.catalogue import Material, MaterialSale
from membership.billing.desk_emails import (
    card_failed_email,
    low_stock_email,
    pay_link_email,
    sale_expired_email,
)
from membership.billing.discounts import NO_CARD_DISCOUNT, DiscountAsked, desk_payment_record
from membership.billing.ledger import ledger_entry_for_stripe
from membership.billing.models import LedgerEntry
from membership.billing.payments import (
    CheckoutPayment,
    OffSessionDeclined,
    PaymentFor,
    card_charge_for,
    card_payment_record,
    payment_checkout_start,
    payment_handler_register,
    payment_intent_handler_register,
)
from membership.billing.refunds import payment_duplicate_refund
from membership.billing.stripe_events import PaymentIntentFacts
from membership.billing.wallet import SaleRefused
from membership.models import Member, User

Kind, Method = LedgerEntry.Kind, LedgerEntry.Method
SALE_METHODS = (Method.CASH, Method.CREDITS, Method.STRIPE)
KIND = "material_sale"
_PAID_HOW: dict[str, str] = {
    Method.CASH: "in cash",
    Method.CREDITS: "from credits",
    Method.STRIPE: "by card",
}


def material_sell(
    *,
    member: Member,
    material: Material,
    quantity: int,
    method: str,
    actor: User,
    token: uuid.UUID | None = None,
    discount: DiscountAsked | None = None,
) -> MaterialSale:
    """Sell `quantity` units to `member`: the stock goes down and the sale is paid, together.

    A discount staff give (cash or credits) is paid off the sale's list total, with its reason
    kept beside the entry (membership.billing.discounts)."""
    if type(quantity) is not int or quantity <= 0:
        raise SaleRefused(_("Sell a whole number of units, at least one."))
    if method not in SALE_METHODS:
        raise SaleRefused(_("Choose cash, credits or the card on file."))
    if discount is not None and method == Method.STRIPE:
        raise SaleRefused(NO_CARD_DISCOUNT)
    if not actor.has_perm("membership.record_payment"):
        raise SaleRefused(_("Only staff who may take payments can sell materials."))
    with transaction.atomic():
        submission_claim(token)
        locked = Material.objects.select_for_update().get(pk=material.pk)
        if not locked.active:
            raise SaleRefused(_("%(name)s is no longer sold.") % {"name": locked.name})
        if quantity > locked.stock:
            raise SaleRefused(
                f"Only {locked.stock} {locked.unit} of {locked.name} in stock; "
                f"{quantity} asked for."
            )
        Material.objects.filter(pk=locked.pk).update(stock=F("stock") - quantity)
        locked.refresh_from_db(fields=["stock"])
        sale = MaterialSale.objects.create(
            material=locked,
            member=member,
            quantity=quantity,
            unit_price_minor=locked.price_minor,
            total_minor=quantity * locked.price_minor,
            currency=locked.currency,
            method=method,
            sold_by=actor,
            created_at=clock.now(),
        )
        memo = f"{quantity} × {locked.name}"  # noqa: RUF001
        if method in (Method.CREDITS, Method.CASH):
            desk_payment_record(
                member=member,
                kind=Kind.MATERIAL,
                method=method,
                list_minor=sale.total_minor,
                currency=sale.currency,
                cause=sale,
                actor=actor,
                memo=memo,
                discount=discount,
            )
        else:
            _charge_card(sale, memo=memo, actor=actor)
        if locked.stock <= locked.low_stock_threshold and locked.low_stock_alerted_at is None:
            Material.objects.filter(pk=locked.pk).update(low_stock_alerted_at=clock.now())
            low_stock_email.delay_on_commit(material_id=locked.pk)
    sale.refresh_from_db()  # the card's answer may have left it awaiting payment
    return sale


def material_sale_told(sale: MaterialSale) -> str:
    """What the desk is told a sale came to: paid, or waiting for the member's card (the
    material is handed over and counted out of stock either way; the ledger has the payment
    only once Stripe says it was made)."""
    what = (
        f"{sale.quantity} × {sale.material.name}, {money_format(sale.total_minor, sale.currency)}"  # noqa: RUF001
    )
    if sale.state == MaterialSale.State.PAID:
        return f"Sold: {what}, paid {_PAID_HOW[sale.method]}."
    if sale.pay_url:
        return (
            f"Awaiting payment ({what}): the card needs the member's confirmation; a pay-by "
            f"link was emailed to {sale.member.user.email}. Nothing is in the ledger until "
            "they pay."
        )
    return (
        f"Awaiting payment ({what}): the card payment is still processing at the bank. It "
        "goes into the ledger when Stripe confirms it; if it fails, the member is emailed a "
        "pay-by link and you are told."
    )


def _payment_for(sale: MaterialSale, *, memo: str = "") -> PaymentFor:
    memo = memo or f"{sale.quantity} × {sale.material.name}"  # noqa: RUF001
    return PaymentFor(sale.member, Kind.MATERIAL, sale, sale.total_minor, sale.currency, memo)


def _charge_card(sale: MaterialSale, *, memo: str, actor: User) -> None:
    try:
        charge = card_charge_for(
            _payment_for(sale, memo=memo),
            payment_kind=KIND,
            actor=actor,
            idempotency_key=f"toolgate-sale-{sale.pk}",
        )
    except OffSessionDeclined as declined:
        if not declined.needs_member:
            raise SaleRefused(declined.message) from None
        # The bank wants the member to confirm (SCA): the sale stands, they pay by link.
        _pay_link_send(sale, payment_intent_id=declined.payment_intent_id)
        return
    # Still processing: payment_intent.succeeded records it, or payment_intent.payment_failed
    # sends the member a pay-by link.
    state = MaterialSale.State.AWAITING if charge.pending else MaterialSale.State.PAID
    MaterialSale.objects.filter(pk=sale.pk).update(
        state=state, payment_intent_id=charge.payment_intent_id
    )


def _paid_twice(sale: MaterialSale, *, payment_intent_id: str, how: str) -> tuple[str, str]:
    """The sale was already paid when this card payment of it succeeded: it is given back."""
    memo = f"{sale.quantity} × {sale.material.name} ({how})"  # noqa: RUF001
    payment_duplicate_refund(
        _payment_for(sale, memo=memo),
        payment_intent_id=payment_intent_id,
        why=f"Sale {sale.pk} was already paid: this payment is refunded",
    )
    return "applied", f"sale {sale.pk} was already paid: {payment_intent_id} refunded"


def _paid_after_expiry(sale: MaterialSale, *, payment_intent_id: str, how: str) -> tuple[str, str]:
    """A card payment of a sale that expired unpaid (undone, perhaps sold again since): it is
    recorded and given back in full, as a payment that arrived twice is."""
    memo = f"{sale.quantity} × {sale.material.name} ({how}, after the sale expired)"  # noqa: RUF001
    payment_duplicate_refund(
        _payment_for(sale, memo=memo),
        payment_intent_id=payment_intent_id,
        why=f"Sale {sale.pk} had expired unpaid: this payment is refunded",
    )
    return "applied", f"sale {sale.pk} had expired unpaid: {payment_intent_id} refunded"


def _pay_link_send(sale: MaterialSale, *, payment_intent_id: str) -> None:
    """The sale waits for the member: a Checkout session for its total, emailed to them."""
    started = payment_checkout_start(
        member=sale.member,
        kind=KIND,
        reference=str(sale.pk),
        description=f"{sale.quantity} × {sale.material.name}",  # noqa: RUF001
        amount_minor=sale.total_minor,
        currency=sale.currency,
        success_url=settings.SITE_URL + reverse("membership_billing"),
        cancel_url=settings.SITE_URL + reverse("membership_billing"),
        idempotency_key=f"toolgate-sale-link-{sale.pk}",
    )
    MaterialSale.objects.filter(pk=sale.pk).update(
        state=MaterialSale.State.AWAITING,
        pay_url=started.url,
        payment_intent_id=payment_intent_id,
    )
    pay_link_email.delay_on_commit(sale_id=sale.pk)


def _sale_intent_ended(outcome: PaymentIntentFacts) -> tuple[str, str]:
    """The off-session card payment of a sale ended (its event, possibly late, repeated or out of
    order): a success is recorded once; a failure sends the member a pay-by link and tells the
    staff member who sold it, once. A sale already paid, or already waiting on its link, is
    left as it is."""
    from membership.billing.webhooks import WebhookRejected

    intent_id = outcome.payment_intent_id
    sale = (
        MaterialSale.objects.select_for_update()
        .select_related("material", "member")
        # Both must match: a sale whose charge was declined at the desk was never kept, and
        # its number may since belong to another sale (SQLite reuses it).
        .filter(pk=int(outcome.reference) if outcome.reference.isdigit() else 0)
        .filter(payment_intent_id=intent_id)
        .exclude(payment_intent_id="")
        .first()
    )
    if sale is None:
        return "ignored", f"payment {intent_id} is not the card payment of a sale kept here"
    customer = getattr(sale.member, "membership", None)
    if customer is None or customer.stripe_customer_id != outcome.customer_id:
        raise WebhookRejected(f"payment {intent_id} is not of sale {sale.pk}'s member")
    if ledger_entry_for_stripe(intent_id) is not None:
        return "unchanged", f"payment {intent_id} of sale {sale.pk} is already in the ledger"
    if outcome.succeeded and (outcome.amount, outcome.currency) != (
        sale.total_minor,
        sale.currency,
    ):
        raise WebhookRejected(f"payment {intent_id} does not pay sale {sale.pk}")
    if sale.state == MaterialSale.State.PAID:
        if outcome.succeeded:
            # Confirmed by the member (or done processing) after they paid the pay-by link.
            return _paid_twice(sale, payment_intent_id=intent_id, how="card, paid twice")
        return "unchanged", f"sale {sale.pk} is already paid"
    if sale.state == MaterialSale.State.EXPIRED:
        if outcome.succeeded:
            return _paid_after_expiry(sale, payment_intent_id=intent_id, how="card")
        return "unchanged", f"sale {sale.pk} expired unpaid already"
    if outcome.succeeded:
        card_payment_record(_payment_for(sale), payment_intent_id=intent_id, actor=None)
        MaterialSale.objects.filter(pk=sale.pk).update(state=MaterialSale.State.PAID)
        return "applied", f"sale {sale.pk} paid by card"
    if sale.pay_url:
        return "unchanged", f"sale {sale.pk} already waits on its pay-by link"
    _pay_link_send(sale, payment_intent_id=intent_id)
    card_failed_email.delay_on_commit(sale_id=sale.pk, reason=outcome.failure)
    return "applied", f"sale {sale.pk}: card failed ({outcome.failure or 'no reason'}), link sent"


def _sale_paid_by_link(payment: CheckoutPayment) -> tuple[str, str]:
    """The pay-by link of a sale the card could not pay off-session was paid (or expired)."""
    from membership.billing.webhooks import WebhookRejected

    sale = (
        MaterialSale.objects.select_for_update()
        .filter(pk=int(payment.reference) if payment.reference.isdigit() else 0)
        .first()
    )
    if sale is None:
        raise WebhookRejected(f"material sale session for unknown sale {payment.reference!r}")
    if payment.event_type == "checkout.session.expired" or not payment.paid:
        return "unchanged", f"sale {sale.pk} is not paid by session {payment.session_id}"
    if ledger_entry_for_stripe(payment.payment_intent_id) is not None:
        return "unchanged", f"payment {payment.payment_intent_id} is already in the ledger"
    if payment.currency != sale.currency or payment.amount_total != sale.total_minor:
        raise WebhookRejected(f"session {payment.session_id} does not pay sale {sale.pk}")
    if sale.state == MaterialSale.State.EXPIRED:
        return _paid_after_expiry(sale, payment_intent_id=payment.payment_intent_id, how="link")
    if sale.state == MaterialSale.State.PAID:
        # The card the bank wanted confirmed was confirmed, and the link was paid too.
        return _paid_twice(
            sale, payment_intent_id=payment.payment_intent_id, how="link, paid twice"
        )
    memo = f"{sale.quantity} × {sale.material.name} (paid by link)"  # noqa: RUF001
    card_payment_record(
        _payment_for(sale, memo=memo), payment_intent_id=payment.payment_intent_id, actor=None
    )
    MaterialSale.objects.filter(pk=sale.pk).update(state=MaterialSale.State.PAID)
    return "applied", f"sale {sale.pk} paid by link"


def desk_sale_payment_window() -> timedelta:
    return timedelta(minutes=settings.DESK_SALE_PAYMENT_MINUTES)


def desk_sales_expire(*, now: datetime) -> int:
    """Undo every desk sale still awaiting its card payment DESK_SALE_PAYMENT_MINUTES after it
    was made: it reads Expired unpaid, its stock is counted back (the desk takes the material
    back, or sells it again in cash or credits), and the staff member who sold it is emailed.
    Returns how many. Each sale is its own transaction, re-checked under its lock (paid
    meanwhile: kept). A payment that still arrives for it is refunded (`_paid_after_expiry`)."""
    due = MaterialSale.objects.filter(
        state=MaterialSale.State.AWAITING, created_at__lt=now - desk_sale_payment_window()
    ).values_list("pk", flat=True)
    expired = 0
    for pk in list(due):
        with transaction.atomic():
            sale = MaterialSale.objects.select_for_update().get(pk=pk)
            if sale.state != MaterialSale.State.AWAITING:
                continue
            MaterialSale.objects.filter(pk=sale.pk).update(
                state=MaterialSale.State.EXPIRED, expired_at=now
            )
            Material.objects.filter(pk=sale.material_id).update(stock=F("stock") + sale.quantity)
            sale_expired_email.delay_on_commit(sale_id=sale.pk)
            expired += 1
    return expired


def register() -> None:
    payment_handler_register(KIND, _sale_paid_by_link)
    payment_intent_handler_register(KIND, _sale_intent_ended)


def material_restock(*, material: Material, added: int, actor: User) -> Material:
    """Count new stock in; the low-stock alert can go out again next time."""
    if type(added) is not int or added <= 0:
        raise SaleRefused(_("Restock a positive number of units."))
    with transaction.atomic():
        Material.objects.filter(pk=material.pk).update(
            stock=F("stock") + added, low_stock_alerted_at=None
        )
    material.refresh_from_db()
    return material
