"""Pure checks of what staff set on a machine: booking rules that can work, opening hours that fit.

No database: the forms call these to show every problem at once, the services call them again so
no other caller can store rules members could never book under.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo

from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from core.time import wall_clock_instant

Interval = tuple[datetime, datetime]
# Weekly opening hours as staff set them: (weekday, 0 = Monday; opens; closes, 00:00 = midnight).
WeeklyHours = tuple[int, time, time]

# No booking may last longer than this, and no buffer be longer than LONGEST_BUFFER, so "which
# bookings could overlap" looks back a bounded span (bookings' queries stay fast as history grows).
LONGEST_BOOKING = timedelta(days=7)
LONGEST_BUFFER = timedelta(days=1)
LONGEST_BOOK_AHEAD_DAYS = 365

# The machine fields `booking_rules_problems` judges, by the names of its arguments.
BOOKING_RULE_FIELDS = (
    "slot_minutes",
    "min_minutes",
    "max_minutes",
    "book_ahead_days",
    "weekly_hours_per_member",
    "buffer_minutes",
)
WEEKDAY_NAMES = [
    pgettext_lazy("weekday", "Monday"),
    pgettext_lazy("weekday", "Tuesday"),
    pgettext_lazy("weekday", "Wednesday"),
    pgettext_lazy("weekday", "Thursday"),
    pgettext_lazy("weekday", "Friday"),
    pgettext_lazy("weekday", "Saturday"),
    pgettext_lazy("weekday", "Sunday"),
]
MINUTES_PER_DAY = 24 * 60


def booking_rules_problems(
    *,
    slot_minutes: int,
    min_minutes: int,
    max_minutes: int,
    book_ahead_days: int,
    weekly_hours_per_member: int,
    buffer_minutes: int,
) -> dict[str, str]:
    """Why these booking rules would not work, by field name; empty when they do."""
    problems: dict[str, str] = {}
    if slot_minutes <= 0:
        return {"slot_minutes": gettext("The slot size must be at least one minute.")}
    for field, minutes, sentence in (
        (
            "min_minutes",
            min_minutes,
            gettext_lazy(
                "The shortest booking must be a whole number of %(minutes)s-minute slots."
            ),
        ),
        (
            "max_minutes",
            max_minutes,
            gettext_lazy("The longest booking must be a whole number of %(minutes)s-minute slots."),
        ),
    ):
        # Bookings start and end on the slot grid, so any other length could never be booked.
        if minutes <= 0 or minutes % slot_minutes:
            problems[field] = str(sentence) % {"minutes": slot_minutes}
    if "max_minutes" not in problems and min_minutes > max_minutes:
        problems["max_minutes"] = gettext(
            "The longest booking (%(longest)s min) is shorter than the shortest (%(shortest)s min)."
        ) % {"longest": max_minutes, "shortest": min_minutes}
    if max_minutes > LONGEST_BOOKING.total_seconds() // 60:
        problems["max_minutes"] = gettext("A booking can last at most %(days)s days.") % {
            "days": LONGEST_BOOKING.days
        }
    if not 1 <= book_ahead_days <= LONGEST_BOOK_AHEAD_DAYS:
        problems["book_ahead_days"] = gettext(
            "Bookings must open between 1 and %(days)s days ahead."
        ) % {"days": LONGEST_BOOK_AHEAD_DAYS}
    if weekly_hours_per_member and weekly_hours_per_member * 60 < min_minutes:
        problems["weekly_hours_per_member"] = gettext(
            "%(hours)s h a week is less than the shortest booking (%(minutes)s min): nobody "
            "could book. Use 0 for no limit."
        ) % {"hours": weekly_hours_per_member, "minutes": min_minutes}
    if buffer_minutes > LONGEST_BUFFER.total_seconds() // 60:
        problems["buffer_minutes"] = gettext("The buffer after a booking can be at most one day.")
    return problems


def minutes_of_day(opens: time, closes: time) -> tuple[int, int]:
    """An interval of a day in minutes from midnight; closing at 00:00 means midnight (24:00)."""
    start = opens.hour * 60 + opens.minute
    end = closes.hour * 60 + closes.minute
    return start, end or MINUTES_PER_DAY


def opening_hours_problem(
    *,
    existing: Iterable[tuple[int, time, time]],
    weekdays: Iterable[int],
    opens: time,
    closes: time,
) -> str | None:
    """Why opening hours on `weekdays` from `opens` to `closes` cannot be added, or None.

    `existing` holds (weekday, opens, closes) of the hours already set. Touching intervals are
    fine (the calendar joins them); overlapping ones would hide a mistake.
    """
    weekdays = sorted(set(weekdays))
    if not weekdays or any(day not in range(7) for day in weekdays):
        return gettext("Choose at least one weekday.")
    start, end = minutes_of_day(opens, closes)
    if end <= start:
        return gettext("Closing time must be after opening time (use 00:00 for midnight).")
    for day, other_opens, other_closes in existing:
        other_start, other_end = minutes_of_day(other_opens, other_closes)
        if day in weekdays and start < other_end and other_start < end:
            return gettext(
                "%(weekday)s is already open %(opens)s to %(closes)s, which overlaps; remove or "
                "change that first."
            ) % {
                "weekday": WEEKDAY_NAMES[day],
                "opens": f"{other_opens:%H:%M}",
                "closes": closing_label(other_closes),
            }
    return None


def closing_label(closes: time) -> str:
    """A closing time as people write it: 00:00 closes at midnight, shown as 24:00."""
    return "24:00" if closes == time.min else f"{closes:%H:%M}"


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping intervals; touching intervals are joined."""
    merged: list[list[datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def weekly_hours_spans(
    hours: Sequence[WeeklyHours], *, first_day: date, last_day: date, zone: tzinfo
) -> list[Interval]:
    """The instants (UTC, merged) weekly `hours` open the machine from `first_day` to `last_day`.

    On the wall clock at both ends, as the calendar reads them (`selectors.machine_event_spans`):
    a repeated time opens at its first pass and closes at its last, a skipped one at the jump.
    """
    spans = []
    day = first_day
    while day <= last_day:
        for weekday, opens, closes in hours:
            if weekday == day.weekday():
                close_day = day + timedelta(days=1) if closes == time.min else day
                spans.append(
                    (
                        wall_clock_instant(day, opens, zone),
                        wall_clock_instant(close_day, closes, zone, last=True),
                    )
                )
        day += timedelta(days=1)
    return merge_intervals(spans)
