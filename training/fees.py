"""Class fees: the price of a seat, paying it (Stripe Checkout or cash), the refund policy.

A paid class holds the member's seat while Checkout is open (`fee_due_by`); Stripe's
`checkout.session.expired` releases it to the waitlist. Every payment and refund is a ledger
entry whose cause is the enrollment. docs/billing.md ("Class fees") explains each setting.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.money import money_format
from core.submissions import submission_claim
from membership.billing.config import stripe_enabled
from membership.billing.discounts import DiscountAsked, desk_payment_record
from membership.billing.ledger import (
    LedgerRefused,
    ledger_record,
    ledger_reverse,
)
from membership.billing.models import LedgerEntry
from membership.billing.payments import (
    CheckoutPayment,
    PaymentFor,
    checkout_payment_unapplied,
    payment_checkout_start,
    payment_handler_register,
)
from membership.billing.refunds import payment_duplicate_refund, payments_refund_all
from membership.billing.webhooks import WebhookRejected
from membership.models import Member, User
from training import guests, selectors, services
from training.errors import EnrollmentRejected, NotAllowed
from training.models import (
    ClassSession,
    Enrollment,
    EnrollmentStatus,
    FeeState,
    MemberCertification,
    Outcome,
)

KIND = "class_fee"
Kind, Method = LedgerEntry.Kind, LedgerEntry.Method


def session_fee(session: ClassSession) -> tuple[int, str]:
    """(minor units, currency) of a seat in `session`: its own fee, else its certification's."""
    certification = session.certification
    fee = certification.class_fee_minor if session.fee_minor is None else session.fee_minor
    return fee, certification.class_fee_currency


def full_refund_window() -> timedelta:
    return timedelta(hours=settings.CLASS_FEE_FULL_REFUND_HOURS)


def enrollment_create_paid(
    *, member: Member, session: ClassSession, token: uuid.UUID | None = None
) -> Enrollment:
    """Enroll (or join the waitlist) with the session's fee due. Online, the seat is held for
    the Checkout that follows; at the desk (manual billing) until staff record the payment."""
    with transaction.atomic():
        enrollment = services.enrollment_create(member=member, session=session, token=token)
        fee, currency = session_fee(enrollment.session)
        if fee:
            enrollment.fee_minor, enrollment.fee_currency = fee, currency
            enrollment.fee_state = FeeState.DUE
            holds_seat = enrollment.status == EnrollmentStatus.ENROLLED
            if holds_seat and stripe_enabled():
                enrollment.fee_due_by = timezone.now() + timedelta(minutes=31)
            enrollment.save(update_fields=["fee_minor", "fee_currency", "fee_state", "fee_due_by"])
    return enrollment


def class_fee_checkout(*, enrollment: Enrollment, actor: User) -> str:
    """Start Checkout for the fee of a seat the member holds; returns the URL to send them to."""
    if not stripe_enabled():
        raise EnrollmentRejected(_("This space takes class fees at the front desk."))
    with transaction.atomic():
        locked = (
            Enrollment.objects.select_for_update()
            .select_related("member__user")
            .get(pk=enrollment.pk)
        )
        if locked.member.user_id != actor.pk:
            raise NotAllowed(_("You can only pay for your own seat."))
        if locked.fee_state != FeeState.DUE or locked.status != EnrollmentStatus.ENROLLED:
            raise EnrollmentRejected(_("There is nothing to pay for this enrollment."))
        session = locked.session
        detail = settings.SITE_URL + reverse("training:session_detail", args=[session.pk])
        started = payment_checkout_start(
            member=locked.member,
            kind=KIND,
            reference=str(locked.pk),
            description=f"Class: {session}",
            amount_minor=locked.fee_minor,
            currency=locked.fee_currency,
            success_url=detail + "?checkout=success",
            cancel_url=detail + "?checkout=canceled",
            # The SDK's retries of this one request create one session (the form token already
            # stops a double click from getting here twice).
            idempotency_key=f"toolgate-class-fee-{locked.pk}-{uuid.uuid4().hex[:8]}",
        )
        locked.checkout_session_id = started.session_id
        locked.fee_due_by = started.expires_at
        locked.save(update_fields=["checkout_session_id", "fee_due_by"])
    return started.url


def class_fee_record_cash(
    *,
    enrollment: Enrollment,
    actor: User,
    token: uuid.UUID | None = None,
    discount: DiscountAsked | None = None,
) -> LedgerEntry:
    """Staff took the fee at the desk (less a discount they give, with its reason): the seat is
    paid."""
    if not actor.has_perm("membership.record_payment"):
        raise NotAllowed(_("Only staff who may take payments can record a class fee."))
    with transaction.atomic():
        submission_claim(token)
        locked = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        if locked.fee_state != FeeState.DUE or locked.status == EnrollmentStatus.CANCELLED:
            raise EnrollmentRejected(_("This enrollment has no class fee to pay."))
        entry = desk_payment_record(
            member=locked.member,
            kind=Kind.CLASS_FEE,
            method=Method.CASH,
            list_minor=locked.fee_minor,
            currency=locked.fee_currency,
            cause=locked,
            actor=actor,
            memo=f"Class fee: {locked.session}",
            discount=discount,
        )
        locked.fee_state, locked.fee_due_by = FeeState.PAID, None
        locked.save(update_fields=["fee_state", "fee_due_by"])
    return entry


