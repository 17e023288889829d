"""Time arithmetic that stays right across daylight-saving changes, for every app.

Python adds a timedelta to a zone-aware datetime on its wall clock, and subtracts two datetimes of
the same zone on the wall clock too: `01:30 + 90 min` on the spring-forward night gives 03:00, half
an hour later. That is right for "the same time next week" (a class, opening hours) and wrong for
"90 minutes from now" (a booking's length, a buffer). Real durations go through `add_duration`
and `duration_between`, which count in UTC; wall-clock times of a day come from `day_slots`, which
skips the hour that does not exist and gives the repeated hour twice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{instant!r} is naive: say which zone it is in")


def utc(instant: datetime) -> datetime:
    """`instant` in UTC. Aware datetimes of one zone compare and subtract on the wall clock (fold
    ignored), so a repeated-hour 01:00 would sort before 01:30 of the hour before; in UTC they
    compare as the instants they are."""
    _require_aware(instant)
    return instant.astimezone(UTC)


def add_duration(instant: datetime, duration: timedelta) -> datetime:
    """`instant` plus `duration` of real (elapsed) time, in UTC.

    UTC, not `instant`'s zone, so that a further `+ timedelta` by a caller stays real time too.
    """
    return utc(instant) + duration


def duration_between(start: datetime, end: datetime) -> timedelta:
    """The real time from `start` to `end`, whatever zones they are written in."""
    return utc(end) - utc(start)


def minutes_between(start: datetime, end: datetime) -> float:
    """`duration_between` in minutes."""
    return duration_between(start, end).total_seconds() / 60


def wall_time_exists(day: date, at: time, zone: tzinfo) -> bool:
    """False for a time the clocks skip on `day` (02:30 on a spring-forward night)."""
    local = datetime.combine(day, at, tzinfo=zone)
    return local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None)


def is_repeated(instant: datetime) -> bool:
    """True when the wall time `instant` shows happens twice that night (clocks go back)."""
    _require_aware(instant)
    # fold 0 and 1 differ in a skipped hour too, which is not repeated but missing.
    return instant.replace(fold=0).utcoffset() != instant.replace(
        fold=1
    ).utcoffset() and wall_time_exists(instant.date(), instant.time(), instant.tzinfo)


def wall_clock_label(instant: datetime, zone: tzinfo, pattern: str = "%H:%M") -> str:
    """`instant` as the wall clock in `zone` shows it (strftime `pattern`), with the zone's name
    added in the hour the clocks repeat ("01:00 PST"), where the time alone names two instants."""
    local = utc(instant).astimezone(zone)
    text = local.strftime(pattern)
    return f"{text} {local.tzname()}" if is_repeated(local) else text


def wall_clock_instant(day: date, at: time, zone: tzinfo, *, last: bool = False) -> datetime:
    """The instant (in UTC) the wall clock in `zone` reads `at` on `day`.

    A time that happens twice gives its first reading, or its last with `last=True`. A time the
    clocks skip gives the instant they jump over it: from then on the clock reads later than `at`.
    So hours "from 02:30" on the spring-forward night begin at 03:00, and hours "until 01:30" on
    the fall-back night last until the second 01:30.
    """
    local = datetime.combine(day, at, tzinfo=zone)
    if wall_time_exists(day, at, zone):
        return utc(local.replace(fold=1) if last else local)
    # In a gap, fold 1 reads the time with the offset after the jump (an instant before it) and
    # fold 0 with the offset before (an instant after it); the jump lies between, found to the
    # second by halving (zones change offset on whole seconds).
    before, after = utc(local.replace(fold=1)), utc(local)
    offset_after = after.astimezone(zone).utcoffset()
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) // 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(zone).utcoffset() == offset_after:
            after = middle
        else:
            before = middle
    return after


def day_slots(
    day: date, *, first: time, last: time | None, step_minutes: int, zone: tzinfo
) -> list[datetime]:
    """The wall-clock slots of `day` in `zone` from `first` up to `last` (None: midnight).

    Slots fall every `step_minutes` on the wall clock from midnight, as people read a timetable;
    a slot whose time the clocks skip is left out, a slot whose time happens twice comes twice
    (first the earlier offset, fold 0, then the later, fold 1), in the order they happen.
    """
    if step_minutes <= 0:
        raise ValueError("step_minutes must be positive")
    begin = first.hour * 60 + first.minute
    end = 24 * 60 if last is None else last.hour * 60 + last.minute
    slots = []
    for minute in range(begin, end, step_minutes):
        at = time(minute // 60, minute % 60)
        if not wall_time_exists(day, at, zone):
            continue
        local = datetime.combine(day, at, tzinfo=zone)
        slots.append(local)
        if is_repeated(local):
            slots.append(local.replace(fold=1))
    return sorted(slots, key=lambda slot: slot.astimezone(UTC))


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """The instant `day` begins in `zone` (a day is 23, 24 or 25 hours long there)."""
    return datetime.combine(day, time.min, tzinfo=zone)


def local_day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of the local `day`: midnight to the next midnight, on the wall clock."""
    return local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone)


def week_start(day: date) -> date:
    """The Monday of `day`'s week: every week here runs Monday to Sunday (the booking grid, the
    weekly hours quota, the class calendar)."""
    return day - timedelta(days=day.weekday())


def parse_instant(value: str, zone: tzinfo) -> datetime | None:
    """An instant from ISO 8601 text, or None when the text names no single instant.

    Text with an offset (`2027-11-07T01:00:00-08:00`) names one instant. Text without one is read
    in `zone`, but only when that wall time happens exactly once there: the repeated hour and the
    skipped hour have no single meaning, so they are refused instead of guessed.
    """
    try:
        parsed = datetime.fromisoformat(value.strip())
    except (AttributeError, TypeError, ValueError):
        return None
    if parsed.tzinfo is not None:
        return parsed
    local = parsed.replace(tzinfo=zone)
    if not wall_time_exists(local.date(), local.time(), zone) or is_repeated(local):
        return None
    return local
