"""core.time: real durations in UTC, wall-clock slots of a day, instants that carry their offset.

Pinned on both daylight-saving changes of 2027 in America/Los_Angeles (14 March, 7 November) and
of America/New_York (the same dates), where the helpers take the zone as a parameter.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from core.time import (
    add_duration,
    day_slots,
    duration_between,
    is_repeated,
    local_day_bounds,
    minutes_between,
    parse_instant,
    utc,
    wall_clock_instant,
    wall_clock_label,
    wall_time_exists,
)

LA = ZoneInfo("America/Los_Angeles")
NY = ZoneInfo("America/New_York")
SPRING = date(2027, 3, 14)
FALL = date(2027, 11, 7)
ZONES = pytest.mark.parametrize("zone", [LA, NY], ids=["los_angeles", "new_york"])


def _labels(slots):
    return [slot.strftime("%H:%M %Z") for slot in slots]


@ZONES
def test_add_duration_is_real_time_across_spring_forward(zone):
    """01:30 plus 90 minutes on the spring-forward night is 04:00: the clocks skipped an hour."""
    start = datetime(2027, 3, 14, 1, 30, tzinfo=zone)
    end = add_duration(start, timedelta(minutes=90))
    assert end.astimezone(zone).replace(tzinfo=None) == datetime(2027, 3, 14, 4, 0)
    assert end.tzinfo is UTC


@ZONES
def test_add_duration_is_real_time_across_fall_back(zone):
    """00:30 plus 3 hours on the fall-back night is 02:30: the clocks showed 01:00 twice."""
    start = datetime(2027, 11, 7, 0, 30, tzinfo=zone)
    end = add_duration(start, timedelta(hours=3))
    assert end.astimezone(zone).replace(tzinfo=None) == datetime(2027, 11, 7, 2, 30)


@ZONES
@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        # Wall clock 01:30 -> 03:00 is one real hour less (spring forward) ...
        (datetime(2027, 3, 14, 1, 30), datetime(2027, 3, 14, 3, 0), 30),
        # ... and 00:30 -> 03:30 one hour more (fall back).
        (datetime(2027, 11, 7, 0, 30), datetime(2027, 11, 7, 3, 30), 240),
    ],
)
def test_duration_between_counts_real_minutes_in_one_zone(zone, start, end, minutes):
    """Two times of one zone are subtracted as instants, not as wall-clock readings."""
    assert minutes_between(start.replace(tzinfo=zone), end.replace(tzinfo=zone)) == minutes


def test_duration_between_tells_the_repeated_hour_apart():
    """The first and second 01:00 of the fall-back night are an hour apart, not zero."""
    first = datetime(2027, 11, 7, 1, 0, tzinfo=LA)
    assert duration_between(first, first.replace(fold=1)) == timedelta(hours=1)
    assert utc(first) < utc(first.replace(fold=1))


def test_naive_times_are_refused():
    """A naive datetime names no instant: the helpers refuse it instead of guessing a zone."""
    with pytest.raises(ValueError, match="naive"):
        add_duration(datetime(2027, 11, 7, 1, 0), timedelta(minutes=30))


@ZONES
def test_the_fall_back_day_has_the_repeated_hour_twice(zone):
    """Slots of the fall-back night: 01:00 and 01:30 come twice, daylight time first."""
    slots = day_slots(FALL, first=time(0), last=time(3), step_minutes=30, zone=zone)
    daylight, standard = ("PDT", "PST") if zone is LA else ("EDT", "EST")
    assert _labels(slots) == [
        f"00:00 {daylight}",
        f"00:30 {daylight}",
        f"01:00 {daylight}",
        f"01:30 {daylight}",
        f"01:00 {standard}",
        f"01:30 {standard}",
        f"02:00 {standard}",
        f"02:30 {standard}",
    ]
    # Consecutive slots are 30 real minutes apart, all night.
    assert {minutes_between(a, b) for a, b in pairwise(slots)} == {30}


@ZONES
def test_the_spring_forward_day_skips_the_missing_hour(zone):
    """Slots of the spring-forward night: 02:00 and 02:30 do not exist and are left out."""
    slots = day_slots(SPRING, first=time(0), last=time(4), step_minutes=30, zone=zone)
    assert [slot.strftime("%H:%M") for slot in slots] == [
        "00:00",
        "00:30",
        "01:00",
        "01:30",
        "03:00",
        "03:30",
    ]
    assert {minutes_between(a, b) for a, b in pairwise(slots)} == {30}


def test_a_whole_day_has_as_many_slots_as_real_half_hours():
    """23, 24 and 25 hour days: the slots of a whole day match its real length."""
    for day, hours in ((SPRING, 23), (date(2027, 6, 1), 24), (FALL, 25)):
        slots = day_slots(day, first=time(0), last=None, step_minutes=30, zone=LA)
        start, end = local_day_bounds(day, LA)
        assert len(slots) == hours * 2 == minutes_between(start, end) / 30


@pytest.mark.parametrize(
    ("day", "at", "exists", "repeated"),
    [
        (SPRING, time(1, 59), True, False),
        (SPRING, time(2, 0), False, False),
        (SPRING, time(2, 30), False, False),
        (SPRING, time(3, 0), True, False),
        (FALL, time(0, 59), True, False),
        (FALL, time(1, 0), True, True),
        (FALL, time(1, 30), True, True),
        (FALL, time(2, 0), True, False),
    ],
)
def test_which_wall_times_exist_and_which_repeat(day, at, exists, repeated):
    """Only the skipped hour is missing; only the hour before 02:00 on the fall-back day repeats."""
    assert wall_time_exists(day, at, LA) is exists
    assert is_repeated(datetime.combine(day, at, tzinfo=LA)) is repeated


@pytest.mark.parametrize(
    ("day", "at", "last", "expected_utc"),
    [
        (FALL, time(1, 30), False, datetime(2027, 11, 7, 8, 30, tzinfo=UTC)),  # 01:30 PDT
        (FALL, time(1, 30), True, datetime(2027, 11, 7, 9, 30, tzinfo=UTC)),  # 01:30 PST
        (SPRING, time(2, 30), False, datetime(2027, 3, 14, 10, 0, tzinfo=UTC)),  # the jump
        (SPRING, time(2, 30), True, datetime(2027, 3, 14, 10, 0, tzinfo=UTC)),
        (SPRING, time(3, 0), False, datetime(2027, 3, 14, 10, 0, tzinfo=UTC)),
        (SPRING, time(9, 0), False, datetime(2027, 3, 14, 16, 0, tzinfo=UTC)),
    ],
)
def test_wall_clock_instant(day, at, last, expected_utc):
    """When the clock reads a time: first or last reading of a repeated time; a skipped time
    resolves to the instant the clocks jump over it."""
    assert wall_clock_instant(day, at, LA, last=last) == expected_utc


@ZONES
def test_local_day_bounds_follow_the_wall_clock(zone):
    """A local day runs from midnight to midnight: 23 real hours in spring, 25 in the fall."""
    assert duration_between(*local_day_bounds(SPRING, zone)) == timedelta(hours=23)
    assert duration_between(*local_day_bounds(FALL, zone)) == timedelta(hours=25)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-11-07T01:00:00-07:00", datetime(2027, 11, 7, 8, 0, tzinfo=UTC)),
        ("2027-11-07T01:00:00-08:00", datetime(2027, 11, 7, 9, 0, tzinfo=UTC)),
        ("2027-11-07T09:00:00Z", datetime(2027, 11, 7, 9, 0, tzinfo=UTC)),
        ("2027-11-07T02:00:00", datetime(2027, 11, 7, 10, 0, tzinfo=UTC)),
        ("2027-11-07T01:00:00", None),  # happens twice: which one?
        ("2027-03-14T02:30:00", None),  # never happens
        ("not a time", None),
        ("", None),
    ],
)
def test_parse_instant(text, expected):
    """Text with an offset names one instant; naive text only when its wall time is unique."""
    parsed = parse_instant(text, LA)
    assert (parsed if parsed is None else utc(parsed)) == expected


@pytest.mark.parametrize(
    ("instant", "label"),
    [
        (datetime(2027, 11, 7, 8, 0, tzinfo=UTC), "01:00 PDT"),
        (datetime(2027, 11, 7, 9, 0, tzinfo=UTC), "01:00 PST"),
        (datetime(2027, 11, 7, 10, 0, tzinfo=UTC), "02:00"),
        (datetime(2027, 3, 14, 10, 0, tzinfo=UTC), "03:00"),
    ],
)
def test_wall_clock_label_names_the_zone_only_in_the_repeated_hour(instant, label):
    """A time people read: the zone name is added only where the time alone names two instants."""
    assert wall_clock_label(instant, LA) == label
