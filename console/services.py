"""Writes of the staff console: keeping the reports' hourly rollup (`MachineHour`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce, Least

from access.models import UsageSession
from bookings.models import Booking
from bookings.states import BookingState
from console.models import MachineHour
from core import clock
from core.time import add_duration
from equipment.rules import LONGEST_BOOKING

HOUR = timedelta(hours=1)
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
    return len(rows)
