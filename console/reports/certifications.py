"""The certification pipeline: who waits for a class and since when, the classes held (fill
and pass rates) and the certifications expiring in the next 30, 60 and 90 days. A fixed number
of queries whatever the data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from console.reports.common import Period, share, weeks_until
from core.spreadsheet import spreadsheet_cell
from core.time import local_midnight
from staffing.selectors import EVERYWHERE, Scope
from training.models import (
    ClassSession,
    Enrollment,
    EnrollmentStatus,
    MemberCertification,
    Outcome,
    TrainingRequest,
)

EXPIRY_WINDOWS = (30, 60, 90)


@dataclass(frozen=True)
class Waiting:
    """A member waiting: a training request nobody has met yet, or a class's waitlist."""

    name: str
    email: str
    certification: str
    since: datetime
    class_start: datetime | None  # None: a request for any class


@dataclass(frozen=True)
class Demand:
    certification: str
    requests: int
    waitlisted: int
    since: datetime

    @property
    def waiting(self) -> int:
        return self.requests + self.waitlisted


@dataclass(frozen=True)
class Held:
    certification: str
    classes: int
    seats: int
    enrolled: int
    passed: int
    failed: int
    absent: int

    @property
    def fill_share(self) -> int | None:
        return share(self.enrolled, self.seats)

    @property
    def pass_share(self) -> int | None:
        """Of those who came and were marked, how many passed."""
        return share(self.passed, self.passed + self.failed)


@dataclass(frozen=True)
class Expiring:
    certification: str
    within: tuple[int, int, int]  # by the end of the local day 30, 60, 90 days from today


@dataclass(frozen=True)
class Pipeline:
    period: Period
    waiting: list[Waiting]  # longest waiting first
    demand: list[Demand]  # most waiting first
    held: list[Held]
    expiring: list[Expiring]


def _name(first: str, last: str, email: str) -> str:
    return f"{first} {last}".strip() or email


def pipeline(*, weeks: int = 12, until: date | None = None, scope: Scope = EVERYWHERE) -> Pipeline:
    """Requests and waitlists of the members (by home location) and classes (by location) in
    `scope`; classes held over the `weeks` local weeks ending with `until`'s week."""
    now = timezone.now()
    period = weeks_until(weeks, until)
    member = ("member__user__first_name", "member__user__last_name", "member__user__email")

    waiting: list[Waiting] = []
    requests = scope.filter(
        TrainingRequest.objects.filter(fulfilled_at__isnull=True), "member__home_location"
    ).values_list(*member, "certification__name", "created_at")
    for first, last, email, certification, since in requests:
        waiting.append(Waiting(_name(first, last, email), email, certification, since, None))
    waitlists = scope.filter(
        Enrollment.objects.filter(
            status=EnrollmentStatus.WAITLISTED,
            session__start__gt=now,
            session__cancelled_at__isnull=True,
        ),
        "session__location",
    ).values_list(*member, "session__certification__name", "created_at", "session__start")
    for first, last, email, certification, since, start in waitlists:
        waiting.append(Waiting(_name(first, last, email), email, certification, since, start))
    waiting.sort(key=lambda w: (w.since, w.email))

    by_certification: dict[str, list[Waiting]] = {}
    for w in waiting:
        by_certification.setdefault(w.certification, []).append(w)
    demand = [
        Demand(
            name,
            sum(w.class_start is None for w in ws),
            sum(w.class_start is not None for w in ws),
            ws[0].since,
        )
        for name, ws in by_certification.items()
    ]
    demand.sort(key=lambda d: (-d.waiting, d.since, d.certification))

    sessions = scope.filter(
        ClassSession.objects.filter(
            cancelled_at__isnull=True, start__gte=period.start, start__lt=period.end, end__lte=now
        ),
        "location",
    )
    seats = {
        r["certification__name"]: r
        for r in sessions.values("certification__name").annotate(
            classes=Count("id"), seats=Sum("capacity")
        )
    }
    enrolled = Q(status=EnrollmentStatus.ENROLLED)
    outcomes = {
        r["session__certification__name"]: r
        for r in Enrollment.objects.filter(enrolled, session__in=sessions)
        .values("session__certification__name")
        .annotate(
            enrolled=Count("id"),
            passed=Count("id", filter=Q(outcome=Outcome.PASSED)),
            failed=Count("id", filter=Q(outcome=Outcome.FAILED)),
            absent=Count("id", filter=Q(outcome=Outcome.ABSENT)),
        )
    }
    held = []
    for name in sorted(seats):
        o = outcomes.get(name, {})
        held.append(
            Held(
                name, seats[name]["classes"], seats[name]["seats"] or 0, o.get("enrolled", 0),
                o.get("passed", 0), o.get("failed", 0), o.get("absent", 0),
            )
        )  # fmt: skip

    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    ends = [local_midnight(today + timedelta(days=days + 1), zone) for days in EXPIRY_WINDOWS]
    renewed = MemberCertification.objects.filter(
        member=OuterRef("member"),
        certification=OuterRef("certification"),
        revoked_at__isnull=True,
        granted_at__gt=OuterRef("granted_at"),
    )
    expiring_rows = (
        scope.filter(MemberCertification.objects.all(), "member__home_location")
        .filter(revoked_at__isnull=True, expires_at__gt=now, expires_at__lt=ends[-1])
        .exclude(Exists(renewed))
        .values("certification__name")
        .annotate(
            **{f"d{days}": Count("id", filter=Q(expires_at__lt=end))
               for days, end in zip(EXPIRY_WINDOWS, ends, strict=True)}
        )
        .order_by("certification__name")
    )  # fmt: skip
    expiring = [
        Expiring(r["certification__name"], (r["d30"], r["d60"], r["d90"])) for r in expiring_rows
    ]
    return Pipeline(period, waiting, demand, held, expiring)


def pipeline_csv_rows(report: Pipeline) -> list[list[str]]:
    zone = timezone.get_current_timezone()
    rows = [["section", "certification", "member", "email", "waiting_since", "class_start"]]
    for w in report.waiting:
        rows.append(
            ["waiting", w.certification, spreadsheet_cell(w.name), spreadsheet_cell(w.email),
             w.since.astimezone(zone).isoformat(timespec="minutes"),
             w.class_start.astimezone(zone).isoformat(timespec="minutes") if w.class_start else ""]
        )  # fmt: skip
    rows.append(["section", "certification", "classes", "seats", "enrolled", "passed", "failed",
                 "absent", "fill_percent", "pass_percent"])  # fmt: skip
    for h in report.held:
        rows.append(
            ["classes", h.certification, str(h.classes), str(h.seats), str(h.enrolled),
             str(h.passed), str(h.failed), str(h.absent),
             "" if h.fill_share is None else str(h.fill_share),
             "" if h.pass_share is None else str(h.pass_share)]
        )  # fmt: skip
    rows.append(["section", "certification", "within_30_days", "within_60_days", "within_90_days"])
    for e in report.expiring:
        rows.append(["expiring", e.certification, *map(str, e.within)])
    return rows
