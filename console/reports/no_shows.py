"""No-shows and late cancellations per machine and per member, counted in SQL (two grouped
queries whatever the data), and the members at or over the threshold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import timezone

from bookings.models import Booking
from bookings.states import BookingState
from console.reports.common import Period, share, weeks_until
from core.spreadsheet import spreadsheet_cell
from equipment.models import Machine, MachineState
from staffing.selectors import EVERYWHERE, Scope


@dataclass(frozen=True)
class Misses:
    label: str
    bookings: int  # that started in the period; cancellations in good time are not counted
    no_shows: int
    late_cancellations: int

    @property
    def missed(self) -> int:
        return self.no_shows + self.late_cancellations

    @property
    def missed_share(self) -> int | None:
        return share(self.missed, self.bookings)


@dataclass(frozen=True)
class MemberMisses(Misses):
    email: str
    over_threshold: bool


@dataclass(frozen=True)
class Attendance:
    period: Period
    threshold: int
    machines: list[Misses]
    members: list[MemberMisses]  # members who missed at least one, most first

    @property
    def over_threshold(self) -> list[MemberMisses]:
        return [m for m in self.members if m.over_threshold]


def missed_threshold() -> int:
    return int(getattr(settings, "REPORTS_MISSED_BOOKINGS_THRESHOLD", 3))


COUNTS = {
    "bookings": Count("id"),
    "no_shows": Count("id", filter=Q(state=BookingState.NO_SHOW)),
    "late": Count("id", filter=Q(state=BookingState.LATE_CANCELLED)),
}


def attendance(
    *, weeks: int = 12, until: date | None = None, scope: Scope = EVERYWHERE
) -> Attendance:
    """Bookings that started in the `weeks` local weeks ending with `until`'s week (and before
    now) at the machines in `scope`: how many, how many were no-shows, how many were cancelled
    late; per machine and per member."""
    period = weeks_until(weeks, until)
    threshold = missed_threshold()
    rows = (
        scope.filter(Booking.objects.all(), "machine__location")
        .filter(start__gte=period.start, start__lt=min(period.end, timezone.now()))
        .exclude(state=BookingState.CANCELLED)
    )
    per_machine = {r["machine"]: r for r in rows.values("machine").annotate(**COUNTS)}
    machines = scope.filter(Machine.objects.exclude(state=MachineState.RETIRED), "location")
    machine_rows = []
    for machine in machines.order_by("name").only("pk", "name"):
        r = per_machine.get(machine.pk, {})
        machine_rows.append(
            Misses(machine.name, r.get("bookings", 0), r.get("no_shows", 0), r.get("late", 0))
        )
    per_member = (
        rows.values("member", "member__user__first_name", "member__user__last_name",
                    "member__user__email")
        .annotate(**COUNTS)
        .annotate(missed=F("no_shows") + F("late"))
        .filter(missed__gt=0)
        .order_by("-missed", "-no_shows", "member__user__email")
    )  # fmt: skip
    member_rows = []
    for r in per_member:
        email = r["member__user__email"]
        name = f"{r['member__user__first_name']} {r['member__user__last_name']}".strip()
        member_rows.append(
            MemberMisses(
                name or email, r["bookings"], r["no_shows"], r["late"], email,
                over_threshold=r["missed"] >= threshold,
            )
        )  # fmt: skip
    return Attendance(period, threshold, machine_rows, member_rows)


def attendance_csv_rows(report: Attendance) -> list[list[str]]:
    rows = [["section", "label", "email", "bookings", "no_shows", "late_cancellations",
             "missed_percent", "over_threshold"]]  # fmt: skip
    for section, items in (("machine", report.machines), ("member", report.members)):
        for m in items:
            rows.append(
                [section, spreadsheet_cell(m.label), spreadsheet_cell(getattr(m, "email", "")), str(m.bookings), str(m.no_shows),
                 str(m.late_cancellations), "" if m.missed_share is None else str(m.missed_share),
                 {True: "yes", False: "no"}.get(getattr(m, "over_threshold", None), "")]
            )  # fmt: skip
    return rows
