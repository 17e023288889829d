"""Read-only questions about certifications, classes and demand; access and bookings ask these."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, TypedDict

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet
from django.db.models.functions import Greatest
from django.utils.translation import gettext_lazy as _

from membership.models import Member, User
from staffing.selectors import teaching_scope
from training.models import (
    Certification,
    ClassSession,
    Enrollment,
    EnrollmentStatus,
    GuestSeat,
    MemberCertification,
    MemberCheckout,
    TrainingRequest,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class SeatCounts(TypedDict):
    """What `sessions_with_seats` annotates on each session."""

    seats_taken: int
    waitlisted: int
    seats_free: int


# A grant this close to its expiry shows as "expiring soon", may be renewed in a class, and earns
# its holder a reminder email.
EXPIRING_SOON = timedelta(days=30)


class GrantState:
    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    REVOKED = "revoked"
    LABELS = {
        VALID: _("Valid"),
        EXPIRING: _("Expiring soon"),
        EXPIRED: _("Expired"),
        REVOKED: _("Revoked"),
    }


def certification_grants_valid_at(*, at: datetime) -> QuerySet[MemberCertification]:
    """Grants given by `at` and neither revoked nor expired at `at`.

    A grant revoked later still counts for an earlier instant, so questions about the past
    (was this session allowed?) get the answer that held then.
    """
    return MemberCertification.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=at),
        Q(revoked_at__isnull=True) | Q(revoked_at__gt=at),
        granted_at__lte=at,
    )


def member_holds_certification(
    *, member: Member, certification: Certification, at: datetime
) -> bool:
    """Is `member` certified for `certification` at the instant `at`."""
    return (
        certification_grants_valid_at(at=at)
        .filter(member=member, certification=certification)
        .exists()
    )


def member_holds_certifications(
    *, member: Member, certifications: Iterable[Certification], at: datetime
) -> set[int]:
    """The ids of those of `certifications` that `member` holds at `at`: one query for many."""
    return set(
        certification_grants_valid_at(at=at)
        .filter(member=member, certification__in=list(certifications))
        .values_list("certification_id", flat=True)
    )


class NeedsCertification(Protocol):
    """Equipment's Machine, as training sees it (training does not import equipment)."""

    @property
    def required_certification_id(self) -> int | None: ...


def member_certified_for_machine(
    *, member: Member, machine: NeedsCertification, at: datetime
) -> bool:
    """Is `member` certified on `machine` at `at`: the access decision asks this.

    `machine` is anything with a `required_certification_id` (equipment's Machine); training does
    not import equipment. A machine that requires no certification needs none.
    """
    certification_id = machine.required_certification_id
    if certification_id is None:
        return True
    return (
        certification_grants_valid_at(at=at)
        .filter(member=member, certification_id=certification_id)
        .exists()
    )


def certification_grants_held(
    *, member_ids: Iterable[int], certification_ids: Iterable[int]
) -> dict[tuple[int, int], list[MemberCertification]]:
    """Every grant, valid or not, of these certifications to these members, by (member id,
    certification id): one query, for deciding many questions at different instants."""
    grants: dict[tuple[int, int], list[MemberCertification]] = defaultdict(list)
    for grant in MemberCertification.objects.filter(
        member_id__in=member_ids, certification_id__in=certification_ids
    ):
        grants[grant.member_id, grant.certification_id].append(grant)
    return grants


