"""Fixtures of the bookings tests: a laser cutter with opening hours and a member allowed on it."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from equipment import services as equipment_services
from tests.factories.equipment import MachineFactory, certification, certify
from tests.factories.membership import ready_member

ZONE = ZoneInfo("America/Los_Angeles")
# Monday 7 January 2030, 08:00 in the space's zone: the week every test books in.
NOW = datetime(2030, 1, 7, 8, 0, tzinfo=ZONE)


@pytest.fixture(autouse=True)
def _postgres_only(request):
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def laser(db, frozen):
    machine = MachineFactory(
        name="Laser cutter",
        slug="laser",
        required_certification=certification("Laser cutter"),
        max_minutes=180,
        weekly_hours_per_member=6,
        daily_bookings_per_member=2,
        buffer_minutes=0,
    )
    equipment_services.opening_hours_add(
        machine=machine,
        weekdays=[0, 1, 2, 3, 4, 5, 6],
        opens=time(9),
        closes=time(21),
        starting=datetime(2029, 12, 31).date(),
    )
    return machine


@pytest.fixture
def maker(laser):
    member = ready_member()
    certify(member, laser.required_certification)
    return member


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A local instant in the test week: day 0 is Monday 7 January 2030."""
    return datetime.combine(NOW.date() + timedelta(days=day), time(hour, minute), tzinfo=ZONE)
