"""Opening hours and maintenance windows across daylight-saving changes: both ends follow the
wall clock ("Sundays 01:00 to 03:00" is three real hours on the fall-back night, one on spring
forward), the repeated hour opens at its first reading and closes at its last, and a time the
clocks skip resolves to the moment they jump.

The nights: 14 March 2027 and 7 November 2027, in America/Los_Angeles and America/New_York.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from core.time import utc, wall_clock_instant
from equipment import selectors, services
from equipment.models import MachineEvent
from tests.factories.equipment import MachineFactory
from tests.factories.locations import default_location_in

LA = ZoneInfo("America/Los_Angeles")
NY = ZoneInfo("America/New_York")
SPRING = date(2027, 3, 14)
FALL = date(2027, 11, 7)
SUNDAY = 6
ZONES = pytest.mark.parametrize("zone", [LA, NY], ids=["los_angeles", "new_york"])


@pytest.fixture(autouse=True)
def _in_zone(request):
    """Run with the parametrised `zone` (else Los Angeles) as the space's zone."""
    zone = request.getfixturevalue("zone") if "zone" in request.fixturenames else LA
    if "db" in request.fixturenames:
        request.getfixturevalue("db")
        default_location_in(zone)  # the machines' location, where their clocks are
    with (
        timezone.override(zone),
        time_machine.travel(datetime(2027, 1, 4, 12, tzinfo=zone), tick=False),
    ):
        yield


def _at(day: date, hour: int, minute: int = 0, *, last: bool = False) -> datetime:
    return wall_clock_instant(day, time(hour, minute), timezone.get_current_timezone(), last=last)


def _spans_on(
    machine, day: date, kind=MachineEvent.Kind.OPENING
) -> list[tuple[datetime, datetime]]:
    """What the machine's calendar says begins on the local `day`: opening or blocked spans."""
    start = _at(day, 0)
    end = _at(day + timedelta(days=1), 0)
    facts = selectors.machine_calendar_facts(machine, start=start, end=end)
    if kind == MachineEvent.Kind.OPENING:
        spans = facts.opening
    else:
        spans = [(block_start, block_end) for block_start, block_end, _ in facts.blocks]
    return sorted((utc(a), utc(b)) for a, b in spans if start <= utc(a) < end)


def _hours(span) -> float:
    return (utc(span[1]) - utc(span[0])).total_seconds() / 3600


@ZONES
@pytest.mark.parametrize("day", [SPRING, FALL], ids=["spring", "fall"])
def test_nine_to_nine_stays_nine_to_nine(zone, day, db):
    """Hours that do not cross the change keep their wall-clock times and 12 real hours."""
    machine = MachineFactory()
    services.opening_hours_add(
        machine=machine, weekdays=list(range(7)), opens=time(9), closes=time(21)
    )
    assert _spans_on(machine, day) == [(_at(day, 9), _at(day, 21))]


@ZONES
@pytest.mark.parametrize(("day", "hours"), [(SPRING, 23), (FALL, 25)], ids=["spring", "fall"])
def test_open_midnight_to_midnight_is_the_whole_local_day(zone, day, hours, db):
    """Open 00:00-24:00 on Sundays: the change Sunday is open all of its 23 or 25 hours, and the
    Monday after is not open at 00:00."""
    machine = MachineFactory()
    services.opening_hours_add(machine=machine, weekdays=[SUNDAY], opens=time(0), closes=time(0))
    (span,) = _spans_on(machine, day)
    assert span == (_at(day, 0), _at(day + timedelta(days=1), 0))
    assert _hours(span) == hours
    facts = selectors.machine_calendar_facts(
        machine, start=_at(day + timedelta(days=1), 0), end=_at(day + timedelta(days=1), 1)
    )
    assert facts.opening == []


@ZONES
@pytest.mark.parametrize(
    ("day", "hours"), [(SPRING, 1), (FALL, 3)], ids=["spring: 1 real hour", "fall: 3 real hours"]
)
def test_hours_across_the_change_follow_the_wall_clock(zone, day, hours, db):
    """Sundays 01:00-03:00 open at the first 01:00 and close when the clock reads 03:00."""
    machine = MachineFactory()
    services.opening_hours_add(machine=machine, weekdays=[SUNDAY], opens=time(1), closes=time(3))
    (span,) = _spans_on(machine, day)
    assert span == (_at(day, 1), _at(day, 3))
    assert _hours(span) == hours


