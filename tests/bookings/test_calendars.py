"""django-scheduler: locked down, and its recurrences give the right opening hours and blocks."""

from __future__ import annotations

from datetime import time

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import NoReverseMatch, reverse

from equipment import services as equipment_services
from equipment.selectors import machine_calendar_facts
from tests.bookings.conftest import at
from tests.factories.equipment import MachineFactory
from tests.factories.membership import UserFactory


def test_scheduler_views_are_not_routed():
    """Its views, JSON API and feeds are not reachable: no URL of theirs exists."""
    for name in ["calendar_home", "api_occurrences", "day_calendar"]:
        with pytest.raises(NoReverseMatch):
            reverse(name)


def test_scheduler_permission_checks_allow_only_staff(db):
    """Should anyone route its views, only active staff pass django-scheduler's checks."""
    from schedule import settings as schedule_settings

    member, staff = UserFactory(), UserFactory(is_staff=True)
    for check in (
        schedule_settings.CHECK_EVENT_PERM_FUNC,
        schedule_settings.CHECK_CALENDAR_PERM_FUNC,
        schedule_settings.CHECK_OCCURRENCE_PERM_FUNC,
    ):
        assert not check(None, AnonymousUser())
        assert not check(None, member)
        assert check(None, staff)
    assert schedule_settings.CALENDAR_VIEW_PERM is True


def test_opening_hours_recur_on_the_chosen_weekdays(db, frozen):
    """Weekday hours 9-17, weekend 10-14, in local time, from the machine's calendar."""
    machine = MachineFactory()
    equipment_services.opening_hours_add(
        machine=machine, weekdays=[0, 1, 2, 3, 4], opens=time(9), closes=time(17)
    )
    equipment_services.opening_hours_add(
        machine=machine, weekdays=[5, 6], opens=time(10), closes=time(14)
    )
    facts = machine_calendar_facts(machine, start=at(0, 0), end=at(7, 0))
    assert facts.opening[0] == (at(0, 9), at(0, 17))
    assert facts.opening[4] == (at(4, 9), at(4, 17))
    assert facts.opening[5] == (at(5, 10), at(5, 14))
    assert len(facts.opening) == 7
    assert machine.calendar.slug == f"machine-{machine.slug}"


def test_opening_hours_keep_wall_clock_time_across_daylight_saving(db, frozen):
    """9:00 stays 9:00 local after the March change (America/Los_Angeles, 10 March 2030)."""
    machine = MachineFactory()
    equipment_services.opening_hours_add(
        machine=machine, weekdays=[0, 1, 2, 3, 4, 5, 6], opens=time(9), closes=time(17)
    )
    facts = machine_calendar_facts(machine, start=at(63, 0), end=at(64, 0))  # 11 March 2030
    assert facts.opening == [(at(63, 9), at(63, 17))]
