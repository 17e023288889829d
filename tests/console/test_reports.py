"""Utilization against hand-counted fixtures: the hourly rollup splits bookings and sessions
into real hours, the report sums them per machine, per local week and per local weekday x
hour, daylight-saving nights included (a 25-hour and a 23-hour night)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from bookings.states import BookingState
from console import reports, services
from console.models import MachineHour
from membership import roles
from tests.factories.access import GateDeviceFactory, UsageSessionFactory
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory
from tests.factories.membership import UserFactory

LA = ZoneInfo("America/Los_Angeles")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_split_into_hours_counts_each_real_hour():
    pieces = list(services.split_into_hours(utc(2026, 1, 1, 9, 30), utc(2026, 1, 1, 11, 15)))
    assert pieces == [
        (utc(2026, 1, 1, 9), 1800),
        (utc(2026, 1, 1, 10), 3600),
        (utc(2026, 1, 1, 11), 900),
    ]
    assert list(services.split_into_hours(utc(2026, 1, 1, 9), utc(2026, 1, 1, 9))) == []


@pytest.fixture
def fall_back(db):
    """The night of Sunday 1 November 2026 in Los Angeles (01:00 happens twice).

    Laser: booked 00:00 to 04:00 on the wall clock = 07:00Z to 12:00Z, five real hours; powered
    00:30 PDT to 03:30 PST = 07:30Z to 11:30Z, four real hours.
    Saw, Wednesday 4 November (PST): powered 10:00 to 11:15 (1.25 h); a no-show booking
    10:00 to 11:00 counts as booked (1 h); a cancelled one 12:00 to 13:00 does not.
    """
    laser = MachineFactory(name="Laser")
    saw = MachineFactory(name="Saw")
    BookingFactory(machine=laser, start=utc(2026, 11, 1, 7), end=utc(2026, 11, 1, 12))
    UsageSessionFactory(
        device=GateDeviceFactory(machine=laser),
        started_at=utc(2026, 11, 1, 7, 30),
        ended_at=utc(2026, 11, 1, 11, 30),
    )
    UsageSessionFactory(
        device=GateDeviceFactory(machine=saw),
        started_at=utc(2026, 11, 4, 18),
        ended_at=utc(2026, 11, 4, 19, 15),
    )
    BookingFactory(
        machine=saw,
        start=utc(2026, 11, 4, 18),
        end=utc(2026, 11, 4, 19),
        state=BookingState.NO_SHOW,
    )
    BookingFactory(
        machine=saw,
        start=utc(2026, 11, 4, 20),
        end=utc(2026, 11, 4, 21),
        state=BookingState.CANCELLED,
    )
    services.utilization_rollup(start=utc(2026, 10, 25), end=utc(2026, 11, 10))
    return laser, saw


def test_the_rollup_holds_real_hours(fall_back):
    laser, _ = fall_back
    rows = MachineHour.objects.filter(machine=laser).order_by("hour")
    assert [(r.hour.hour, r.booked_seconds, r.powered_seconds) for r in rows] == [
        (7, 3600, 1800),
        (8, 3600, 3600),
        (9, 3600, 3600),
        (10, 3600, 3600),
        (11, 3600, 1800),
    ]


def test_per_machine_and_per_week_the_fall_back_night_has_its_extra_hour(fall_back):
    report = reports.utilization(weeks=2, until=date(2026, 11, 4))
    assert (report.first_day, report.last_day) == (date(2026, 10, 26), date(2026, 11, 8))
    by_name = {u.label: u for u in report.machines}
    assert (by_name["Laser"].booked_hours, by_name["Laser"].powered_hours) == (5.0, 4.0)
    assert by_name["Laser"].powered_share == 80
    assert (by_name["Saw"].booked_hours, by_name["Saw"].powered_hours) == (1.0, 1.25)
    assert by_name["Saw"].powered_share == 125
    # The Sunday of the fall-back night belongs to the week starting Monday 26 October.
    assert [(u.label, u.booked_hours, u.powered_hours) for u in report.weeks] == [
        ("26 Oct", 5.0, 4.0),
        ("02 Nov", 1.0, 1.25),
    ]


def test_the_heat_map_counts_both_one_oclocks_in_one_cell(fall_back):
    heat = reports.utilization(weeks=2, until=date(2026, 11, 4)).heat
    sunday, wednesday = heat[6], heat[2]
    assert sunday[:5] == [0.5, 2.0, 1.0, 0.5, 0.0]
    assert wednesday[10:12] == [1.0, 0.25]
    assert sum(map(sum, heat)) == 5.25


def test_spring_forward_has_no_two_oclock(db):
    """Sunday 8 March 2026: 01:30 PST to 03:30 PDT is one real hour, half in 01:00, half in
    03:00, and nothing in the 02:00 that did not happen."""
    laser = MachineFactory(name="Laser")
    UsageSessionFactory(
        device=GateDeviceFactory(machine=laser),
        started_at=utc(2026, 3, 8, 9, 30),
        ended_at=utc(2026, 3, 8, 10, 30),
    )
    services.utilization_rollup(start=utc(2026, 3, 8), end=utc(2026, 3, 9))
    report = reports.utilization(weeks=1, until=date(2026, 3, 8))
    assert report.heat[6][:4] == [0.0, 0.5, 0.0, 0.5]
    assert report.machines[0].powered_hours == 1.0
    assert report.machines[0].powered_share is None  # nothing booked


def test_a_week_boundary_is_local_midnight_not_utc(db):
    """Sunday 23:30 to Monday 00:30 local (PST) splits between two weeks, though in UTC it all
    lies on the Monday."""
    laser = MachineFactory(name="Laser")
    UsageSessionFactory(
        device=GateDeviceFactory(machine=laser),
        started_at=datetime(2026, 11, 8, 23, 30, tzinfo=LA),
        ended_at=datetime(2026, 11, 9, 0, 30, tzinfo=LA),
    )
    services.utilization_rollup(start=utc(2026, 11, 8), end=utc(2026, 11, 11))
    weeks = reports.utilization(weeks=2, until=date(2026, 11, 9)).weeks
    assert [(u.label, u.powered_hours) for u in weeks] == [("02 Nov", 0.5), ("09 Nov", 0.5)]


def test_rolling_up_again_replaces_the_hours_and_running_sessions_count_to_now(db):
    laser = MachineFactory(name="Laser")
    gate = GateDeviceFactory(machine=laser)
    UsageSessionFactory(device=gate, started_at=utc(2026, 5, 1, 9), ended_at=None, grant_end=None)
    UsageSessionFactory(  # a second gate on the same machine overlapping: the hour counts once
        device=GateDeviceFactory(machine=laser),
        started_at=utc(2026, 5, 1, 9),
        ended_at=utc(2026, 5, 1, 10),
    )
    now = utc(2026, 5, 1, 10, 20)
    for _ in range(2):
        services.utilization_rollup(start=utc(2026, 5, 1, 8), end=utc(2026, 5, 1, 11), now=now)
    rows = MachineHour.objects.order_by("hour")
    assert [(r.hour.hour, r.powered_seconds) for r in rows] == [(9, 3600), (10, 1200)]
    UsageSessionFactory(  # a grant that ended before now: counted to the grant's end
        device=gate,
        started_at=utc(2026, 5, 1, 8),
        ended_at=None,
        grant_end=utc(2026, 5, 1, 8, 15),
        session_id="stale",
    )
    services.utilization_rollup(start=utc(2026, 5, 1, 8), end=utc(2026, 5, 1, 9), now=now)
    assert MachineHour.objects.get(hour=utc(2026, 5, 1, 8)).powered_seconds == 900
    assert MachineHour.objects.count() == 3


def test_the_page_shows_charts_with_tables_and_a_csv(
    client, fall_back, django_assert_max_num_queries
):
    client.force_login(UserFactory(role=roles.STAFF))
    url = reverse("console:utilization") + "?weeks=2"
    import time_machine

    with time_machine.travel(datetime(2026, 11, 4, 12, tzinfo=LA)):
        client.get(url)
        with django_assert_max_num_queries(15):
            page = client.get(url).content.decode()
        csv = client.get(url + "&format=csv").content.decode()
    assert page.count('<svg class="chart') == 3
    assert "<title>Laser, Booked: 5.0 h</title>" in page
    assert (
        '<th scope="row">Laser</th><td class="num">5.0</td><td class="num">4.0</td><td class="num">80%</td>'
        in page
    )
    assert "machine,Laser,5.00,4.00,80" in csv
    assert "week,26 Oct,5.00,4.00,80" in csv
    assert "hour,Sun 01:00,,2.00," in csv