@ZONES
def test_hours_ending_in_the_repeated_hour_close_at_its_second_pass(zone, db):
    """Open until 01:30: on the fall-back night the clock reads 01:30 twice; open until the last."""
    machine = MachineFactory()
    services.opening_hours_add(
        machine=machine, weekdays=[SUNDAY], opens=time(0), closes=time(1, 30)
    )
    (span,) = _spans_on(machine, FALL)
    assert span == (_at(FALL, 0), _at(FALL, 1, 30, last=True))
    assert _hours(span) == 2.5


@ZONES
def test_hours_starting_in_the_skipped_hour_open_when_the_clocks_jump(zone, db):
    """Open from 02:30 on the spring-forward Sunday: 02:30 never shows, so from 03:00."""
    machine = MachineFactory()
    services.opening_hours_add(
        machine=machine, weekdays=[SUNDAY], opens=time(2, 30), closes=time(5)
    )
    (span,) = _spans_on(machine, SPRING)
    assert span == (_at(SPRING, 3), _at(SPRING, 5))


@ZONES
@pytest.mark.parametrize("day", [SPRING, FALL], ids=["spring", "fall"])
def test_hours_added_on_the_change_day_read_back_as_typed(zone, day, db):
    """Added on the change Sunday itself, 00:00-24:00 and 02:30-05:00 still read back as typed,
    and the following Sundays open at those wall-clock times."""
    machine = MachineFactory()
    services.opening_hours_add(
        machine=machine, weekdays=[SUNDAY], opens=time(0), closes=time(0), starting=day
    )
    other = MachineFactory()
    services.opening_hours_add(
        machine=other, weekdays=[SUNDAY], opens=time(2, 30), closes=time(5), starting=day
    )
    assert [(i.opens, i.closes_label) for i in selectors.opening_intervals(machine)] == [
        (time(0), "24:00")
    ]
    assert [(i.opens, i.closes_label) for i in selectors.opening_intervals(other)] == [
        (time(2, 30), "05:00")
    ]
    next_sunday = day + timedelta(weeks=1)
    assert _spans_on(machine, next_sunday) == [
        (_at(next_sunday, 0), _at(next_sunday + timedelta(days=1), 0))
    ]
    assert _spans_on(other, next_sunday) == [(_at(next_sunday, 2, 30), _at(next_sunday, 5))]


@ZONES
@pytest.mark.parametrize(
    ("day", "hours"), [(SPRING, 1), (FALL, 3)], ids=["spring: 1 real hour", "fall: 3 real hours"]
)
def test_weekly_maintenance_follows_the_wall_clock(zone, day, hours, db):
    """Weekly maintenance set for Sundays 01:00-03:00 a week before blocks 01:00-03:00 on the
    change night too, the first 01:00 included."""
    machine = MachineFactory()
    first = day - timedelta(weeks=1)
    services.maintenance_window_add(
        machine=machine,
        start=_at(first, 1),
        end=_at(first, 3),
        reason="Lens cleaning",
        repeat_weekly_until=_at(day + timedelta(weeks=2), 0),
    )
    (span,) = _spans_on(machine, day, MachineEvent.Kind.MAINTENANCE)
    assert span == (_at(day, 1), _at(day, 3))
    assert _hours(span) == hours
    facts = selectors.machine_calendar_facts(machine, start=_at(day, 0), end=_at(day, 4))
    assert [(start, end) for start, end, _ in facts.blocks] == [span]


@ZONES
def test_one_off_maintenance_keeps_the_instants_typed(zone, db):
    """A single window across the fall-back (00:30 PDT to 02:30 PST) is exactly that, 3 hours."""
    machine = MachineFactory()
    services.maintenance_window_add(
        machine=machine, start=_at(FALL, 0, 30), end=_at(FALL, 2, 30), reason="Mirror swap"
    )
    (span,) = _spans_on(machine, FALL, MachineEvent.Kind.MAINTENANCE)
    assert span == (_at(FALL, 0, 30), _at(FALL, 2, 30)) and _hours(span) == 3
