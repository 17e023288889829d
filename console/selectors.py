"""What the staff Today screen reads: the location's day in a fixed number of queries.

Every reader takes the machines (and class sessions) to look at as a queryset, so a location's
staff can be given theirs (`today(machines=Machine.objects.filter(location=...))`); the default
is every machine that is not retired.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from access.models import EmergencyStop, GateDevice, UsageSession
from bookings.models import Booking
from bookings.selectors import check_in_opens
from bookings.states import ACTIVE_STATES, BookingState
from core import clock
from core.models import SetupChange
from core.time import add_duration, local_day_bounds
from equipment import selectors as equipment_selectors
from equipment.models import SEVERITY_ORDER, Machine, MachineState, ProblemReport
from equipment.rules import LONGEST_BOOKING
from membership.models import Member, MembershipStatus, Plan, User, Waiver
from membership.selectors import grace_ends, members_yet_to_sign_current_waiver, waiver_current
from training.models import Certification, ClassSeries, ClassSession, Enrollment, EnrollmentStatus
from training.selectors import sessions_with_seats

# A member whose paid period ends this soon is "expiring" on the desk's list.
EXPIRING_WITHIN = timedelta(days=7)
# Classes whose waitlists the desk sees: from today this many days ahead.
WAITLIST_DAYS = 14


@dataclass
class MachineDay:
    """One machine's row: its gates, who is on it, the booking now and the next one."""

    machine: Machine
    devices: list[GateDevice]
    session: UsageSession | None = None
    now: Booking | None = None
    next: Booking | None = None
    stopped: EmergencyStop | None = None

    @property
    def has_gate(self) -> bool:
        return bool(self.devices)

    @property
    def offline_devices(self) -> list[GateDevice]:
        return [device for device in self.devices if not device.online]


@dataclass(frozen=True)
class MemberFlag:
    """A member with a booking today whose membership needs a word at the desk."""

    member: Member
    status: str  # "past_due" or "expiring"
    period_end: datetime | None
    grace_end: datetime | None
    first_booking: Booking


@dataclass(frozen=True)
class ClassDay:
    session: ClassSession
    roster: list[Enrollment]
    waitlist: list[Enrollment]


@dataclass
class Today:
    at: datetime
    day: date
    machines: list[MachineDay]
    in_use: list[MachineDay]
    gates_offline: list[GateDevice]
    members: list[MemberFlag]
    reports: list[ProblemReport]
    report_counts: dict[str, int]
    classes: list[ClassDay]
    waitlists: list[ClassDay]


def check_in_state(booking: Booking, *, at: datetime) -> str:
    """How a booking of today stands at the desk: checked in; "due" once check-in opens before
    its start; "late" from its start until it is released as a no-show; "upcoming" before; or
    its final state (completed, no-show, cancelled)."""
    if booking.state != BookingState.CONFIRMED:
        return str(booking.state)
    if booking.start <= at:
        return "late"
    return "due" if booking.start - check_in_opens() <= at else "upcoming"


def _machines_default() -> QuerySet[Machine]:
    return Machine.objects.exclude(state=MachineState.RETIRED)


def today(
    *,
    at: datetime | None = None,
    machines: QuerySet[Machine] | None = None,
    sessions: QuerySet[ClassSession] | None = None,
) -> Today:
    """The desk's day at `at` (local day of the current time zone), in a fixed number of queries."""
    at = at or clock.now()
    day = timezone.localdate(at)
    start, end = local_day_bounds(day, timezone.get_current_timezone())
    machines = _machines_default() if machines is None else machines
    machine_list = list(
        machines.select_related("required_certification").prefetch_related(
            Prefetch("gate_devices", queryset=GateDevice.objects.filter(enabled=True))
        )
    )
    rows = {m.pk: MachineDay(m, list(m.gate_devices.all())) for m in machine_list}
    for row in rows.values():
        for device in row.devices:
            device.machine = row.machine  # the page names it: no query per gate
    ids = list(rows)

    bookings = list(
        Booking.objects.filter(
            machine_id__in=ids,
            # The lower bound lets the (machine, start) index skip the history: without it the
            # day's bookings were found by reading every booking (2.5 s at 2,000,000).
            start__gt=add_duration(start, -LONGEST_BOOKING),
            start__lt=end,
            # Only what the desk still acts on (now, next, members arriving): not the day's
            # finished, missed or cancelled bookings, thousands of rows in a big space's day.
            end__gt=at,
            state__in=ACTIVE_STATES,
        )
        .select_related("member__user", "member__membership")
        .order_by("start", "pk")
    )
    for booking in bookings:
        row = rows[booking.machine_id]
        booking.machine = row.machine
        booking.desk_state = check_in_state(booking, at=at)  # type: ignore[attr-defined]
        if booking.start <= at and row.now is None:
            row.now = booking
        elif booking.start > at and row.next is None:
            row.next = booking

    for session in (
        UsageSession.objects.filter(machine_id__in=ids, ended_at__isnull=True)
        .select_related("member__user")
        .order_by("started_at")
    ):
        rows[session.machine_id].session = session
    for stop in EmergencyStop.objects.filter(machine_id__in=ids, cleared_at__isnull=True):
        rows[stop.machine_id].stopped = stop

    reports = list(
        equipment_selectors.problem_reports_open(ProblemReport.objects.filter(machine_id__in=ids))
    )
    counts = {severity.value: 0 for severity in SEVERITY_ORDER}
    for report in reports:
        counts[report.severity] += 1
    counts["total"] = len(reports)

    classes, waitlists = _classes(day=day, start=start, sessions=sessions)
    machine_rows = list(rows.values())
    return Today(
        at=at,
        day=day,
        machines=machine_rows,
        in_use=[row for row in machine_rows if row.session is not None],
        gates_offline=[device for row in machine_rows for device in row.offline_devices],
        members=_member_flags(bookings, at=at),
        reports=reports,
        report_counts=counts,
        classes=[c for c in classes if timezone.localdate(c.session.start) == day],
        waitlists=waitlists,
    )


