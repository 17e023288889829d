"""Selling day passes: online through Stripe Checkout (membership.billing.payments) or at the
desk (cash, prepaid credits, the card on file). Each payment is one ledger entry of kind day
pass whose cause is the pass; the pass opens its machines only once it is paid.
"""

from __future__ import annotations

import uuid
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from core import clock
from core.gates import gates
from core.money import money_format
from core.submissions import submission_claim
from equipment.daypasses.models import ENDED_STATES, DayPass, DayPassProduct, DayPassState
from equipment.daypasses.rules import day_pass_day_refusal
from equipment.daypasses.selectors import day_pass_product_machines
from membership import selectors as membership_selectors
from membership.billing.config import stripe_enabled
from membership.billing.discounts import NO_CARD_DISCOUNT, DiscountAsked, desk_payment_record
from membership.billing.ledger import (
    LedgerRefused,
    ledger_entry_for_stripe,
    payment_changed_handler_register,
    payments_net_minor,
)
from membership.billing.models import LedgerEntry
from membership.billing.payments import (
    CheckoutPayment,
    OffSessionDeclined,
    PaymentFor,
    card_charge_for,
    card_payment_record,
    checkout_payment_unapplied,
    payment_checkout_start,
    payment_handler_register,
    payment_intent_handler_register,
)
from membership.billing.refunds import payment_duplicate_refund, payments_refund_all
from membership.billing.stripe_events import PaymentIntentFacts
from membership.billing.wallet import SaleRefused
from membership.billing.webhooks import WebhookRejected
from membership.models import Member, User

KIND = "day_pass"
Kind, Method = LedgerEntry.Kind, LedgerEntry.Method
DESK_METHODS = (Method.CASH, Method.CREDITS, Method.STRIPE)


class DayPassRefused(SaleRefused):
    """A day pass that cannot be sold as asked (the message says why)."""


def _check_day(product: DayPassProduct, day: date) -> None:
    if not product.active:
        raise DayPassRefused(_("%(product)s is no longer sold.") % {"product": product.name})
    zones = [location.zone for location in product.locations.all()]
    if not zones:
        raise DayPassRefused(
            _("%(product)s names no location yet: ask the front desk.") % {"product": product.name}
        )
    now = clock.now()
    refusal = day_pass_day_refusal(
        day=day,
        todays=[now.astimezone(zone).date() for zone in zones],
        ahead_days=settings.DAY_PASS_AHEAD_DAYS,
    )
    if refusal:
        raise DayPassRefused(refusal)


def _memo(product: DayPassProduct, day: date) -> str:
    return f"Day pass: {product.name} on {day:%Y-%m-%d}"


def _create(
    *, holder: Member, product: DayPassProduct, day: date, method: str, **fields: object
) -> DayPass:
    """A new pass row; one live pass per holder, product and day (the database says so)."""
    try:
        with transaction.atomic():
            return DayPass.objects.create(
                product=product,
                holder=holder,
                day=day,
                price_minor=product.price_minor,
                currency=product.currency,
                method=method,
                created_at=clock.now(),
                **fields,
            )
    except IntegrityError:
        raise DayPassRefused(
            _("%(holder)s already has %(product)s for %(day)s.")
            % {"holder": holder, "product": product.name, "day": f"{day:%Y-%m-%d}"}
        ) from None


def day_pass_sell_at_desk(
    *,
    holder: Member,
    product: DayPassProduct,
    day: date,
    method: str,
    actor: User,
    token: uuid.UUID | None = None,
    discount: DiscountAsked | None = None,
) -> DayPass:
    """Staff sell a pass, paid now: cash, the holder's prepaid credits, or their card on file
    (off-session; a card the bank wants the holder to confirm sells nothing: they buy online).
    A discount staff give (cash or credits) keeps its reason beside the entry."""
    if method not in DESK_METHODS:
        raise DayPassRefused(_("Choose cash, credits or the card on file."))
    if discount is not None and method == Method.STRIPE:
        raise DayPassRefused(NO_CARD_DISCOUNT)
    if not actor.has_perm("membership.record_payment"):
        raise DayPassRefused(_("Only staff who may take payments can sell day passes."))
    with transaction.atomic():
        submission_claim(token)
        locked = DayPassProduct.objects.select_for_update().get(pk=product.pk)
        _check_day(locked, day)
        day_pass = _create(
            holder=holder,
            product=locked,
            day=day,
            method=method,
            state=DayPassState.PAID,
            sold_by=actor,
        )
        memo = _memo(locked, day)
        if method != Method.STRIPE:
            desk_payment_record(
                member=holder,
                kind=Kind.DAY_PASS,
                method=method,
                list_minor=day_pass.price_minor,
                currency=day_pass.currency,
                cause=day_pass,
                actor=actor,
                memo=memo,
                discount=discount,
            )
            return day_pass
        try:
            charge = card_charge_for(
                _payment_for(day_pass, amount_minor=day_pass.price_minor),
                payment_kind=KIND,
                actor=actor,
                idempotency_key=f"toolgate-day-pass-{day_pass.pk}",
            )
        except OffSessionDeclined as declined:
            if declined.needs_member:
                raise DayPassRefused(
                    _(
                        "The bank wants the holder to confirm this card payment: take cash or "
                        "credits, or they buy the pass online."
                    )
                ) from None
            raise DayPassRefused(declined.message) from None
        if charge.pending:
            # Stripe is still processing the card: the pass opens nothing until
            # payment_intent.succeeded records the payment (`_card_ended`).
            DayPass.objects.filter(pk=day_pass.pk).update(
                state=DayPassState.AWAITING, payment_intent_id=charge.payment_intent_id
            )
            day_pass.state = DayPassState.AWAITING
    return day_pass


