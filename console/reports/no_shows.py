"""No-shows and late cancellations per machine and per member, counted in SQL from the day and
week rollups and the last few days' bookings (a fixed number of queries whatever the data), and
the members at or over the threshold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from bookings.models import Booking
from bookings.states import BookingState
from console.models import MachineDay, MemberWeek
from console.reports.common import Period, settled_day, share, weeks_until
from core.spreadsheet import spreadsheet_cell
from core.time import local_midnight, week_start
from equipment.models import Machine, MachineState
from locations.models import Location
from membership.models import Member
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
MISSED_STATES = (BookingState.NO_SHOW, BookingState.LATE_CANCELLED)
ROLLED_COUNTS = {
    "bookings": Sum("bookings"),
    "no_shows": Sum("no_shows"),
    "late": Sum("late_cancellations"),
}


# Every state but cancelled in good time, named: `state <> 'cancelled'` cannot use the
# (state, start) index, and the planner read all the bookings instead.
COUNTED_STATES = [state for state in BookingState.values if state != BookingState.CANCELLED]


def counted_bookings(bookings: QuerySet[Booking]) -> QuerySet[Booking]:
    """The bookings the report counts: all but those cancelled in good time."""
    return bookings.filter(state__in=COUNTED_STATES)


def _add(totals: dict[int, list[int]], rows) -> None:
    for key, bookings, no_shows, late in rows:
        counts = totals.setdefault(key, [0, 0, 0])
        counts[0] += bookings or 0
        counts[1] += no_shows or 0
        counts[2] += late or 0


def attendance(
    *,
    weeks: int = 12,
    until: date | None = None,
    scope: Scope = EVERYWHERE,
    live: bool = False,
) -> Attendance:
    """Bookings that started in the `weeks` local weeks ending with `until`'s week (and before
    now) at the machines in `scope`: how many, how many were no-shows, how many were cancelled
    late; per machine and per member.

    The days before `settled_day` (the rollup's settled past) are read from the day and week
    rollups (`MachineDay`, `MemberWeek`), the rest from the bookings: a fixed number of queries,
    and a few days of bookings instead of the period's hundreds of thousands. `live` counts
    everything from the bookings (the plain computation the rollups must agree with)."""
    period = weeks_until(weeks, until)
    threshold = missed_threshold()
    zone = timezone.get_current_timezone()
    now = timezone.now()
    settled = None if live else settled_day(scope.filter(Location.objects.all(), "pk"), now)
    # Machines: whole days from the rollup; members: whole weeks (their rollup is per week).
    day_split = period.first_day
    week_split = period.first_day
    if settled is not None:
        day_split = min(max(settled, period.first_day), period.last_day + timedelta(days=1))
        week_split = max(week_start(day_split), period.first_day)
    end = min(period.end, now)
    bookings = counted_bookings(scope.filter(Booking.objects.all(), "machine__location"))

    machines = scope.filter(Machine.objects.exclude(state=MachineState.RETIRED), "location")
    per_machine: dict[int, list[int]] = {}
    if day_split > period.first_day:
        _add(per_machine, MachineDay.objects.filter(
            machine__in=machines, day__gte=period.first_day, day__lt=day_split
        ).values("machine").annotate(**ROLLED_COUNTS).values_list(
            "machine", "bookings", "no_shows", "late"
        ))  # fmt: skip
    _add(per_machine, bookings.filter(
        start__gte=local_midnight(day_split, zone), start__lt=end
    ).values("machine").annotate(**COUNTS).values_list("machine", "bookings", "no_shows", "late"))  # fmt: skip
    machine_rows = []
    for machine in machines.order_by("name").only("pk", "name"):
        r = per_machine.get(machine.pk, [0, 0, 0])
        machine_rows.append(Misses(machine.name, r[0], r[1], r[2]))

    per_member: dict[int, list[int]] = {}
    rolled = scope.filter(MemberWeek.objects.all(), "location").filter(
        week__gte=period.first_day, week__lt=week_split
    )
    if week_split > period.first_day:
        _add(per_member, rolled.values("member").annotate(**ROLLED_COUNTS).values_list(
            "member", "bookings", "no_shows", "late"
        ))  # fmt: skip
    recent = bookings.filter(start__gte=local_midnight(week_split, zone), start__lt=end)
    _add(per_member, recent.values("member").annotate(**COUNTS).values_list(
        "member", "bookings", "no_shows", "late"
    ))  # fmt: skip
    missed = {pk: r for pk, r in per_member.items() if r[1] + r[2] > 0}
    # Names by subquery, not by a list of thousands of keys (binding them cost more than the
    # query).
    people = {
        pk: (first, last, email)
        for pk, first, last, email in Member.objects.filter(
            Q(
                pk__in=rolled.filter(Q(no_shows__gt=0) | Q(late_cancellations__gt=0)).values(
                    "member"
                )
            )
            | Q(pk__in=recent.filter(state__in=MISSED_STATES).values("member"))
        ).values_list("pk", "user__first_name", "user__last_name", "user__email")
    }
    member_rows = []
    for pk, (booked, no_shows, late) in missed.items():
        first, last, email = people[pk]
        name = f"{first} {last}".strip()
        member_rows.append(
            MemberMisses(
                name or email, booked, no_shows, late, email,
                over_threshold=no_shows + late >= threshold,
            )
        )  # fmt: skip
    member_rows.sort(key=lambda m: (-m.missed, -m.no_shows, m.email))
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