def _member_flags(bookings: list[Booking], *, at: datetime) -> list[MemberFlag]:
    """Members booked today (still to come or running) who are past due or expiring soon."""
    flags: dict[int, MemberFlag] = {}
    for booking in bookings:
        if booking.state not in ACTIVE_STATES or booking.end <= at:
            continue
        member = booking.member
        membership = getattr(member, "membership", None)
        if member.pk in flags or membership is None:
            continue
        period_end = membership.current_period_end
        if membership.status == MembershipStatus.PAST_DUE:
            status = "past_due"
        elif (
            membership.status == MembershipStatus.ACTIVE
            and period_end is not None
            and period_end <= at + EXPIRING_WITHIN
        ):
            status = "expiring"
        else:
            continue
        flags[member.pk] = MemberFlag(
            member=member,
            status=status,
            period_end=period_end,
            grace_end=grace_ends(period_end) if period_end else None,
            first_booking=booking,
        )
    return sorted(flags.values(), key=lambda f: (f.status != "past_due", f.first_booking.start))


def _classes(
    *, day: date, start: datetime, sessions: QuerySet[ClassSession] | None
) -> tuple[list[ClassDay], list[ClassDay]]:
    """Sessions from today's start to WAITLIST_DAYS ahead with their rosters and waitlists (two
    queries): today's for the roster list, all with someone waiting for the waitlists."""
    horizon = start + timedelta(days=WAITLIST_DAYS)
    base = sessions_with_seats()
    if sessions is not None:
        base = base.filter(pk__in=sessions.values("pk"))
    enrollments = Enrollment.objects.filter(
        status__in=(EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED)
    ).select_related("member__user")
    found = (
        base.filter(start__gte=start, start__lt=horizon, cancelled_at__isnull=True)
        .prefetch_related(
            Prefetch("enrollments", queryset=enrollments.order_by("created_at", "id"))
        )
        .order_by("start")
    )
    days: list[ClassDay] = []
    for session in found:
        by_status: dict[str, list[Enrollment]] = defaultdict(list)
        for enrollment in session.enrollments.all():
            by_status[enrollment.status].append(enrollment)
        days.append(
            ClassDay(
                session,
                by_status[EnrollmentStatus.ENROLLED],
                by_status[EnrollmentStatus.WAITLISTED],
            )
        )
    return days, [c for c in days if c.waitlist]


# -- setup ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetupOverview:
    certifications: list[Certification]
    plans: list[Plan]
    waiver: Waiver | None
    waiver_unsigned: int
    machines: list[Machine]
    history: list[SetupChange]
    series: list[ClassSeries]


def setup_overview(
    *,
    machines: QuerySet[Machine] | None = None,
    series: QuerySet[ClassSeries] | None = None,
) -> SetupOverview:
    """What the setup page lists, in a fixed number of queries."""
    machines = _machines_default() if machines is None else machines
    series = ClassSeries.objects.all() if series is None else series
    return SetupOverview(
        certifications=list(
            Certification.objects.prefetch_related("prerequisites", "instructors")
            .annotate(machine_count=Count("machines", distinct=True))
            .order_by("name")
        ),
        plans=list(Plan.objects.order_by("-is_default", "name")),
        waiver=waiver_current(),
        waiver_unsigned=members_yet_to_sign_current_waiver().count(),
        machines=list(machines.select_related("required_certification").order_by("name")),
        history=list(SetupChange.objects.select_related("actor")[:15]),
        series=list(
            series.select_related("event__rule", "certification", "instructor", "location")
            .annotate(
                upcoming=Count(
                    "event__class_sessions",
                    filter=Q(
                        event__class_sessions__start__gt=clock.now(),
                        event__class_sessions__cancelled_at__isnull=True,
                    ),
                )
            )
            .order_by("certification__name", "pk")
        ),
    )


def setup_history(subject_type: str, subject_id: int | None = None) -> list[SetupChange]:
    changes = SetupChange.objects.filter(subject_type=subject_type).select_related("actor")
    if subject_id is not None:
        changes = changes.filter(subject_id=subject_id)
    return list(changes[:30])


def people_with_roles() -> list[tuple[str, list[User]]]:
    """Who holds each role staff hand out (two queries)."""
    return [
        (role, list(User.objects.filter(groups__name=role).order_by("email")))
        for role in ("Staff", "Instructor")
    ]