def _payment_for(day_pass: DayPass, *, amount_minor: int) -> PaymentFor:
    """A card payment for the pass (its price at the desk; online, what Checkout took)."""
    memo = _memo(day_pass.product, day_pass.day)
    return PaymentFor(
        day_pass.holder, Kind.DAY_PASS, day_pass, amount_minor, day_pass.currency, memo
    )


def day_pass_checkout(*, holder: Member, product: DayPassProduct, day: date) -> str:
    """Start Checkout for a pass; returns the URL. The pass opens machines once the webhook
    says it is paid. An unpaid pass of the same day is paid through a new Checkout."""
    if not stripe_enabled():
        raise DayPassRefused(_("This space sells day passes at the front desk."))
    with transaction.atomic():
        locked = DayPassProduct.objects.select_for_update().get(pk=product.pk)
        _check_day(locked, day)
        waiting = (
            DayPass.objects.select_for_update()
            .filter(holder=holder, product=locked, day=day, state=DayPassState.AWAITING)
            .first()
        )
        day_pass = waiting or _create(holder=holder, product=locked, day=day, method=Method.STRIPE)
        billing = settings.SITE_URL + reverse("membership_billing")
        started = payment_checkout_start(
            member=holder,
            kind=KIND,
            reference=str(day_pass.pk),
            description=_memo(locked, day),
            amount_minor=day_pass.price_minor,
            currency=day_pass.currency,
            success_url=billing + "?day_pass=success",
            cancel_url=billing + "?checkout=canceled",
            idempotency_key=f"toolgate-day-pass-{day_pass.pk}-{uuid.uuid4().hex[:8]}",
        )
        DayPass.objects.filter(pk=day_pass.pk).update(checkout_session_id=started.session_id)
    return started.url


def _refund_late(day_pass: DayPass, *, amount_minor: int, payment_intent_id: str) -> str:
    """A payment for a pass that wanted none any more (paid twice, or ended meanwhile): it is
    recorded and given back (membership.billing.refunds.payment_duplicate_refund)."""
    payment_duplicate_refund(
        _payment_for(day_pass, amount_minor=amount_minor),
        payment_intent_id=payment_intent_id,
        why=f"Day pass {day_pass.pk} was already {day_pass.state}",
    )
    return (
        f"paid {money_format(amount_minor, day_pass.currency)} for pass {day_pass.pk}, "
        f"already {day_pass.state}: refunded"
    )


def _checkout_applied(payment: CheckoutPayment) -> tuple[str, str]:
    """A day pass's Checkout session completed or expired (inside the webhook's transaction)."""
    day_pass = (
        DayPass.objects.select_for_update()
        .select_related("product", "holder")
        .filter(pk=int(payment.reference) if payment.reference.isdigit() else 0)
        .first()
    )
    if day_pass is None:
        raise WebhookRejected(f"day pass session for unknown pass {payment.reference!r}")
    if payment.event_type == "checkout.session.expired":
        if (
            day_pass.state != DayPassState.AWAITING
            or day_pass.checkout_session_id != payment.session_id
        ):
            return "unchanged", f"session {payment.session_id} no longer pays pass {day_pass.pk}"
        DayPass.objects.filter(pk=day_pass.pk).update(state=DayPassState.EXPIRED)
        return "applied", f"Checkout expired unpaid: day pass {day_pass.pk} not sold"
    unapplied = checkout_payment_unapplied(payment, currency=day_pass.currency)
    if unapplied is not None:
        return unapplied
    if payment.amount_total > day_pass.price_minor:
        raise WebhookRejected(f"session {payment.session_id} paid more than pass {day_pass.pk}")
    if payment.amount_total <= 0:
        if day_pass.state != DayPassState.AWAITING:
            return "unchanged", f"day pass {day_pass.pk} is already {day_pass.state}"
        # A 100 % promotion code: nothing moved, yet the pass is paid for.
        DayPass.objects.filter(pk=day_pass.pk).update(state=DayPassState.PAID)
        return "applied", f"day pass {day_pass.pk} free with a promotion code"
    if day_pass.state != DayPassState.AWAITING:
        # Paid twice (two Checkouts of one pass, or the desk's card charge and then online) or
        # after its Checkout lapsed: give it back.
        return "applied", _refund_late(
            day_pass, amount_minor=payment.amount_total, payment_intent_id=payment.payment_intent_id
        )
    card_payment_record(
        _payment_for(day_pass, amount_minor=payment.amount_total),
        payment_intent_id=payment.payment_intent_id,
        actor=None,
    )
    DayPass.objects.filter(pk=day_pass.pk).update(state=DayPassState.PAID)
    return "applied", f"day pass {day_pass.pk} paid"


