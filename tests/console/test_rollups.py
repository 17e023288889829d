"""The day and week rollups (`MachineDay`, `MemberWeek`) give the reports the same numbers as the
plain count from the bookings and the hourly rollup, on the same data: across the spring-forward
night of 14 March 2027 in Los Angeles, after a no-show or a cancellation recorded late for a
past day, and after a task runner that was down for days."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings.models import Booking
from bookings.states import BookingState
from console import reports, services, tasks
from console.models import MachineDay, MemberWeek, RollupMark
from tests.console.conftest import LA, member, utc
from tests.factories.access import GateDeviceFactory, UsageSessionFactory
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory

NEW_YORK = ZoneInfo("America/New_York")
# Wednesday 24 March 2027, noon PDT: the rollup's settled days end on Monday the 22nd.
NOW = datetime(2027, 3, 24, 12, tzinfo=LA)
STATES = [
    BookingState.COMPLETED, BookingState.NO_SHOW, BookingState.LATE_CANCELLED,
    BookingState.CANCELLED, BookingState.COMPLETED,
]  # fmt: skip


@pytest.fixture
def month(here, bookings):
    """Five weeks of bookings on the laser and the saw (the conftest's week among them): each day
    one near local midnight on both sides of it (06:30Z and 08:30Z: the day before and the day
    itself in PST, both the day itself in PDT) and one in the afternoon, states in turn; and
    a session on each afternoon's laser booking, the spring-forward night's included."""
    laser = MachineFactory._meta.model.objects.get(name="Laser")
    saw = MachineFactory._meta.model.objects.get(name="Saw")
    gate = GateDeviceFactory(machine=laser)
    people = [member("Ann"), member("Bob"), member("Cid")]
    k = 0
    for day in range(35):
        base = utc(2027, 2, 22) + timedelta(days=day)
        for machine in (laser, saw):
            for hour, minute in ((6, 30), (8, 30), (19, 0)):
                start = base.replace(hour=hour, minute=minute)
                BookingFactory(
                    machine=machine, member=people[k % 3], start=start,
                    end=start + timedelta(minutes=45), state=STATES[k % len(STATES)],
                )  # fmt: skip
                k += 1
        UsageSessionFactory(
            device=gate, started_at=base.replace(hour=9), ended_at=base.replace(hour=11, minute=20)
        )
    # The hours as the task runner kept them over the month (its first run recounts only the
    # last two days' hours; the days it rolls up from whatever hours there are).
    services.utilization_rollup(start=utc(2027, 2, 20), end=utc(2027, 3, 23), now=NOW)
    return laser, saw


def attendance(**kwargs):
    report = reports.attendance(weeks=5, until=NOW.date(), **kwargs)
    return report.machines, report.members


def utilization(**kwargs):
    """The Los Angeles location's machines (the drill elsewhere is in New York time)."""
    here = MachineFactory._meta.model.objects.exclude(name="Drill")
    report = reports.utilization(weeks=5, until=NOW.date(), machines=here, **kwargs)
    return report.machines, report.weeks, report.heat


def roll(now=NOW):
    with time_machine.travel(now, tick=False):
        services.reports_rollup(now=now)


def test_no_shows_from_the_rollups_equal_the_plain_count(here, month):
    roll()
    assert MachineDay.objects.exists() and MemberWeek.objects.exists()
    with time_machine.travel(NOW, tick=False), timezone.override(LA):
        rolled = attendance(scope=here[2])
        assert rolled == attendance(scope=here[2], live=True)
    machines, members = rolled
    assert [m.label for m in machines] == ["Laser", "Saw"]
    assert all(m.bookings > 30 and m.no_shows and m.late_cancellations for m in machines)
    assert {m.email for m in members} == {"Ann@x.org", "Bob@x.org", "Cid@x.org"}


def test_the_settled_days_are_read_from_the_rollup(here, month):
    """Bookings changed behind the rollup's back (no change time: nothing tells the task) keep
    their rolled-up figures on settled days, and only there: the report reads the rollup."""
    roll()
    with time_machine.travel(NOW, tick=False), timezone.override(LA):
        before = attendance(scope=here[2])
        Booking.objects.filter(start__lt=utc(2027, 3, 20)).update(state=BookingState.COMPLETED)
        assert attendance(scope=here[2]) == before
        assert attendance(scope=here[2], live=True) != before


def test_a_no_show_or_cancellation_recorded_late_is_counted_by_the_next_run(here, month):
    """The task runner was down when Tuesday 2 March's bookings ended: their no-show and a late
    cancellation are recorded on the 24th. The next run recounts that day and week."""
    roll()
    later = NOW + timedelta(minutes=15)
    old = list(Booking.objects.filter(
        start__gte=utc(2027, 3, 2, 12), start__lt=utc(2027, 3, 3, 12), state=BookingState.COMPLETED
    ).order_by("start"))  # fmt: skip
    assert len(old) >= 2
    Booking.objects.filter(pk=old[0].pk).update(state=BookingState.NO_SHOW, released_at=later)
    Booking.objects.filter(pk=old[1].pk).update(
        state=BookingState.LATE_CANCELLED, cancelled_at=later
    )
    with time_machine.travel(later, tick=False), timezone.override(LA):
        live = attendance(scope=here[2], live=True)
        assert attendance(scope=here[2]) != live  # until the next run
    roll(later + timedelta(minutes=1))
    with time_machine.travel(later + timedelta(minutes=1), tick=False), timezone.override(LA):
        assert attendance(scope=here[2]) == live


def test_a_task_runner_down_for_days_leaves_no_gap(here, month):
    """A run on the 10th, then none until the 24th: the 24th's run recounts from the 10th's mark,
    so the days between are settled with what happened in them."""
    roll(datetime(2027, 3, 10, 12, tzinfo=LA))
    assert RollupMark.objects.get().through == datetime(2027, 3, 10, 12, tzinfo=LA)
    roll()
    with time_machine.travel(NOW, tick=False), timezone.override(LA):
        assert attendance(scope=here[2]) == attendance(scope=here[2], live=True)
        assert utilization() == utilization(live=True)


def test_utilization_from_the_day_rollup_equals_the_hourly_one(here, month):
    laser, _ = month
    roll()
    with time_machine.travel(NOW, tick=False), timezone.override(LA):
        rolled = utilization()
        assert rolled == utilization(live=True)
        machines, weeks, heat = rolled
        # 31 sessions of 2 h 20 min up to now (09:00Z to 11:20Z each day from 22 February).
        assert machines[0].label == "Laser" and machines[0].powered_hours == pytest.approx(72.33)
        assert sum(w.powered_hours for w in weeks) == pytest.approx(72.33, abs=0.05)
        # Sundays: 28 Feb and 7 Mar 01:00-03:20 PST; 14 Mar 01:00 PST, then the clocks jump,
        # 03:00-04:20 PDT; 21 Mar 02:00-04:20 PDT.
        assert heat[6][1:5] == [3.0, 3.0, pytest.approx(2.67), pytest.approx(0.67)]
        MachineDay.objects.filter(machine=laser).update(powered_seconds=0)
        assert utilization()[0][0].powered_hours == 0  # read from the day rollup


def test_a_report_in_another_zone_than_the_locations_counts_live(here, month):
    roll()
    with time_machine.travel(NOW, tick=False), timezone.override(NEW_YORK):
        Booking.objects.filter(start__lt=utc(2027, 3, 20)).update(state=BookingState.COMPLETED)
        assert attendance(scope=here[2]) == attendance(scope=here[2], live=True)
        assert utilization() == utilization(live=True)


def test_the_task_moves_the_mark(here, month):
    with time_machine.travel(NOW, tick=False):
        tasks.rollup_utilization()
    assert RollupMark.objects.get().through == NOW


@pytest.mark.parametrize("size", [1, 4])
def test_the_rolled_up_reports_ask_a_fixed_number_of_queries(here, size):
    laser = MachineFactory(name="Laser")
    for i in range(size):
        who = member(f"m{size}-{i}")
        for day in (1, 10, 23):
            BookingFactory(machine=laser, member=who, start=utc(2027, 3, day, 10 + i),
                           state=BookingState.NO_SHOW)  # fmt: skip
    roll()
    counts = []
    with time_machine.travel(NOW, tick=False), timezone.override(LA):
        for build in (lambda: reports.attendance(scope=here[2]), reports.utilization):
            with CaptureQueriesContext(connection) as queries:
                build()
            counts.append(len(queries))
    assert counts == [8, 5]
