"""Machine calendars read from a series started near the span: the same spans as from its
first occurrence, whatever the daylight-saving changes, moved and cancelled occurrences."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from core.time import wall_clock_instant
from equipment import selectors, services
from equipment.models import MachineEvent
from tests.factories.equipment import MachineFactory
from tests.factories.locations import default_location_in

LA = ZoneInfo("America/Los_Angeles")
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_los_angeles(db):
    default_location_in(LA)
    with timezone.override(LA), time_machine.travel(datetime(2027, 1, 4, 12, tzinfo=LA)):
        yield


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return wall_clock_instant(day, time(hour, minute), LA)


def _machine_with_old_series():
    """Hours set in January 2026 (one in the skipped and repeated hours), weekly maintenance since
    then, one of its occurrences moved and one cancelled."""
    machine = MachineFactory()
    services.opening_hours_add(
        machine=machine,
        weekdays=[0, 1, 2, 3, 4],
        opens=time(8),
        closes=time(20),
        starting=date(2026, 1, 5),
    )
    services.opening_hours_add(
        machine=machine, weekdays=[6], opens=time(1, 30), closes=time(6), starting=date(2026, 1, 4)
    )
    services.maintenance_window_add(
        machine=machine,
        start=_at(date(2026, 1, 6), 20, 30),
        end=_at(date(2026, 1, 6), 22),
        reason="Lens cleaning",
        repeat_weekly_until=_at(date(2028, 1, 1), 0),
    )
    event = MachineEvent.objects.get(machine=machine, kind=MachineEvent.Kind.MAINTENANCE).event

    def occurrence(day: date):
        (found,) = event.get_occurrences(_at(day, 0), _at(day + timedelta(days=1), 0))
        return found

    occurrence(date(2027, 3, 16)).move(_at(date(2027, 3, 17), 20, 30), _at(date(2027, 3, 17), 22))
    occurrence(date(2027, 11, 9)).cancel()
    return machine


@pytest.mark.parametrize(
    ("monday", "maintenance"),
    [
        (date(2026, 1, 5), 1),
        (date(2026, 1, 12), 1),
        (date(2027, 3, 8), 1),
        (date(2027, 3, 15), 2),  # moved to Wednesday (django-scheduler shows both)
        (date(2027, 11, 1), 1),
        (date(2027, 11, 8), 0),  # cancelled
    ],
    ids=["first week", "second week", "spring forward", "moved", "fall back", "cancelled"],
)
def test_a_series_started_near_the_span_reads_as_from_its_start(monday, maintenance, monkeypatch):
    machine = _machine_with_old_series()
    start, end = _at(monday, 0), _at(monday + timedelta(days=7), 0)
    near = selectors.machine_calendar_facts(machine, start=start, end=end)
    monkeypatch.setattr(selectors, "_series_near", lambda event, before, zone: event)
    assert near == selectors.machine_calendar_facts(machine, start=start, end=end)
    assert len(near.opening or []) == 6 and len(near.blocks) == maintenance


def test_the_series_is_started_a_week_or_two_before_the_span():
    machine = _machine_with_old_series()
    before = _at(date(2027, 11, 8), 0)
    for machine_event in machine.events.select_related("event__rule"):
        near = selectors._series_near(machine_event.event, before, LA)
        assert timedelta(weeks=1) <= before - near.start < timedelta(weeks=2)
        assert near.pk == machine_event.event.pk
