"""Machine setup actions: saving a machine tells the gates when who may use it changes; opening
hours are added and removed weekday by weekday and keep their wall-clock times."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.errors import DuplicateSubmission
from equipment import services
from equipment.errors import EquipmentError
from equipment.models import Machine, MachineEvent
from equipment.selectors import machine_calendar_facts, opening_intervals
from membership import roles
from tests.factories.equipment import MachineFactory, certification
from tests.factories.locations import AreaFactory
from tests.factories.membership import UserFactory

ZONE = ZoneInfo("America/Los_Angeles")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


@pytest.fixture
def staff(db):
    return UserFactory(role=roles.STAFF)


def test_new_maintainers_or_certification_reach_the_gates_with_the_change(staff, gate_calls):
    """Who may switch the machine on changed: the gates' lists are renewed in the same
    transaction, so they commit together or not at all."""
    machine = MachineFactory()
    machine.required_certification = certification("CNC router")
    services.machine_save(machine=machine, maintainers=[staff], actor=staff)
    assert gate_calls.machines() == [machine]


def test_other_changes_and_new_machines_are_not_announced(
    staff, gate_calls, django_capture_on_commit_callbacks
):
    """A description or a rule is no gate's business; a new machine has no gate yet."""
    machine = MachineFactory()
    with django_capture_on_commit_callbacks(execute=True):
        machine.description = "Now with a rotary attachment."
        machine.max_minutes = 120
        services.machine_save(machine=machine, maintainers=[], actor=staff)
        services.machine_save(
            machine=Machine(name="Lathe", slug="lathe"), maintainers=[staff], actor=staff
        )
    assert gate_calls.machines() == []
    assert Machine.objects.get(slug="lathe").calendar is not None


def test_unworkable_rules_and_outsiders_are_refused(staff, member):
    machine = MachineFactory(min_minutes=30, max_minutes=240)
    machine.min_minutes = 300
    with pytest.raises(EquipmentError, match="shorter than the shortest"):
        services.machine_save(machine=machine, maintainers=[], actor=staff)
    machine.min_minutes = 60
    with pytest.raises(EquipmentError, match="Only staff"):
        services.machine_save(machine=machine, maintainers=[], actor=member.user)
    machine.refresh_from_db()
    assert machine.min_minutes == 30


def test_an_edit_leaves_a_state_change_made_meanwhile(staff):
    """The page was opened before a maintainer took the machine out of service."""
    machine = MachineFactory()
    services.machine_set_state(
        machine=Machine.objects.get(pk=machine.pk),
        state="out_of_service",
        reason="Tube cracked",
        actor=staff,
    )
    machine.area = AreaFactory(location=machine.location, name="Laser room")
    services.machine_save(machine=machine, maintainers=[], actor=staff)
    machine.refresh_from_db()
    assert (machine.state, machine.area.name) == ("out_of_service", "Laser room")


def test_opening_hours_are_listed_per_weekday(db):
    machine = MachineFactory()
    services.opening_hours_add(machine=machine, weekdays=[0, 2], opens=time(10), closes=time(13))
    services.opening_hours_add(machine=machine, weekdays=[0], opens=time(14), closes=time(0))
    assert [(i.weekday, i.opens, i.closes_label) for i in opening_intervals(machine)] == [
        (0, time(10), "13:00"),
        (0, time(14), "24:00"),
        (2, time(10), "13:00"),
    ]


def test_overlapping_hours_are_refused(db):
    machine = MachineFactory()
    services.opening_hours_add(machine=machine, weekdays=[0], opens=time(10), closes=time(13))
    with pytest.raises(EquipmentError, match="Monday is already open"):
        services.opening_hours_add(machine=machine, weekdays=[0], opens=time(12), closes=time(15))
    assert MachineEvent.objects.count() == 1


def test_removing_one_weekday_keeps_the_others(db):
    """Hours set for Monday to Friday lose only Monday."""
    machine = MachineFactory()
    opening = services.opening_hours_add(
        machine=machine, weekdays=[0, 1, 2, 3, 4], opens=time(9), closes=time(17)
    )
    services.opening_hours_remove(machine=machine, opening_id=opening.pk, weekday=0)
    assert sorted({i.weekday for i in opening_intervals(machine)}) == [1, 2, 3, 4]
    for day in (1, 2, 3, 4):
        services.opening_hours_remove(machine=machine, opening_id=opening.pk, weekday=day)
    assert not MachineEvent.objects.exists()
    with pytest.raises(EquipmentError, match="already removed"):
        services.opening_hours_remove(machine=machine, opening_id=opening.pk, weekday=0)


def test_a_form_token_adds_hours_once(db):
    machine = MachineFactory()
    token = uuid.uuid4()
    services.opening_hours_add(
        machine=machine, weekdays=[5], opens=time(10), closes=time(14), token=token
    )
    with pytest.raises(DuplicateSubmission):
        services.opening_hours_add(
            machine=machine, weekdays=[6], opens=time(10), closes=time(14), token=token
        )
    assert [i.weekday for i in opening_intervals(machine)] == [5]


@pytest.mark.parametrize(
    "starting",
    [date(2030, 3, 10), date(2030, 11, 3)],
    ids=["added-on-spring-forward", "added-on-fall-back"],
)
def test_hours_added_on_a_daylight_saving_day_keep_their_length(db, starting):
    """Added 00:30-05:00 on the night the clocks change, they are 00:30-05:00 every other day."""
    machine = MachineFactory()
    services.opening_hours_add(
        machine=machine,
        weekdays=list(range(7)),
        opens=time(0, 30),
        closes=time(5),
        starting=starting,
    )
    next_week = starting + timedelta(days=7)
    facts = machine_calendar_facts(
        machine, start=local(next_week, 0), end=local(next_week + timedelta(days=1), 0)
    )
    assert facts.opening == [(local(next_week, 0, 30), local(next_week, 5))]
    first = opening_intervals(machine)[0]
    assert (first.opens, first.closes) == (time(0, 30), time(5))


def test_hours_until_midnight_cover_the_evening_across_daylight_saving(db):
    """Open 18:00-24:00 before and after the spring change (10 March 2030)."""
    machine = MachineFactory()
    services.opening_hours_add(
        machine=machine,
        weekdays=list(range(7)),
        opens=time(18),
        closes=time(0),
        starting=date(2030, 3, 4),
    )
    for day in (date(2030, 3, 9), date(2030, 3, 11)):
        facts = machine_calendar_facts(
            machine, start=local(day, 0), end=local(day + timedelta(days=1), 0)
        )
        assert facts.opening == [(local(day, 18), local(day + timedelta(days=1), 0))]
