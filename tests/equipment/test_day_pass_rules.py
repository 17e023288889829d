"""The pure rules of day passes: which machine a pass opens, when, and which days are sold."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from equipment.daypasses.rules import (
    DAY_PAST,
    PassCover,
    PassMachine,
    day_pass_day_refusal,
    pass_covers_span,
    pass_names_machine,
    pass_open_until,
)

LA, SEOUL = ZoneInfo("America/Los_Angeles"), ZoneInfo("Asia/Seoul")
DAY = date(2026, 12, 3)
COVER = PassCover(
    holder_id=7,
    day=DAY,
    machine_ids=frozenset({1}),
    certification_ids=frozenset({50}),
    location_ids=frozenset({10}),
)


def _machine(machine_id=1, certification_id=None, location_id=10, zone=LA) -> PassMachine:
    return PassMachine(machine_id, certification_id, location_id, zone)


@pytest.mark.parametrize(
    ("machine", "opens"),
    [
        (_machine(), True),  # named
        (_machine(machine_id=2), False),  # another machine
        (_machine(machine_id=2, certification_id=50), True),  # of the class it names
        (_machine(machine_id=2, certification_id=51), False),  # of another class
        (_machine(location_id=11), False),  # named, but at a location it does not name
        (_machine(machine_id=2, certification_id=50, location_id=11), False),
    ],
)
def test_a_pass_names_its_machines_and_classes_only_at_its_locations(machine, opens):
    assert pass_names_machine(COVER, machine) is opens


@pytest.mark.parametrize(
    ("at", "until"),
    [
        # The day in Los Angeles: 08:00 UTC on the 3rd to 08:00 UTC on the 4th.
        (datetime(2026, 12, 3, 8, 0, tzinfo=UTC), datetime(2026, 12, 4, 8, 0, tzinfo=UTC)),
        (datetime(2026, 12, 4, 7, 59, tzinfo=UTC), datetime(2026, 12, 4, 8, 0, tzinfo=UTC)),
        (datetime(2026, 12, 3, 7, 59, tzinfo=UTC), None),  # still the 2nd there
        (datetime(2026, 12, 4, 8, 0, tzinfo=UTC), None),  # the next day
    ],
)
def test_a_pass_opens_from_local_midnight_to_local_midnight(at, until):
    assert pass_open_until([COVER], holder_id=7, machine=_machine(), at=at) == until


def test_the_same_day_is_another_stretch_of_time_in_another_zone():
    seoul = _machine(zone=SEOUL)
    # 16:00 UTC on the 3rd is 08:00 on the 3rd in Los Angeles but 01:00 on the 4th in Seoul.
    at = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
    assert pass_open_until([COVER], holder_id=7, machine=_machine(), at=at) is not None
    assert pass_open_until([COVER], holder_id=7, machine=seoul, at=at) is None
    # Seoul's 3rd: 15:00 UTC on the 2nd to 15:00 UTC on the 3rd.
    early = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    assert pass_open_until([COVER], holder_id=7, machine=seoul, at=early) == datetime(
        2026, 12, 3, 15, 0, tzinfo=UTC
    )


def test_a_pass_opens_nothing_for_someone_else():
    at = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)
    assert pass_open_until([COVER], holder_id=8, machine=_machine(), at=at) is None


def test_a_day_the_clocks_change_is_25_hours_long():
    fall_back = PassCover(7, date(2026, 11, 1), frozenset({1}), frozenset(), frozenset({10}))
    start = datetime(2026, 11, 1, 7, 0, tzinfo=UTC)  # midnight, daylight time
    until = pass_open_until([fall_back], holder_id=7, machine=_machine(), at=start)
    assert until == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # midnight, standard time


@pytest.mark.parametrize(
    ("start", "end", "covered"),
    [
        (datetime(2026, 12, 3, 17, 0, tzinfo=UTC), datetime(2026, 12, 3, 19, 0, tzinfo=UTC), True),
        (datetime(2026, 12, 4, 6, 0, tzinfo=UTC), datetime(2026, 12, 4, 8, 0, tzinfo=UTC), True),
        # Past local midnight: the booking is longer than the pass.
        (datetime(2026, 12, 4, 7, 0, tzinfo=UTC), datetime(2026, 12, 4, 9, 0, tzinfo=UTC), False),
        (datetime(2026, 12, 2, 7, 0, tzinfo=UTC), datetime(2026, 12, 3, 9, 0, tzinfo=UTC), False),
    ],
)
def test_a_booking_is_covered_only_inside_the_pass_day(start, end, covered):
    assert (
        pass_covers_span([COVER], holder_id=7, machine=_machine(), start=start, end=end) is covered
    )


@pytest.mark.parametrize(
    ("day", "todays", "refused"),
    [
        (date(2026, 12, 3), [date(2026, 12, 3)], None),
        (date(2026, 12, 2), [date(2026, 12, 3)], DAY_PAST),
        # Over in Seoul, still today in Los Angeles: a pass naming both can still be sold.
        (date(2026, 12, 3), [date(2026, 12, 3), date(2026, 12, 4)], None),
        (date(2026, 12, 2), [date(2026, 12, 3), date(2026, 12, 4)], DAY_PAST),
        (date(2027, 1, 2), [date(2026, 12, 3)], None),  # 30 days ahead
        (date(2027, 1, 3), [date(2026, 12, 3)], "Day passes are sold at most 30 days ahead."),
    ],
)
def test_which_days_are_sold(day, todays, refused):
    assert day_pass_day_refusal(day=day, todays=todays, ahead_days=30) == refused