def _refund_all(enrollment: Enrollment, *, actor: User | None, reason: str) -> int:
    return payments_refund_all(cause=enrollment, kind=Kind.CLASS_FEE, actor=actor, reason=reason)


def enrollment_cancel_refunding(
    *,
    enrollment: Enrollment,
    actor: User,
    override_reason: str = "",
    token: uuid.UUID | None = None,
    now: datetime | None = None,
) -> tuple[Enrollment, int]:
    """Cancel an enrollment and apply the refund policy; returns it and the amount refunded.

    Paid seats are refunded in full up to CLASS_FEE_FULL_REFUND_HOURS before the class, and not
    at all after; staff who manage training may refund anyway, with a reason that is kept.
    """
    override_reason = override_reason.strip()
    if override_reason and not actor.has_perm("training.manage_training"):
        raise NotAllowed(_("Only staff can refund outside the refund policy."))
    with transaction.atomic():
        cancelled = services.enrollment_cancel(enrollment=enrollment, actor=actor, token=token)
        locked = (
            Enrollment.objects.select_for_update().select_related("session").get(pk=cancelled.pk)
        )
        if locked.fee_state != FeeState.PAID:
            if locked.fee_state == FeeState.DUE:
                locked.fee_state, locked.fee_due_by = FeeState.FREE, None
                locked.save(update_fields=["fee_state", "fee_due_by"])
            return locked, 0
        moment = now or timezone.now()
        in_time = locked.session.start - moment >= full_refund_window()
        if not in_time and not override_reason:
            locked.fee_state = FeeState.KEPT
            locked.save(update_fields=["fee_state"])
            return locked, 0
        reason = (
            f"Cancelled {full_refund_window().total_seconds() / 3600:g} h or more before the class"
            if in_time
            else f"Refunded by {actor} outside the policy: {override_reason}"
        )
        refunded = _refund_all(locked, actor=actor, reason=reason)
        locked.fee_state = FeeState.REFUNDED
        locked.save(update_fields=["fee_state"])
    return locked, refunded


def _checkout_applied(payment: CheckoutPayment) -> tuple[str, str]:
    """A class fee's Checkout session completed or expired (called inside the webhook)."""
    try:
        enrollment_id = int(payment.reference)
    except ValueError:
        raise WebhookRejected(f"class fee session names enrollment {payment.reference!r}") from None
    session_id = (
        Enrollment.objects.filter(pk=enrollment_id).values_list("session_id", flat=True).first()
    )
    if session_id is None:
        raise WebhookRejected(f"class fee session for unknown enrollment {enrollment_id}")
    # The class first, then the seat: the order enrollment_cancel takes its locks in.
    ClassSession.objects.locked().get(pk=session_id)
    locked = (
        Enrollment.objects.select_for_update()
        .select_related("session", "member")
        .get(pk=enrollment_id)
    )
    if payment.event_type == "checkout.session.expired":
        return _hold_expired(locked, payment)
    unapplied = checkout_payment_unapplied(payment, currency=locked.fee_currency)
    if unapplied is not None:
        return unapplied
    if payment.amount_total <= 0:
        # A 100 % promotion code: nothing moved, yet the seat is paid for.
        locked.fee_state, locked.fee_due_by = FeeState.PAID, None
        locked.save(update_fields=["fee_state", "fee_due_by"])
        return "applied", "class fee waived by a promotion code"
    if locked.status != EnrollmentStatus.CANCELLED and locked.fee_state != FeeState.DUE:
        # Paid already (a second Checkout from another tab, or cash at the desk meanwhile):
        # this payment goes back to the card; the seat stays as it was.
        paid = PaymentFor(
            locked.member,
            Kind.CLASS_FEE,
            locked,
            payment.amount_total,
            payment.currency,
            f"Class fee: {locked.session} (paid twice)",
        )
        payment_duplicate_refund(
            paid,
            payment_intent_id=payment.payment_intent_id,
            why=f"The seat in {locked.session} was already {locked.get_fee_state_display().lower()}",
        )
        return "applied", (
            f"class fee paid twice: {money_format(payment.amount_total, payment.currency)} refunded"
        )
    try:
        ledger_record(
            member=locked.member,
            kind=Kind.CLASS_FEE,
            method=Method.STRIPE,
            amount_minor=payment.amount_total,
            currency=payment.currency,
            cause=locked,
            stripe_object_id=payment.payment_intent_id,
            memo=f"Class fee: {locked.session}",
        )
    except LedgerRefused as error:
        raise WebhookRejected(str(error)) from None
    if locked.status == EnrollmentStatus.CANCELLED:
        # Paid after the seat went (a hold released by hand, or an old tab): give it back.
        refunded = _refund_all(locked, actor=None, reason="Paid after the seat was released")
        locked.fee_state = FeeState.REFUNDED
        locked.save(update_fields=["fee_state"])
        return "applied", (
            f"paid {money_format(payment.amount_total, payment.currency)} after the seat was "
            f"released: {money_format(refunded, payment.currency)} refunded"
        )
    locked.fee_state, locked.fee_due_by = FeeState.PAID, None
    locked.save(update_fields=["fee_state", "fee_due_by"])
    return "applied", f"class fee paid: seat confirmed in {locked.session}"


