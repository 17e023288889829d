"""Actions on enrollments, sign-offs, revocations and training requests. Each one is atomic.

Scheduling classes (single sessions, recurring series, moves, cancellations) is in `scheduling`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from core.gates import gates
from core.submissions import submission_claim
from membership.models import Member, User
from training import notifications, selectors
from training.errors import EnrollmentRejected, NotAllowed, SignOffRejected, TrainingError
from training.models import (
    Certification,
    ClassSession,
    Enrollment,
    EnrollmentStatus,
    LocalCheckout,
    MemberCertification,
    MemberCheckout,
    Outcome,
    TrainingRequest,
)


def _names(certifications: Iterable[Certification]) -> str:
    return ", ".join(str(c) for c in certifications)


def _local(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "DATE_FORMAT")


def _check_not_already_certified(
    member: Member, certification: Certification, now: datetime
) -> None:
    """Holding a grant that does not run out soon makes a class or request pointless."""
    grant = selectors.member_valid_grant(member=member, certification=certification, at=now)
    if grant is None or selectors.grant_state(grant, at=now) == selectors.GrantState.EXPIRING:
        return
    if grant.expires_at is None:
        raise EnrollmentRejected(f"You already hold {certification}; it does not expire.")
    raise EnrollmentRejected(
        f"You already hold {certification} until {_local(grant.expires_at)}; "
        "you can renew it in its last 30 days."
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
            raise EnrollmentRejected(f"This class was cancelled: {locked.cancel_reason}")
        if locked.start <= now:
            raise EnrollmentRejected("This class has already started; pick an upcoming one.")
        if locked.instructor_id == member.user_id:
            raise EnrollmentRejected("You teach this class; you cannot enroll in it.")
        existing = selectors.member_active_enrollment(member, locked)
        if existing is not None:
            if existing.status == EnrollmentStatus.WAITLISTED:
                position = selectors.waitlist_position(existing)
                raise EnrollmentRejected(
                    f"You are already on the waitlist of this class (position {position})."
                )
            raise EnrollmentRejected("You are already enrolled in this class.")
        missing = selectors.member_missing_prerequisites(
            member=member, certification=certification, at=now
        )
        if missing:
            raise EnrollmentRejected(
                f"{certification} needs {_names(missing)} first. Take that class before this one."
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
            raise EnrollmentRejected("You are already enrolled in this class.") from None
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
            raise NotAllowed("You can only cancel your own enrollment.")
        if locked.status == EnrollmentStatus.CANCELLED:
            raise EnrollmentRejected("This enrollment is already cancelled.")
        now = timezone.now()
        if session.start <= now:
            raise EnrollmentRejected("The class has started; the enrollment can't be cancelled.")
        had_seat = locked.status == EnrollmentStatus.ENROLLED
        locked.status = EnrollmentStatus.CANCELLED
        locked.cancelled_at = now
        locked.cancelled_by = actor
        locked.save(update_fields=["status", "cancelled_at", "cancelled_by"])
        if had_seat:
            _promote_from_waitlist(session, now)
    return locked


def _promote_from_waitlist(session: ClassSession, now: datetime) -> list[Enrollment]:
    """Fill free seats from the head of the waitlist; the caller holds the session lock."""
    promoted = []
    free = selectors.session_seats_free(session)
    for enrollment in selectors.session_waitlist(session)[:free]:
        enrollment.status = EnrollmentStatus.ENROLLED
        enrollment.promoted_at = now
        enrollment.save(update_fields=["status", "promoted_at"])
        _fulfil_requests(enrollment.member, session.certification, now)
        notifications.promotion_notify.delay_on_commit(enrollment.pk)
        promoted.append(enrollment)
    return promoted


def _require_sign_off_right(actor: User, certification: Certification) -> None:
    if not selectors.user_can_sign_off(actor, certification):
        raise NotAllowed(f"Only an instructor of {certification} or training staff can sign off.")


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
            raise SignOffRejected("Nobody can certify themselves; ask another instructor.")
        if session is None and not note:
            raise SignOffRejected(
                "Say how you checked the member: a one-to-one sign-off needs a note."
            )
        now = timezone.now()
        missing = selectors.member_missing_prerequisites(
            member=member, certification=certification, at=now
        )
        if missing:
            raise SignOffRejected(
                f"{certification} needs {_names(missing)} first, and {member} does not hold it."
            )
        grant = MemberCertification.objects.create(
            member=member,
            certification=certification,
            granted_by=actor,
            granted_at=now,
            expires_at=now + relativedelta(months=certification.validity_months)
            if certification.validity_months
            else None,
            session=session,
            note=note,
        )
        _fulfil_requests(member, certification, now)
    return grant


def roster_record(
    *,
    session: ClassSession,
    outcomes: dict[int, str],
    actor: User,
    token: uuid.UUID | None = None,
) -> list[MemberCertification]:
    """Mark attendance and results for the enrolled members; every pass grants the certification.

    All or nothing: one refused sign-off leaves the whole roster as it was.
    """
    with transaction.atomic():
        submission_claim(token)
        locked = ClassSession.objects.locked().select_related("certification").get(pk=session.pk)
        certification = locked.certification
        _require_sign_off_right(actor, certification)
        now = timezone.now()
        if locked.is_cancelled:
            raise SignOffRejected("This class was cancelled; there is no roster to mark.")
        if locked.start > now:
            raise SignOffRejected("Attendance can be marked once the class has started.")
        enrollments = {e.pk: e for e in selectors.session_roster(locked)}
        grants = []
        for pk, outcome in outcomes.items():
            enrollment = enrollments.get(pk)
            if enrollment is None:
                raise SignOffRejected("That person does not have a seat in this class.")
            if outcome not in Outcome.values or outcome == Outcome.PENDING:
                continue
            if enrollment.outcome == Outcome.PASSED:
                if outcome != Outcome.PASSED:
                    raise SignOffRejected(
                        f"{enrollment.member} already passed; revoke the certification "
                        "instead of changing the mark."
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
    return grants


def certification_revoke(
    *, grant: MemberCertification, reason: str, actor: User, token: uuid.UUID | None = None
) -> MemberCertification:
    """Withdraw a grant (a safety incident); the record stays and the gate is told."""
    reason = reason.strip()
    if not reason:
        raise TrainingError("Say why the certification is revoked; the reason is kept.")
    with transaction.atomic():
        submission_claim(token)
        locked = (
            MemberCertification.objects.select_for_update(of=("self",))
            .select_related("certification", "member")
            .get(pk=grant.pk)
        )
        if not selectors.user_can_sign_off(actor, locked.certification):
            raise NotAllowed(
                f"Only an instructor of {locked.certification} or training staff can revoke it."
            )
        if locked.revoked_at is not None:
            raise TrainingError("This certification is already revoked.")
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor
        locked.revoke_reason = reason
        locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        member, certification = locked.member, locked.certification
        gates().member_lost_access(
            member=member,
            reason="certification_revoked",
            message=f"Your {certification} certification was revoked.",
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
                f"You asked for {certification} on {_local(existing.created_at)}; "
                "staff will schedule a class."
            )
        try:
            with transaction.atomic():
                return TrainingRequest.objects.create(
                    member=member, certification=certification, created_at=now
                )
        except IntegrityError:
            raise TrainingError(f"You already asked for {certification}.") from None


def checkout_grant(
    *, member: Member, checkout: LocalCheckout, actor: User, note: str = ""
) -> MemberCheckout:
    """Give `member` a local check-out; the gates of the machines needing it get new lists."""
    if not actor.has_perm("training.manage_training"):
        raise NotAllowed("Only training staff can give local check-outs.")
    with transaction.atomic():
        if MemberCheckout.objects.filter(
            member=member, checkout=checkout, revoked_at__isnull=True
        ).exists():
            raise TrainingError(f"{member} already holds the {checkout.name}.")
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
        raise TrainingError("Say why the check-out is revoked; the reason is kept.")
    if not actor.has_perm("training.manage_training"):
        raise NotAllowed("Only training staff can revoke local check-outs.")
    with transaction.atomic():
        locked = (
            MemberCheckout.objects.select_for_update(of=("self",))
            .select_related("checkout", "member")
            .get(pk=grant.pk)
        )
        if locked.revoked_at is not None:
            raise TrainingError("This check-out is already revoked.")
        locked.revoked_at, locked.revoked_by, locked.revoke_reason = timezone.now(), actor, reason
        locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        gates().member_lost_access(
            member=locked.member,
            reason="checkout_revoked",
            message=f"Your {locked.checkout.name} was revoked.",
            machines=list(locked.checkout.machines.all()),
        )
    return locked