def _card_ended(outcome: PaymentIntentFacts) -> tuple[str, str]:
    """A desk pass's card payment that Stripe was still processing ended (its event, possibly
    repeated or late): a success pays the pass once; a failure leaves it unpaid (it opens
    nothing; the desk sells it again another way)."""
    day_pass = (
        DayPass.objects.select_for_update(of=("self",))
        .select_related("product", "holder")
        .filter(pk=int(outcome.reference) if outcome.reference.isdigit() else 0)
        .filter(method=Method.STRIPE, payment_intent_id=outcome.payment_intent_id)
        .exclude(payment_intent_id="")
        .first()
    )
    if day_pass is None:
        return "ignored", f"payment {outcome.payment_intent_id} is not a desk day pass's"
    customer = getattr(day_pass.holder, "membership", None)
    if customer is None or customer.stripe_customer_id != outcome.customer_id:
        raise WebhookRejected(f"payment {outcome.payment_intent_id} is not of day pass's holder")
    if ledger_entry_for_stripe(outcome.payment_intent_id) is not None:
        return "unchanged", f"payment {outcome.payment_intent_id} is already in the ledger"
    if outcome.succeeded and (outcome.amount, outcome.currency) != (
        day_pass.price_minor,
        day_pass.currency,
    ):
        raise WebhookRejected(
            f"payment {outcome.payment_intent_id} does not pay day pass {day_pass.pk}"
        )
    if day_pass.state != DayPassState.AWAITING:
        if outcome.succeeded:
            # Bought online while the desk's card charge was processing, or cancelled
            # meanwhile: the holder is not charged for it twice, nor for nothing.
            return "applied", _refund_late(
                day_pass, amount_minor=outcome.amount, payment_intent_id=outcome.payment_intent_id
            )
        return "unchanged", f"day pass {day_pass.pk} is already {day_pass.state}"
    if not outcome.succeeded:
        DayPass.objects.filter(pk=day_pass.pk).update(state=DayPassState.EXPIRED)
        return "applied", f"card declined ({outcome.failure}): day pass {day_pass.pk} not sold"
    card_payment_record(
        _payment_for(day_pass, amount_minor=outcome.amount),
        payment_intent_id=outcome.payment_intent_id,
        actor=None,
    )
    DayPass.objects.filter(pk=day_pass.pk).update(state=DayPassState.PAID)
    return "applied", f"day pass {day_pass.pk} paid by card"


def _pass_end(day_pass: DayPass, *, state: str, reason: str, message: str) -> None:
    """`day_pass` (locked) opens nothing from now on; if it opened machines, their gates are
    told in this transaction: the holder's sessions on them stop unless a membership in good
    standing whose plan opens the machine's location lets them go on, and the allow-lists
    carrying the holder are rebuilt. As when a membership ends (`membership.billing.lapse`)."""
    was_open = day_pass.state == DayPassState.PAID
    now = clock.now()
    DayPass.objects.filter(pk=day_pass.pk).update(
        state=state, ended_at=now, ended_reason=reason[:500]
    )
    day_pass.state, day_pass.ended_at, day_pass.ended_reason = state, now, reason[:500]
    if not was_open:
        return
    holder = day_pass.holder
    standing = membership_selectors.membership_in_good_standing(
        getattr(holder, "membership", None), at=now
    )
    stopped = [
        machine
        for machine in day_pass_product_machines(day_pass.product)
        if not (standing and membership_selectors.member_plan_opens(holder, machine.location_id))
    ]
    if stopped:
        gates().member_lost_access(
            member=holder, reason="day_pass_ended", message=message, machines=stopped
        )