def _hold_expired(locked: Enrollment, payment: CheckoutPayment) -> tuple[str, str]:
    if (
        locked.checkout_session_id != payment.session_id
        or locked.fee_state != FeeState.DUE
        or locked.status != EnrollmentStatus.ENROLLED
    ):
        return "unchanged", f"session {payment.session_id} no longer holds the seat"
    _release(locked, now=timezone.now())
    return "applied", f"Checkout expired unpaid: seat in {locked.session} released"


def _release(locked: Enrollment, *, now: datetime) -> None:
    """An unpaid seat goes: the enrollment is cancelled (by nobody) and the waitlist moves up."""
    session = ClassSession.objects.locked().get(pk=locked.session_id)
    locked.status = EnrollmentStatus.CANCELLED
    locked.cancelled_at = now
    locked.fee_state, locked.fee_due_by = FeeState.FREE, None
    locked.save(update_fields=["status", "cancelled_at", "fee_state", "fee_due_by"])
    guests.enrollment_guest_seats_release(locked, actor=None, now=now)
    services.seats_refill(session=session, now=now)


# Stripe sends checkout.session.expired when the session ends; after this long without it the
# periodic job releases the seat itself (a late payment is then refunded automatically).
EXPIRY_EVENT_GRACE = timedelta(hours=1)


def class_fee_holds_release(*, now: datetime) -> int:
    """Release every seat whose fee was not paid by its deadline; returns how many.

    A seat with an open Checkout waits for Stripe's expiry event a little longer. Each release
    is its own transaction, re-checked under the lock (paid meanwhile: kept).
    """
    due = Enrollment.objects.filter(
        status=EnrollmentStatus.ENROLLED, fee_state=FeeState.DUE, fee_due_by__lt=now
    ).values_list("pk", "checkout_session_id", "fee_due_by")
    released = 0
    for pk, checkout_session_id, due_by in due:
        if checkout_session_id and due_by is not None and due_by > now - EXPIRY_EVENT_GRACE:
            continue
        with transaction.atomic():
            session_id = Enrollment.objects.values_list("session_id", flat=True).get(pk=pk)
            ClassSession.objects.locked().get(pk=session_id)  # class, then seat (as cancelling)
            locked = Enrollment.objects.select_for_update().get(pk=pk)
            if (
                locked.status == EnrollmentStatus.ENROLLED
                and locked.fee_state == FeeState.DUE
                and locked.fee_due_by is not None
                and locked.fee_due_by < now
            ):
                _release(locked, now=now)
                released += 1
    return released


def roster_record_charging(
    *,
    session: ClassSession,
    outcomes: dict[int, str],
    actor: User,
    token: uuid.UUID | None = None,
    guests_attended: dict[int, bool | None] | None = None,
) -> list[MemberCertification]:
    """Mark the roster (services.roster_record) and settle no-show fees with it: a member marked
    absent is charged the certification's no-show fee on account, once; marked otherwise later,
    the fee is reversed. Guests are marked present or absent only (their host already paid
    their seat on account; no no-show fee is charged for a guest)."""
    with transaction.atomic():
        grants = services.roster_record(
            session=session,
            outcomes=outcomes,
            actor=actor,
            token=token,
            guests_attended=guests_attended,
        )
        fee = session.certification.no_show_fee_minor
        currency = session.certification.class_fee_currency
        for enrollment in selectors.session_roster(session).select_related("member"):
            charged = LedgerEntry.objects.filter(
                cause_type__app_label="training",
                cause_type__model="enrollment",
                cause_id=enrollment.pk,
                kind=Kind.NO_SHOW_FEE,
                reverses__isnull=True,
                reversed_by__isnull=True,
            ).first()
            absent = enrollment.outcome == Outcome.ABSENT
            if absent and charged is None and fee:
                ledger_record(
                    member=enrollment.member,
                    kind=Kind.NO_SHOW_FEE,
                    method=Method.ACCOUNT,
                    amount_minor=fee,
                    currency=currency,
                    cause=enrollment,
                    recorded_by=actor,
                    memo=f"No-show: {session}",
                )
            elif not absent and charged is not None:
                ledger_reverse(entry=charged, actor=actor, reason="Marked present after all")
    return grants


def register() -> None:
    payment_handler_register(KIND, _checkout_applied)