def checkouts_held(
    *, member_ids: Iterable[int], checkout_ids: Iterable[int]
) -> dict[tuple[int, int], list[tuple[datetime, datetime | None]]]:
    """(given, revoked or None) of every grant of these local check-outs to these members, by
    (member id, check-out id): one query, for questions at different instants (`held_at`)."""
    held: dict[tuple[int, int], list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for member_id, checkout_id, granted_at, revoked_at in MemberCheckout.objects.filter(
        member_id__in=set(member_ids), checkout_id__in=set(checkout_ids)
    ).values_list("member_id", "checkout_id", "granted_at", "revoked_at"):
        held[member_id, checkout_id].append((granted_at, revoked_at))
    return held


def held_at(grants: Iterable[tuple[datetime, datetime | None]], *, at: datetime) -> bool:
    """Whether one of these (given, revoked) check-out grants stands at `at`."""
    return any(given <= at and (revoked is None or at < revoked) for given, revoked in grants)


def member_holds_checkout(*, member: Member, checkout_id: int | None, at: datetime) -> bool:
    """True when no check-out is needed (None) or the member holds it at `at`."""
    if checkout_id is None:
        return True
    held = checkouts_held(member_ids=[member.pk], checkout_ids=[checkout_id])
    return held_at(held.get((member.pk, checkout_id), []), at=at)


def grant_valid_at(grant: MemberCertification, *, at: datetime) -> bool:
    """For a grant already loaded: what `certification_grants_valid_at` selects in SQL."""
    return grant.granted_at <= at and grant_state(grant, at=at) in {
        GrantState.VALID,
        GrantState.EXPIRING,
    }


def grant_state(grant: MemberCertification, *, at: datetime) -> str:
    if grant.revoked_at is not None and grant.revoked_at <= at:
        return GrantState.REVOKED
    if grant.expires_at is not None and grant.expires_at <= at:
        return GrantState.EXPIRED
    if grant.expires_at is not None and grant.expires_at <= at + EXPIRING_SOON:
        return GrantState.EXPIRING
    return GrantState.VALID


def member_valid_grant(
    *, member: Member, certification: Certification, at: datetime
) -> MemberCertification | None:
    """The valid grant of `certification` that lasts longest (none expiring counts as longest)."""
    grants = certification_grants_valid_at(at=at).filter(member=member, certification=certification)
    return grants.filter(expires_at__isnull=True).first() or grants.order_by("-expires_at").first()


def member_missing_prerequisites(
    *, member: Member, certification: Certification, at: datetime
) -> list[Certification]:
    held = certification_grants_valid_at(at=at).filter(member=member)
    return list(
        certification.prerequisites.exclude(pk__in=held.values("certification_id")).order_by("name")
    )


def member_grant_history(member: Member) -> QuerySet[MemberCertification]:
    """Every grant the member ever had, newest first: expired and revoked ones stay."""
    return member.certifications.select_related(
        "certification", "granted_by", "revoked_by", "session"
    ).order_by("-granted_at", "-id")


@dataclass(frozen=True)
class HeldCertification:
    certification: Certification
    grant: MemberCertification
    state: str

    @property
    def state_label(self) -> str:
        return str(GrantState.LABELS[self.state])


def member_certification_summary(member: Member, *, at: datetime) -> list[HeldCertification]:
    """One line per certification the member ever held: the grant that counts now and its state.

    A valid grant wins over an expired or revoked one; among equals, the newest.
    """
    order = [GrantState.VALID, GrantState.EXPIRING, GrantState.EXPIRED, GrantState.REVOKED]
    best: dict[int, HeldCertification] = {}
    for grant in member_grant_history(member):
        held = HeldCertification(grant.certification, grant, grant_state(grant, at=at))
        current = best.get(grant.certification_id)
        if current is None or order.index(held.state) < order.index(current.state):
            best[grant.certification_id] = held
    return sorted(best.values(), key=lambda held: held.certification.name)


def base_certifications() -> QuerySet[Certification]:
    """The certifications every maker starts with: those others build on and needing none.

    With no prerequisites configured at all, every certification without one counts.
    """
    roots = Certification.objects.filter(prerequisites__isnull=True)
    foundations = roots.filter(unlocks__isnull=False).distinct()
    return foundations if foundations.exists() else roots


def sessions_with_seats() -> QuerySet[WithAnnotations[ClassSession, SeatCounts]]:
    """Sessions annotated with `seats_taken` (members and their guests), `seats_free` and
    `waitlisted` counts.

    `seats_free` is the one reading of free seats, for pages and services alike: never below
    zero, since staff may lower a class's capacity under the number already enrolled.
    """
    return (
        ClassSession.objects.select_related("certification", "instructor", "location", "area")
        .annotate(
            members_seated=Count(
                "enrollments",
                filter=Q(enrollments__status=EnrollmentStatus.ENROLLED),
                distinct=True,
            ),
            # Guests sit on their host's seat's enrollment, while it holds a seat.
            guests_seated=Count(
                "enrollments__guest_seats",
                filter=Q(
                    enrollments__status=EnrollmentStatus.ENROLLED,
                    enrollments__guest_seats__cancelled_at__isnull=True,
                ),
                distinct=True,
            ),
            waitlisted=Count(
                "enrollments",
                filter=Q(enrollments__status=EnrollmentStatus.WAITLISTED),
                distinct=True,
            ),
        )
        .annotate(seats_taken=F("members_seated") + F("guests_seated"))
        .annotate(seats_free=Greatest(F("capacity") - F("seats_taken"), 0))
    )


def sessions_between(
    *, start: datetime, end: datetime
) -> QuerySet[WithAnnotations[ClassSession, SeatCounts]]:
    """Sessions (cancelled ones too, marked as such) starting in [start, end), for the calendar."""
    return sessions_with_seats().filter(start__gte=start, start__lt=end).order_by("start")


def sessions_upcoming(
    *, at: datetime, certification: Certification | None = None
) -> QuerySet[WithAnnotations[ClassSession, SeatCounts]]:
    sessions = sessions_with_seats().filter(start__gt=at, cancelled_at__isnull=True)
    if certification is not None:
        sessions = sessions.filter(certification=certification)
    return sessions.order_by("start")


def session_seats_free(session: ClassSession) -> int:
    """Free seats in `session` counted now (under the caller's lock, when enrolling or promoting)."""
    seats: int = sessions_with_seats().values_list("seats_free", flat=True).get(pk=session.pk)
    return seats


def session_roster(session: ClassSession) -> QuerySet[Enrollment]:
    return (
        session.enrollments.filter(status=EnrollmentStatus.ENROLLED)
        .select_related("member__user")
        .prefetch_related("guest_seats__guest")
    )


def session_guest_seats(session: ClassSession) -> QuerySet[GuestSeat]:
    """The guests on the class's roster: each on a seat its host still holds."""
    return (
        GuestSeat.objects.filter(
            enrollment__session=session,
            enrollment__status=EnrollmentStatus.ENROLLED,
            cancelled_at__isnull=True,
        )
        .select_related("guest", "enrollment__member__user", "marked_by")
        .order_by("enrollment_id", "created_at", "pk")
    )


def session_waitlist(session: ClassSession) -> QuerySet[Enrollment]:
    return session.enrollments.filter(status=EnrollmentStatus.WAITLISTED).select_related(
        "member__user"
    )


def waitlist_position(enrollment: Enrollment) -> int | None:
    """1 for the first on the waitlist; None when the enrollment is not waitlisted."""
    if enrollment.status != EnrollmentStatus.WAITLISTED:
        return None
    ahead = Enrollment.objects.filter(
        Q(created_at__lt=enrollment.created_at)
        | Q(created_at=enrollment.created_at, id__lt=enrollment.id),
        session_id=enrollment.session_id,
        status=EnrollmentStatus.WAITLISTED,
    )
    return ahead.count() + 1


def member_active_enrollment(member: Member, session: ClassSession) -> Enrollment | None:
    return (
        session.enrollments.filter(
            member=member, status__in=[EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED]
        )
        .select_related("session__location")
        .first()
    )


def member_upcoming_enrollments(member: Member, *, at: datetime) -> list[Enrollment]:
    """The member's seats and waitlist places in classes still to come, with waitlist positions."""
    enrollments = list(
        member.enrollments.filter(
            session__start__gt=at,
            status__in=[EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED],
        )
        .select_related("session__certification", "session__instructor", "session__location")
        .order_by("session__start")
    )
    for enrollment in enrollments:
        enrollment.position = waitlist_position(enrollment)
    return enrollments


def member_open_requests(member: Member) -> QuerySet[TrainingRequest]:
    return member.training_requests.filter(fulfilled_at__isnull=True).select_related(
        "certification"
    )


def classes_for_member(member: Member, *, at: datetime, limit: int = 5) -> list[ClassSession]:
    """The next class of each certification the member could take now (prerequisites held,
    not already certified beyond the renewal window).

    Foundations come first, so a newcomer is pointed at general shop safety before the laser.
    """
    held = certification_grants_valid_at(at=at + EXPIRING_SOON).filter(member=member)
    wanted = (
        Certification.objects.exclude(pk__in=held.values("certification_id"))
        .annotate(
            missing=Count(
                "prerequisites",
                filter=~Q(
                    prerequisites__in=certification_grants_valid_at(at=at)
                    .filter(member=member)
                    .values("certification_id")
                ),
            )
        )
        .filter(missing=0)
    )
    sessions = (
        sessions_upcoming(at=at)
        .filter(certification__in=wanted)
        .exclude(instructor=member.user)
        .annotate(is_base=Exists(base_certifications().filter(pk=OuterRef("certification_id"))))
        .order_by("-is_base", "start")
    )
    first_per_certification: dict[int, ClassSession] = {}
    for session in sessions.iterator():
        first_per_certification.setdefault(session.certification_id, session)
        if len(first_per_certification) == limit:
            break
    return list(first_per_certification.values())


def user_can_sign_off(user: User | AnonymousUser, certification: Certification) -> bool:
    """An instructor named on the certification, or training staff."""
    if not user.is_authenticated:
        return False
    return user.has_perm("training.manage_training") or (
        user.has_perm("training.teach") and certification.instructors.filter(pk=user.pk).exists()
    )


def user_can_mark_roster(user: User | AnonymousUser, session: ClassSession) -> bool:
    """Who may sign off for the certification (`user_can_sign_off`), and is the class's own
    instructor, training staff of its location or an instructor who teaches there."""
    return user_can_sign_off(user, session.certification) and (
        session.instructor_id == user.pk
        or user.has_perm("training.manage_training", session)
        or teaching_scope(user).includes(session.location_id)
    )


def user_can_manage_session(user: User | AnonymousUser, session: ClassSession) -> bool:
    """Training staff, or the session's own instructor (move, cancel, roster)."""
    return user.is_authenticated and (
        user.has_perm("training.manage_training", session) or session.instructor_id == user.pk
    )


def user_is_training_staff_elsewhere(
    user: User | AnonymousUser, target: ClassSession | Member
) -> bool:
    """Training staff of another location than the class's (or the member's home), not teaching
    it: refused there. Certifications are chain-wide; a class, its roster and a member's records
    belong to their location."""
    return (
        user.is_authenticated
        and user.has_perm("training.manage_training")
        and not user.has_perm("training.manage_training", target)
        and getattr(target, "instructor_id", None) != user.pk
    )


def certifications_user_can_sign_off(user: User) -> QuerySet[Certification]:
    if user.has_perm("training.manage_training"):
        return Certification.objects.all()
    if user.has_perm("training.teach"):
        return Certification.objects.filter(instructors=user)
    return Certification.objects.none()


def sessions_for_instructor(
    user: User, *, since: datetime
) -> QuerySet[WithAnnotations[ClassSession, SeatCounts]]:
    """Sessions the user teaches or may sign off, from `since` on (training staff: all)."""
    sessions = sessions_with_seats().filter(end__gte=since)
    if not user.has_perm("training.manage_training"):
        where_they_teach = teaching_scope(user).condition("location")
        sessions = sessions.filter(
            Q(instructor=user) | Q(certification__instructors=user) & where_they_teach
        ).distinct()
    return sessions.order_by("start")


@dataclass(frozen=True)
class DemandRow:
    certification: Certification
    waiting: int
    waiting_since: datetime | None
    upcoming_sessions: int
    free_seats: int


def training_demand(*, at: datetime) -> list[DemandRow]:
    """Per certification: open requests (how many, since when) and what is already scheduled.

    Most waiting first, then longest waiting, so staff see where a class is due.
    """
    open_requests = TrainingRequest.objects.filter(fulfilled_at__isnull=True)
    rows = []
    for certification in Certification.objects.annotate(
        waiting=Count("requests", filter=Q(requests__in=open_requests)),
        waiting_since=Min("requests__created_at", filter=Q(requests__in=open_requests)),
    ):
        upcoming = list(sessions_upcoming(at=at, certification=certification))
        rows.append(
            DemandRow(
                certification=certification,
                waiting=certification.waiting,
                waiting_since=certification.waiting_since,
                upcoming_sessions=len(upcoming),
                free_seats=sum(s.seats_free for s in upcoming),
            )
        )
    rows.sort(key=lambda row: (-row.waiting, row.waiting_since or at, row.certification.name))
    return rows
