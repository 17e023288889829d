"""Actions on enrollments, sign-offs, revocations and training requests. Each one is atomic.

Scheduling classes (single sessions, recurring series, moves, cancellations) is in `scheduling`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core import events, formats
from core.gates import gates
from core.setup import setup_change_record, setup_snapshot
from core.submissions import submission_claim
from core.time import local_midnight
from membership.billing.config import stripe_enabled
from membership.models import Member, User
from staffing.services import require_head_office
from training import guests, notifications, selectors
from training.errors import EnrollmentRejected, NotAllowed, SignOffRejected, TrainingError
from training.models import (
    Certification,
    ClassSession,
    Enrollment,
    EnrollmentStatus,
    FeeState,
    GuestSeat,
    LocalCheckout,
    MemberCertification,
    MemberCheckout,
    Outcome,
    TrainingRequest,
)


def _names(certifications: Iterable[Certification]) -> str:
    return ", ".join(str(c) for c in certifications)


def _local(moment: datetime) -> str:
    return formats.format_date(moment)


def _check_not_already_certified(
    member: Member, certification: Certification, now: datetime
) -> None:
    """Holding a grant that does not run out soon makes a class or request pointless."""
    grant = selectors.member_valid_grant(member=member, certification=certification, at=now)
    if grant is None or selectors.grant_state(grant, at=now) == selectors.GrantState.EXPIRING:
        return
    if grant.expires_at is None:
        raise EnrollmentRejected(
            _("You already hold %(certification)s; it does not expire.")
            % {"certification": certification}
        )
    raise EnrollmentRejected(
        _(
            "You already hold %(certification)s until %(date)s; you can renew it in its last "
            "30 days."
        )
        % {"certification": certification, "date": _local(grant.expires_at)}
    )


def _fulfil_requests(member: Member, certification: Certification, now: datetime) -> None:
    TrainingRequest.objects.filter(
        member=member, certification=certification, fulfilled_at__isnull=True
    ).update(fulfilled_at=now)


def enrollment_create(
    *, member: Member, session: ClassSession, token: uuid.UUID | None = None
) -> Enrollment:
    """Take a seat in `session`, or a place on its waitlist when it is full.

    The session row is locked for the count-then-insert, so two members racing for the last
    seat are served one after the other: one gets the seat, the other the waitlist.
    """
    with transaction.atomic():
        submission_claim(token)
        locked = ClassSession.objects.locked().select_related("certification").get(pk=session.pk)
        now = timezone.now()
        certification = locked.certification
        if locked.is_cancelled:
            raise EnrollmentRejected(
                _("This class was cancelled: %(cancel_reason)s")
                % {"cancel_reason": locked.cancel_reason}
            )
        if locked.start <= now:
            raise EnrollmentRejected(_("This class has already started; pick an upcoming one."))
        if locked.instructor_id == member.user_id:
            raise EnrollmentRejected(_("You teach this class; you cannot enroll in it."))
        existing = selectors.member_active_enrollment(member, locked)
        if existing is not None:
            if existing.status == EnrollmentStatus.WAITLISTED:
                position = selectors.waitlist_position(existing)
                raise EnrollmentRejected(
                    _("You are already on the waitlist of this class (position %(position)s).")
                    % {"position": position}
                )
            raise EnrollmentRejected(_("You are already enrolled in this class."))
        missing = selectors.member_missing_prerequisites(
            member=member, certification=certification, at=now
        )
        if missing:
            raise EnrollmentRejected(
                _("%(certification)s needs %(names)s first. Take that class before this one.")
                % {"certification": certification, "names": _names(missing)}
            )
        _check_not_already_certified(member, certification, now)
        full = not selectors.session_seats_free(locked)
        try:
            with transaction.atomic():
                enrollment = Enrollment.objects.create(
                    session=locked,
                    member=member,
                    status=EnrollmentStatus.WAITLISTED if full else EnrollmentStatus.ENROLLED,
                    created_at=now,
                )
        except IntegrityError:
            # A double click that slipped past the token check: the constraint is the judge.
            raise EnrollmentRejected(_("You are already enrolled in this class.")) from None
        if not full:
            _fulfil_requests(member, certification, now)
    return enrollment


def enrollment_cancel(
    *, enrollment: Enrollment, actor: User, token: uuid.UUID | None = None
) -> Enrollment:
    """Give up a seat or a waitlist place before the class starts; a freed seat goes to the
    first on the waitlist, who is told by email."""
    with transaction.atomic():
        submission_claim(token)
        session = ClassSession.objects.locked().get(pk=enrollment.session_id)
        locked = Enrollment.objects.select_related("member").get(pk=enrollment.pk)
        if locked.member.user_id != actor.pk and not actor.has_perm(
            "training.manage_training", session
        ):
            raise NotAllowed(_("You can only cancel your own enrollment."))
        if locked.status == EnrollmentStatus.CANCELLED:
            raise EnrollmentRejected(_("This enrollment is already cancelled."))
        now = timezone.now()
        if session.start <= now:
            raise EnrollmentRejected(_("The class has started; the enrollment can't be cancelled."))
        had_seat = locked.status == EnrollmentStatus.ENROLLED
        locked.status = EnrollmentStatus.CANCELLED
        locked.cancelled_at = now
        locked.cancelled_by = actor
        locked.save(update_fields=["status", "cancelled_at", "cancelled_by"])
        guests.enrollment_guest_seats_release(locked, actor=actor, now=now)
        if had_seat:
            _promote_from_waitlist(session, now)
    return locked


def seats_refill(*, session: ClassSession, now: datetime) -> list[Enrollment]:
    """A seat was freed outside enrollment_cancel (an unpaid hold released): the waitlist moves
    up. The caller holds the session lock."""
    return _promote_from_waitlist(session, now)


def _promote_from_waitlist(session: ClassSession, now: datetime) -> list[Enrollment]:
    """Fill free seats from the head of the waitlist; the caller holds the session lock."""
    promoted = []
    free = selectors.session_seats_free(session)
    for enrollment in selectors.session_waitlist(session)[:free]:
        enrollment.status = EnrollmentStatus.ENROLLED
        enrollment.promoted_at = now
        if enrollment.fee_state == FeeState.DUE and stripe_enabled():
            # A pay-by deadline (the email links to the class page's Pay button); unpaid by
            # then, the seat passes on (training.fees.class_fee_holds_release).
            pay_by = now + timedelta(hours=settings.CLASS_FEE_PAY_BY_HOURS)
            enrollment.fee_due_by = min(pay_by, session.start)
        enrollment.save(update_fields=["status", "promoted_at", "fee_due_by"])
        _fulfil_requests(enrollment.member, session.certification, now)
        notifications.promotion_notify.delay_on_commit(enrollment.pk)
        promoted.append(enrollment)
    return promoted


def grant_expiry(
    certification: Certification, *, granted_at: datetime
) -> tuple[datetime | None, datetime | None]:
    """(expires_at, expires_at_latest) of a grant made at `granted_at`.

    The latest end is the earlier of the validity in months and the end of the fixed date
    (local midnight after it); a certification that lapses when unused expires that many days
    after the grant at first, and each use moves it on (`certification_used`), up to the latest.
    """
    ends = []
    if certification.validity_months:
        ends.append(granted_at + relativedelta(months=certification.validity_months))
    if certification.valid_until is not None:
        ends.append(
            local_midnight(
                certification.valid_until + timedelta(days=1), timezone.get_current_timezone()
            )
        )
    latest = min(ends) if ends else None
    if certification.lapses_after_days_unused is None:
        return latest, latest
    unused_end = granted_at + timedelta(days=certification.lapses_after_days_unused)
    return (min(unused_end, latest) if latest else unused_end), latest


def certification_used(*, member: Member, certification_id: int, at: datetime) -> int:
    """`member` switched on a machine needing `certification_id` at `at`: each of their grants
    of it and of its prerequisites (down the chain) that lapses when unused, and is valid at
    `at`, now expires that many days after `at`, never past its latest end. Returns how many
    grants moved on. The gate bridge calls it when a session starts."""
    chain, todo = set(), {certification_id}
    while todo:
        chain |= todo
        todo = (
            set(
                Certification.prerequisites.through.objects.filter(
                    from_certification_id__in=todo
                ).values_list("to_certification_id", flat=True)
            )
            - chain
        )
    moved = 0
    grants = selectors.certification_grants_valid_at(at=at).filter(
        member=member,
        certification_id__in=chain,
        certification__lapses_after_days_unused__isnull=False,
    )
    for grant in grants.select_related("certification"):
        days = grant.certification.lapses_after_days_unused
        assert days is not None  # filtered above
        end = at + timedelta(days=days)
        if grant.expires_at_latest is not None:
            end = min(end, grant.expires_at_latest)
        if grant.expires_at is None or end > grant.expires_at:
            moved += MemberCertification.objects.filter(pk=grant.pk).update(expires_at=end)
    return moved


def _require_sign_off_right(actor: User, certification: Certification) -> None:
    if not selectors.user_can_sign_off(actor, certification):
        raise NotAllowed(
            _("Only an instructor of %(certification)s or training staff can sign off.")
            % {"certification": certification}
        )


def certification_grant(
    *,
    member: Member,
    certification: Certification,
    actor: User,
    session: ClassSession | None = None,
    note: str = "",
    token: uuid.UUID | None = None,
) -> MemberCertification:
    """Certify `member`: after a class (with its session) or one-to-one (with a note).

    Earlier grants stay as history; a renewal simply adds a newer grant.
    """
    note = note.strip()
    with transaction.atomic():
        submission_claim(token)
        _require_sign_off_right(actor, certification)
        if member.user_id == actor.pk:
            raise SignOffRejected(_("Nobody can certify themselves; ask another instructor."))
        if session is None and not note:
            raise SignOffRejected(
                _("Say how you checked the member: a one-to-one sign-off needs a note.")
            )
        now = timezone.now()
        missing = selectors.member_missing_prerequisites(
            member=member, certification=certification, at=now
        )
        if missing:
            raise SignOffRejected(
                _("%(certification)s needs %(names)s first, and %(member)s does not hold it.")
                % {"certification": certification, "names": _names(missing), "member": member}
            )
        expires_at, latest = grant_expiry(certification, granted_at=now)
        if expires_at is not None and expires_at <= now:
            raise SignOffRejected(
                _(
                    "%(certification)s ended on %(date)s; set a new end date on its setup page "
                    "first."
                )
                % {
                    "certification": certification,
                    "date": format(certification.valid_until, "%d %b %Y"),
                }
            )
        grant = MemberCertification.objects.create(
            member=member,
            certification=certification,
            granted_by=actor,
            granted_at=now,
            expires_at=expires_at,
            expires_at_latest=latest,
            session=session,
            note=note,
        )
        _fulfil_requests(member, certification, now)
        events.emit(events.CERTIFICATION_GRANTED, grant)
    return grant


def roster_record(
    *,
    session: ClassSession,
    outcomes: dict[int, str],
    actor: User,
    token: uuid.UUID | None = None,
    guests_attended: dict[int, bool | None] | None = None,
) -> list[MemberCertification]:
    """Mark attendance and results for the enrolled members; every pass grants the certification.
    Guests on members' seats (`guests_attended`, by guest seat) are marked present or absent
    only: a guest is not a member, so attending certifies nobody.

    All or nothing: one refused sign-off leaves the whole roster as it was.
    """
    with transaction.atomic():
        submission_claim(token)
        locked = ClassSession.objects.locked().select_related("certification").get(pk=session.pk)
        certification = locked.certification
        _require_sign_off_right(actor, certification)
        if not selectors.user_can_mark_roster(actor, locked):
            raise NotAllowed(
                _(
                    "You do not teach at %(location)s: the class's own instructor, an instructor "
                    "there or its training staff mark this roster."
                )
                % {"location": locked.location}
            )
        now = timezone.now()
        if locked.is_cancelled:
            raise SignOffRejected(_("This class was cancelled; there is no roster to mark."))
        if locked.start > now:
            raise SignOffRejected(_("Attendance can be marked once the class has started."))
        enrollments = {e.pk: e for e in selectors.session_roster(locked)}
        grants = []
        for pk, outcome in outcomes.items():
            enrollment = enrollments.get(pk)
            if enrollment is None:
                raise SignOffRejected(_("That person does not have a seat in this class."))
            if outcome not in Outcome.values or outcome == Outcome.PENDING:
                continue
            if enrollment.outcome == Outcome.PASSED:
                if outcome != Outcome.PASSED:
                    raise SignOffRejected(
                        _(
                            "%(member)s already passed; revoke the certification instead of changing the mark."
                        )
                        % {"member": enrollment.member}
                    )
                continue
            if outcome == Outcome.PASSED:
                grants.append(
                    certification_grant(
                        member=enrollment.member,
                        certification=certification,
                        actor=actor,
                        session=locked,
                    )
                )
            enrollment.outcome = outcome
            enrollment.marked_by = actor
            enrollment.marked_at = now
            enrollment.save(update_fields=["outcome", "marked_by", "marked_at"])
        seats = {seat.pk: seat for seat in selectors.session_guest_seats(locked)}
        for pk, attended in (guests_attended or {}).items():
            seat = seats.get(pk)
            if seat is None:
                raise SignOffRejected(_("That guest does not have a seat in this class."))
            if attended is not None and attended != seat.attended:
                GuestSeat.objects.filter(pk=seat.pk).update(
                    attended=attended, marked_by=actor, marked_at=now
                )
    return grants


def certification_revoke(
    *, grant: MemberCertification, reason: str, actor: User, token: uuid.UUID | None = None
) -> MemberCertification:
    """Withdraw a grant (a safety incident); the record stays and the gate is told."""
    reason = reason.strip()
    if not reason:
        raise TrainingError(_("Say why the certification is revoked; the reason is kept."))
    with transaction.atomic():
        submission_claim(token)
        locked = (
            MemberCertification.objects.select_for_update(of=("self",))
            .select_related("certification", "member")
            .get(pk=grant.pk)
        )
        if not selectors.user_can_sign_off(actor, locked.certification):
            raise NotAllowed(
                _("Only an instructor of %(certification)s or training staff can revoke it.")
                % {"certification": locked.certification}
            )
        if locked.revoked_at is not None:
            raise TrainingError(_("This certification is already revoked."))
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor
        locked.revoke_reason = reason
        locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        member, certification = locked.member, locked.certification
        events.emit(events.CERTIFICATION_REVOKED, locked)
        gates().member_lost_access(
            member=member,
            reason="certification_revoked",
            message=_("Your %(certification)s certification was revoked.")
            % {"certification": certification},
            machines=list(certification.machines.all()),
        )
    return locked


def training_request_create(
    *, member: Member, certification: Certification, token: uuid.UUID | None = None
) -> TrainingRequest:
    """Record that `member` wants a class of `certification`; staff see the queue."""
    with transaction.atomic():
        submission_claim(token)
        now = timezone.now()
        _check_not_already_certified(member, certification, now)
        existing = member.training_requests.filter(
            certification=certification, fulfilled_at__isnull=True
        ).first()
        if existing is not None:
            raise TrainingError(
                _("You asked for %(certification)s on %(date)s; staff will schedule a class.")
                % {"certification": certification, "date": _local(existing.created_at)}
            )
        try:
            with transaction.atomic():
                return TrainingRequest.objects.create(
                    member=member, certification=certification, created_at=now
                )
        except IntegrityError:
            raise TrainingError(
                _("You already asked for %(certification)s.") % {"certification": certification}
            ) from None


def checkout_grant(
    *, member: Member, checkout: LocalCheckout, actor: User, note: str = ""
) -> MemberCheckout:
    """Give `member` a local check-out; the gates of the machines needing it get new lists."""
    if not actor.has_perm("training.manage_training"):
        raise NotAllowed(_("Only training staff can give local check-outs."))
    with transaction.atomic():
        if MemberCheckout.objects.filter(
            member=member, checkout=checkout, revoked_at__isnull=True
        ).exists():
            raise TrainingError(
                _("%(member)s already holds the %(checkout)s.")
                % {"member": member, "checkout": checkout.name}
            )
        grant = MemberCheckout.objects.create(
            member=member, checkout=checkout, granted_by=actor, note=note.strip()
        )
        gates().machines_changed(machines=list(checkout.machines.all()))
    return grant


def checkout_revoke(*, grant: MemberCheckout, reason: str, actor: User) -> MemberCheckout:
    """Withdraw a local check-out; the record stays, and the member's sessions on the machines
    needing it stop and the gates' lists drop them, at once (the outbox)."""
    reason = reason.strip()
    if not reason:
        raise TrainingError(_("Say why the check-out is revoked; the reason is kept."))
    if not actor.has_perm("training.manage_training"):
        raise NotAllowed(_("Only training staff can revoke local check-outs."))
    with transaction.atomic():
        locked = (
            MemberCheckout.objects.select_for_update(of=("self",))
            .select_related("checkout", "member")
            .get(pk=grant.pk)
        )
        if locked.revoked_at is not None:
            raise TrainingError(_("This check-out is already revoked."))
        locked.revoked_at, locked.revoked_by, locked.revoke_reason = timezone.now(), actor, reason
        locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        gates().member_lost_access(
            member=locked.member,
            reason="checkout_revoked",
            message=_("Your %(checkout)s was revoked.") % {"checkout": locked.checkout.name},
            machines=list(locked.checkout.machines.all()),
        )
    return locked