def _locked(pass_id: int) -> DayPass:
    return (
        DayPass.objects.select_for_update(of=("self",))
        .select_related("product", "holder")
        .get(pk=pass_id)
    )


def _payment_changed(payment: LedgerEntry) -> None:
    """What is left of a payment for a pass changed (a refund by Stripe's `charge.refunded`,
    the desk or Toolgate itself; a staff reversal; a refund staff undid). Once nothing of what
    was paid for it is left, the paid pass is refunded and opens nothing. A partial refund (a
    goodwill gesture) leaves it open, and so does giving back a second payment of a pass paid
    twice. When money comes back to a pass that a refund closed (staff reverse the refund's
    entry: it was a mistake), the pass is paid again and opens its machines again, for its day
    only, as the access decision reads it; a pass staff cancelled stays cancelled (that was a
    decision about the pass, not about the money)."""
    if (payment.cause_type.app_label, payment.cause_type.model) != ("equipment", "daypass"):
        return
    day_pass = _locked(payment.cause_id)
    left = payments_net_minor(cause=day_pass, kind=Kind.DAY_PASS)
    if day_pass.state == DayPassState.REFUNDED and left > 0:
        _pass_reopen(day_pass)
        return
    if day_pass.state != DayPassState.PAID:
        return  # already cancelled (its refund is being recorded), or never opened anything
    if left > 0:
        return
    how = "reversed" if LedgerEntry.objects.filter(reverses=payment).exists() else "refunded"
    _pass_end(
        day_pass,
        state=DayPassState.REFUNDED,
        reason=f"Payment {how} (ledger entry {payment.pk})",
        message=_("Your day pass was refunded: it opens no machine any more."),
    )


def _pass_reopen(day_pass: DayPass) -> None:
    """The refund that closed `day_pass` (locked) was undone: it is paid and open again, and
    the gates of its machines rebuild their lists with it. Refused when the holder has since
    bought another pass of the product for that day (that sale is the one to correct)."""
    if (
        DayPass.objects.filter(holder=day_pass.holder, product=day_pass.product, day=day_pass.day)
        .exclude(pk=day_pass.pk)
        .exclude(state__in=ENDED_STATES)
        .exists()
    ):
        raise LedgerRefused(
            _(
                "%(holder)s has another %(product)s for %(day)s since this refund: reverse or "
                "cancel that one instead."
            )
            % {
                "holder": day_pass.holder,
                "product": day_pass.product.name,
                "day": f"{day_pass.day:%Y-%m-%d}",
            }
        )
    DayPass.objects.filter(pk=day_pass.pk).update(
        state=DayPassState.PAID, ended_at=None, ended_reason=""
    )
    day_pass.state, day_pass.ended_at, day_pass.ended_reason = DayPassState.PAID, None, ""
    gates().machines_changed(machines=day_pass_product_machines(day_pass.product))


def day_pass_cancel(
    *,
    day_pass: DayPass,
    actor: User,
    reason: str,
    refund: bool,
    token: uuid.UUID | None = None,
) -> int:
    """Staff cancel a pass, saying why: it opens nothing from now on (a session running on it
    alone stops). With `refund`, what was paid goes back the way it came (cash as credits).
    Returns the minor units refunded."""
    reason = reason.strip()
    if not reason:
        raise DayPassRefused(_("Say why the pass is cancelled; the reason is kept with it."))
    if not actor.has_perm("membership.record_payment"):
        raise DayPassRefused(_("Only staff who may take payments can cancel day passes."))
    with transaction.atomic():
        submission_claim(token)
        # The pass, then its payments (in payments_refund_all): the order a refund webhook and
        # a staff reversal take them in too (membership.billing.ledger.entry_cause_lock).
        locked = _locked(day_pass.pk)
        if locked.state not in (DayPassState.PAID, DayPassState.AWAITING):
            raise DayPassRefused(
                _("That pass is already %(state)s.") % {"state": locked.get_state_display().lower()}
            )
        why = f"Cancelled by {actor}: {reason}"
        # Ended first: the refunds below find it cancelled and leave it so.
        _pass_end(
            locked,
            state=DayPassState.CANCELLED,
            reason=why,
            message=_("Your day pass was cancelled: %(reason)s") % {"reason": reason},
        )
        if not refund:
            return 0
        return payments_refund_all(cause=locked, kind=Kind.DAY_PASS, actor=actor, reason=why)


def register() -> None:
    payment_handler_register(KIND, _checkout_applied)
    payment_intent_handler_register(KIND, _card_ended)
    payment_changed_handler_register(Kind.DAY_PASS, _payment_changed)
