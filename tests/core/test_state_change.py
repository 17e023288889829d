"""The three audit histories share one base: the same fields, order and reading, their own tables."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from access.models import GateChange, GateChangeKind, GateDevice
from core.models import StateChange
from equipment.models import Machine, MachineState, MachineStateChange
from locations.models import Location
from membership.models import (
    ChangeCause,
    Member,
    Membership,
    MembershipChange,
    MembershipStatus,
    User,
)

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("model", "table"),
    [
        (MembershipChange, "membership_membershipchange"),
        (MachineStateChange, "equipment_machinestatechange"),
        (GateChange, "access_gatechange"),
    ],
)
def test_each_history_is_a_state_change_on_its_own_table(model, table):
    assert issubclass(model, StateChange)
    assert model._meta.db_table == table
    assert model._meta.ordering == ["-created_at", "-id"]
    assert {"actor", "reason", "created_at"} <= {f.name for f in model._meta.fields}


def test_a_machine_state_change_reads_what_changed_who_and_when():
    staff = User(email="sam@example.org", first_name="Sam", last_name="Staff")
    change = MachineStateChange(
        machine=Machine(name="Laser cutter A", location=Location(name="Menlo Park")),
        from_state=MachineState.IN_SERVICE,
        to_state=MachineState.OUT_OF_SERVICE,
        reason="Tube cracked",
        actor=staff,
        created_at=AT,
    )
    assert str(change) == (
        "Laser cutter A: In service → Out of service, by Sam Staff at 2026-03-02 01:30"
    )


def test_a_membership_change_without_a_person_was_the_system():
    member = Member(user=User(email="maya@example.org"))
    change = MembershipChange(
        membership=Membership(member=member),
        from_status=MembershipStatus.PAST_DUE,
        to_status=MembershipStatus.CANCELED,
        cause=ChangeCause.SYSTEM,
        reason="Grace period over",
        created_at=AT,
    )
    assert str(change) == (
        "maya@example.org: Past due → Cancelled (system), by the system at 2026-03-02 01:30"
    )


def test_a_gate_move_names_both_machines():
    change = GateChange(
        device=GateDevice(device_id="laser-1"),
        kind=GateChangeKind.MOVED,
        from_machine=Machine(name="Laser cutter A", location=Location(name="Menlo Park")),
        to_machine=Machine(name="Laser cutter B", location=Location(name="Menlo Park")),
        created_at=AT,
    )
    assert change.describe() == "Gate laser-1: moved from Laser cutter A to Laser cutter B"
    enabled = GateChange(device=GateDevice(device_id="laser-1"), kind=GateChangeKind.ENABLED)
    assert enabled.describe() == "Gate laser-1: enabled"


def test_a_gate_change_may_have_no_reason_but_a_membership_change_may_not():
    """Enabling a gate needs no reason; the base's rule (a reason is required) holds elsewhere."""
    assert GateChange._meta.get_field("reason").blank
    assert not MembershipChange._meta.get_field("reason").blank
    assert not MachineStateChange._meta.get_field("reason").blank