# -- setup: certifications (training staff, recorded as SetupChange) -----------------------

CERTIFICATION_FIELDS = [
    "name",
    "description",
    "validity_months",
    "valid_until",
    "lapses_after_days_unused",
    "prerequisites",
    "instructors",
]


def _prerequisite_loop(certification: Certification, prerequisites: set[int]) -> bool:
    """Would `certification` end up among its own prerequisites (directly or down the chain)?"""
    if certification.pk is None:
        return False
    seen, todo = set(), set(prerequisites)
    while todo:
        current = todo.pop()
        if current == certification.pk:
            return True
        seen.add(current)
        todo |= (
            set(
                Certification.prerequisites.through.objects.filter(
                    from_certification_id=current
                ).values_list("to_certification_id", flat=True)
            )
            - seen
        )
    return False


def certification_save(
    *,
    certification: Certification,
    prerequisites: Iterable[Certification],
    instructors: Iterable[User],
    actor: User | None,
    token: uuid.UUID | None = None,
) -> Certification:
    """Add `certification` or store staff's changes (its fields already set), recorded.

    A new validity applies to grants made from now on. New prerequisites change who may use
    the machines down the chain: every gate's offline list is renewed in this transaction.
    """
    if actor is not None and not actor.has_perm("training.manage_training"):
        raise NotAllowed(_("Only training staff can set up certifications."))
    if actor is not None:
        require_head_office(user=actor, what="set up a certification")
    certification.name = certification.name.strip()
    if not certification.name:
        raise TrainingError(_("Name the certification."))
    prerequisite_ids = {c.pk for c in prerequisites}
    if certification.pk in prerequisite_ids or _prerequisite_loop(certification, prerequisite_ids):
        raise TrainingError(
            _("%(certification)s cannot need itself, not even through another certification.")
            % {"certification": certification.name}
        )
    if not certification.slug:
        certification.slug = slugify(certification.name)[:50] or "certification"
    with transaction.atomic():
        submission_claim(token)
        before = None
        if certification.pk is not None:
            locked = Certification.objects.select_for_update().get(pk=certification.pk)
            before = setup_snapshot(locked, CERTIFICATION_FIELDS)
        try:
            with transaction.atomic():
                certification.save()
        except IntegrityError:
            raise TrainingError(
                _("Another certification is already called %(certification)s.")
                % {"certification": certification.name}
            ) from None
        certification.prerequisites.set(prerequisite_ids)
        certification.instructors.set([user.pk for user in instructors])
        after = setup_snapshot(certification, CERTIFICATION_FIELDS)
        setup_change_record(
            subject_type="certification",
            subject=certification,
            actor=actor,
            before=before,
            after=after,
        )
        if before is not None and before["prerequisites"] != after["prerequisites"]:
            gates().every_machine_changed()
    return certification
