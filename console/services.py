"""Writes of the staff console: keeping the reports' rollups (`MachineHour` per machine per real
hour, and from it and the bookings `MachineDay` per machine per local day and `MemberWeek` per
member per local week)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import DateField, Min, Q, Sum
from django.db.models.functions import Coalesce, ExtractHour, Least, Trunc, TruncDate
from django.utils import timezone

from access.models import UsageSession
from bookings.models import Booking
from bookings.states import BookingState
from console.models import (
    DAY_HOURS,
    ROLLUP_LOOKBACK,
    ROLLUP_MARK,
    MachineDay,
    MachineHour,
    MemberWeek,
    RollupMark,
    powered_field,
)
from console.reports.no_shows import COUNTS, counted_bookings
from core import clock
from core.time import add_duration, local_midnight, week_start
from equipment.rules import LONGEST_BOOKING
from locations.models import Location

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# A booking changed this long before the last run may not have been in what it read.
LATE_EDIT_MARGIN = timedelta(minutes=5)
# The first run recounts the days of the whole history in pieces this long (one transaction each).
HISTORY_PIECE = timedelta(weeks=4)
# Bookings that reserved the machine: held, used, or booked and not shown up for.
BOOKED_STATES = (
    BookingState.CONFIRMED,
    BookingState.CHECKED_IN,
    BookingState.COMPLETED,
    BookingState.NO_SHOW,
)


def hour_floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def split_into_hours(start: datetime, end: datetime) -> Iterable[tuple[datetime, int]]:
    """(UTC hour start, seconds of [start, end) in that hour), hour by hour."""
    hour = hour_floor(start)
    while hour < end:
        seconds = (min(end, hour + HOUR) - max(start, hour)).total_seconds()
        if seconds > 0:
            yield hour, round(seconds)
        hour += HOUR


def utilization_rollup(*, start: datetime, end: datetime, now: datetime | None = None) -> int:
    """Recount every machine's booked and powered seconds in the UTC hours from `start`'s
    to `end`'s (idempotent: the hours' rows are replaced in one transaction). A session still
    running counts to `now`, or to its grant's end if that came first. Returns rows written."""
    now = now or clock.now()
    start, end = hour_floor(start), hour_floor(end)
    if end <= start:
        return 0
    booked: dict[tuple[int, datetime], int] = defaultdict(int)
    powered: dict[tuple[int, datetime], int] = defaultdict(int)
    # No booking lasts longer than LONGEST_BOOKING: the lower bound on `start` lets the
    # (state, start) index skip the history instead of reading every booking on each run.
    bookings = Booking.objects.filter(
        state__in=BOOKED_STATES,
        start__gt=add_duration(start, -LONGEST_BOOKING),
        start__lt=end,
        end__gt=start,
    )
    for machine_id, b_start, b_end in bookings.values_list("machine_id", "start", "end"):
        for hour, seconds in split_into_hours(max(b_start, start), min(b_end, end)):
            booked[machine_id, hour] += seconds
    sessions = (
        UsageSession.objects.annotate(stop=Coalesce("ended_at", Least("grant_end", now), now))
        .filter(started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
    )
    for machine_id, s_start, s_stop in sessions.values_list("machine_id", "started_at", "stop"):
        for hour, seconds in split_into_hours(max(s_start, start), min(s_stop, end)):
            powered[machine_id, hour] += seconds
    rows = [
        MachineHour(
            machine_id=machine_id,
            hour=hour,
            # Overlapping sessions of one machine (two gates) count its hour once at most.
            booked_seconds=min(booked.get((machine_id, hour), 0), 3600),
            powered_seconds=min(powered.get((machine_id, hour), 0), 3600),
        )
        for machine_id, hour in sorted(set(booked) | set(powered))
    ]
    with transaction.atomic():
        MachineHour.objects.filter(hour__gte=start, hour__lt=end).delete()
        MachineHour.objects.bulk_create(rows, batch_size=2000)
        # The day rollup is recounted from these hours in the same transaction: the two always
        # agree, whoever reads them.
        days_rollup(start=start, end=end)
    return len(rows)


def _zones() -> dict[str, list[int]]:
    """The locations in each time zone."""
    zones: dict[str, list[int]] = defaultdict(list)
    for pk, zone in Location.objects.order_by("pk").values_list("pk", "time_zone"):
        zones[zone].append(pk)
    return zones


def days_rollup(*, start: datetime, end: datetime) -> int:
    """Recount `MachineDay` for every local day that [start, end) touches, and `MemberWeek` for
    every local week it touches, in each location's zone: booked and powered seconds from the
    hourly rollup, booking counts from the bookings (idempotent; one transaction). Returns the
    rows written."""
    if end <= start:
        return 0
    written = 0
    with transaction.atomic():
        for zone_name, locations in _zones().items():
            zone = ZoneInfo(zone_name)
            first = timezone.localtime(start, zone).date()
            last = timezone.localtime(end - timedelta(microseconds=1), zone).date()
            written += _recount_days(zone, locations, first, last)
            written += _recount_weeks(zone, locations, week_start(first), week_start(last))
    return written


def _recount_days(zone: ZoneInfo, locations: list[int], first: date, last: date) -> int:
    since, until = local_midnight(first, zone), local_midnight(last + DAY, zone)
    days: dict[tuple[int, date], dict[str, Any]] = defaultdict(dict)
    # Summed by the database into local days and wall-clock hours: loading the hours' timestamps
    # into Python cost more than the rest of the run.
    hourly = {
        powered_field(h): Coalesce(Sum("powered_seconds", filter=Q(local_hour=h)), 0)
        for h in DAY_HOURS
    }
    hours = (
        MachineHour.objects.filter(machine__location__in=locations, hour__gte=since, hour__lt=until)
        .annotate(day=TruncDate("hour", tzinfo=zone), local_hour=ExtractHour("hour", tzinfo=zone))
        .values("machine_id", "day")
        .annotate(
            booked_total=Sum("booked_seconds"), powered_total=Sum("powered_seconds"), **hourly
        )
    )
    for r in hours:
        row = days[r["machine_id"], r["day"]]
        row["booked_seconds"] = r["booked_total"]
        row["powered_seconds"] = r["powered_total"]
        row.update({field: r[field] for field in hourly})
    counted = (
        counted_bookings(Booking.objects.filter(machine__location__in=locations))
        .filter(start__gte=since, start__lt=until)
        .annotate(day=TruncDate("start", tzinfo=zone))
        .values("machine_id", "day")
        .annotate(**COUNTS)
    )
    for r in counted:
        row = days[r["machine_id"], r["day"]]
        row["bookings"] = r["bookings"]
        row["no_shows"] = r["no_shows"]
        row["late_cancellations"] = r["late"]
    MachineDay.objects.filter(
        machine__location__in=locations, day__gte=first, day__lte=last
    ).delete()
    MachineDay.objects.bulk_create(
        [MachineDay(machine_id=m, day=d, **row) for (m, d), row in sorted(days.items())],
        batch_size=2000,
    )
    return len(days)


def _recount_weeks(zone: ZoneInfo, locations: list[int], first: date, last: date) -> int:
    """`MemberWeek` for the local weeks whose Mondays are `first` to `last`."""
    since, until = local_midnight(first, zone), local_midnight(last + 7 * DAY, zone)
    counted = (
        counted_bookings(Booking.objects.filter(machine__location__in=locations))
        .filter(start__gte=since, start__lt=until)
        .annotate(week=Trunc("start", "week", output_field=DateField(), tzinfo=zone))
        .values("member_id", "machine__location_id", "week")
        .annotate(**COUNTS)
    )
    rows = [
        MemberWeek(
            member_id=r["member_id"], location_id=r["machine__location_id"], week=r["week"],
            bookings=r["bookings"], no_shows=r["no_shows"], late_cancellations=r["late"],
        )
        for r in counted
    ]  # fmt: skip
    MemberWeek.objects.filter(location__in=locations, week__gte=first, week__lte=last).delete()
    MemberWeek.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def reports_rollup(*, now: datetime | None = None) -> int:
    """The task runner's run: recount the hours and days from the last run's mark minus the
    look-back up to the current hour, the days of older bookings changed since the last run (a
    cancellation or a no-show recorded late), and on the very first run the days of the whole
    history; then move the mark. Returns the hourly rows written."""
    now = now or clock.now()
    mark = RollupMark.objects.filter(name=ROLLUP_MARK).first()
    since = min(mark.through if mark else now, now) - ROLLUP_LOOKBACK
    if mark is None:
        _history_rollup(until=since)
    rows = utilization_rollup(start=since, end=hour_floor(now) + HOUR, now=now)
    if mark is not None:
        changed = mark.through - LATE_EDIT_MARGIN
        late = (
            Booking.objects.filter(start__lt=since)
            .filter(
                Q(created_at__gte=changed) | Q(cancelled_at__gte=changed)
                | Q(released_at__gte=changed)
            )
            .annotate(hour=Trunc("start", "hour", tzinfo=UTC))
            .values_list("hour", flat=True)
            .distinct()
        )  # fmt: skip
        for hour in sorted(set(late)):
            days_rollup(start=hour, end=hour + HOUR)
    RollupMark.objects.update_or_create(name=ROLLUP_MARK, defaults={"through": now})
    return rows


def _history_rollup(*, until: datetime) -> None:
    """The days of everything before `until` from the hourly rollup and the bookings as they are,
    piece by piece (the hours themselves are not recounted: they are already in `MachineHour`)."""
    firsts = [
        MachineHour.objects.aggregate(first=Min("hour"))["first"],
        Booking.objects.aggregate(first=Min("start"))["first"],
    ]
    start = min((f for f in firsts if f is not None), default=until)
    while start < until:
        days_rollup(start=start, end=min(start + HISTORY_PIECE, until))
        start += HISTORY_PIECE
