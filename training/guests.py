"""Guests: someone a member registers (name, email, the current waiver signed) and brings to a
class, on a seat of the class taken on the member's own enrollment.

A guest's seat counts against the class's seats (training.selectors.sessions_with_seats) while
the host's seat holds; it goes with the host's seat. In a paid class the guest's fee is charged
to the host on account (their statement, or the next invoice's desk settlement) and reversed if
the seat is given up before the class. docs/training.md ("Guests").
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.submissions import submission_claim
from membership.billing.ledger import ledger_record, ledger_reverse
from membership.billing.models import LedgerEntry
from membership.models import Member, User
from membership.selectors import waiver_current
from training import selectors
from training.errors import EnrollmentRejected, NotAllowed
from training.models import ClassSession, Enrollment, EnrollmentStatus, Guest, GuestSeat

Kind, Method = LedgerEntry.Kind, LedgerEntry.Method


def guest_register(
    *,
    host: Member,
    name: str,
    email: str,
    signed_name: str,
    token: uuid.UUID | None = None,
) -> Guest:
    """Register a guest with the current waiver signed in their name (typed by the guest on
    the host's device, as members sign it). The same email again signs the current waiver anew."""
    name, email, signed_name = name.strip(), email.strip().lower(), signed_name.strip()
    if not name or not email:
        raise EnrollmentRejected(_("A guest needs a name and an email."))
    if signed_name.casefold() != name.casefold():
        raise EnrollmentRejected(
            _("%(name)s signs the waiver by typing their own full name.") % {"name": name}
        )
    waiver = waiver_current()
    if waiver is None:
        raise EnrollmentRejected(_("There is no safety waiver to sign yet; ask the front desk."))
    with transaction.atomic():
        submission_claim(token)
        now = timezone.now()
        guest, created = Guest.objects.get_or_create(
            host=host,
            email=email,
            defaults={"name": name, "waiver": waiver, "signed_name": signed_name, "signed_at": now},
        )
        if not created:
            Guest.objects.filter(pk=guest.pk).update(
                name=name, waiver=waiver, signed_name=signed_name, signed_at=now
            )
            guest.refresh_from_db()
    return guest


def guest_seat_add(
    *, enrollment: Enrollment, guest: Guest, actor: User, token: uuid.UUID | None = None
) -> GuestSeat:
    """Bring `guest` to the class of the host's `enrollment`, on a free seat; refused when the
    class is full (guests do not wait on the waitlist), has started, or the guest's waiver is
    not the current one."""
    with transaction.atomic():
        submission_claim(token)
        session = (
            ClassSession.objects.locked()
            .select_related("certification")
            .get(pk=enrollment.session_id)
        )
        locked = (
            Enrollment.objects.select_for_update().select_related("member").get(pk=enrollment.pk)
        )
        if locked.member.user_id != actor.pk or guest.host_id != locked.member_id:
            raise NotAllowed(_("You can only bring your own guests on your own seat."))
        if locked.status != EnrollmentStatus.ENROLLED:
            raise EnrollmentRejected(_("Bring a guest once you hold a seat in the class."))
        if session.is_cancelled or session.start <= timezone.now():
            raise EnrollmentRejected(_("Guests are added before the class starts."))
        current = waiver_current()
        if current is None or guest.waiver_id != current.pk:
            raise EnrollmentRejected(
                _("%(name)s signed an older waiver: register them again to sign the new one.")
                % {"name": guest.name}
            )
        if not selectors.session_seats_free(session):
            raise EnrollmentRejected(_("No seat is left for a guest in this class."))
        try:
            with transaction.atomic():
                seat = GuestSeat.objects.create(
                    enrollment=locked, guest=guest, created_at=timezone.now()
                )
        except IntegrityError:
            raise EnrollmentRejected(
                _("%(name)s already has a seat in this class.") % {"name": guest.name}
            ) from None
        if locked.fee_minor:
            ledger_record(
                member=locked.member,
                kind=Kind.CLASS_FEE,
                method=Method.ACCOUNT,
                amount_minor=locked.fee_minor,
                currency=locked.fee_currency,
                cause=seat,
                recorded_by=actor,
                memo=f"Guest {guest.name}: {session}",
            )
    return seat


def guest_bring(
    *,
    enrollment: Enrollment,
    name: str,
    email: str,
    signed_name: str,
    actor: User,
    token: uuid.UUID | None = None,
) -> GuestSeat:
    """Register a guest (or sign the current waiver for one already registered) and seat them on
    the host's enrollment, together: refused, neither happens."""
    with transaction.atomic():
        submission_claim(token)
        host = Enrollment.objects.select_related("member").get(pk=enrollment.pk).member
        if host.user_id != actor.pk:
            raise NotAllowed(_("You can only bring your own guests on your own seat."))
        guest = guest_register(host=host, name=name, email=email, signed_name=signed_name)
        return guest_seat_add(enrollment=enrollment, guest=guest, actor=actor)


def guest_seat_cancel(*, seat: GuestSeat, actor: User, token: uuid.UUID | None = None) -> GuestSeat:
    """Give up a guest's seat before the class; its fee on account is reversed."""
    with transaction.atomic():
        submission_claim(token)
        enrollment = Enrollment.objects.select_related("member", "session").get(
            pk=seat.enrollment_id
        )
        ClassSession.objects.locked().get(pk=enrollment.session_id)
        if enrollment.member.user_id != actor.pk and not actor.has_perm(
            "training.manage_training", enrollment.session
        ):
            raise NotAllowed(_("Only the host or the class's staff can give up a guest's seat."))
        if enrollment.session.start <= timezone.now():
            raise EnrollmentRejected(_("The class has started; the guest's seat stays."))
        locked = GuestSeat.objects.select_for_update().get(pk=seat.pk)
        if locked.cancelled_at is not None:
            raise EnrollmentRejected(_("That guest's seat was already given up."))
        guest_seats_release([locked], actor=actor, now=timezone.now())
        locked.refresh_from_db()
    return locked


def guest_seats_release(seats: list[GuestSeat], *, actor: User | None, now: datetime) -> None:
    """The seats go (given up, or with the host's seat): each is marked cancelled and its fee on
    account reversed, once. Inside the caller's transaction, under the session's lock."""
    for seat in seats:
        GuestSeat.objects.filter(pk=seat.pk, cancelled_at__isnull=True).update(cancelled_at=now)
        charged = LedgerEntry.objects.filter(
            cause_type__app_label="training",
            cause_type__model="guestseat",
            cause_id=seat.pk,
            kind=Kind.CLASS_FEE,
            reverses__isnull=True,
            reversed_by__isnull=True,
        ).first()
        if charged is not None:
            ledger_reverse(entry=charged, actor=actor, reason="the guest's seat was given up")


def enrollment_guest_seats_release(
    enrollment: Enrollment, *, actor: User | None, now: datetime
) -> None:
    """The host's seat went: their guests' seats go with it."""
    guest_seats_release(
        list(enrollment.guest_seats.filter(cancelled_at__isnull=True)), actor=actor, now=now
    )
