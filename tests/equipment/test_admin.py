"""The Django admin lists machines and their history; history cannot be edited there."""

from __future__ import annotations

import pytest
from django.urls import reverse

from equipment.models import Machine, MachineStateChange
from tests.factories.equipment import MachineFactory, ProblemReportFactory
from tests.factories.membership import UserFactory


@pytest.fixture
def machine(db):
    machine = MachineFactory(name="Laser cutter A", slug="laser-a")
    MachineStateChange.objects.create(
        machine=machine, from_state="in_service", to_state="out_of_service", reason="Tube"
    )
    ProblemReportFactory(machine=machine)
    return machine


@pytest.mark.parametrize(
    "model", ["machine", "machineevent", "machinestatechange", "problemreport"]
)
def test_every_equipment_model_has_a_searchable_list(admin_client, machine, model):
    url = reverse(f"admin:equipment_{model}_changelist")
    assert admin_client.get(url, {"q": "laser"}).status_code == 200


def test_the_state_history_is_read_only(admin_client, machine):
    change = machine.state_changes.get()
    assert admin_client.get(reverse("admin:equipment_machinestatechange_add")).status_code == 403
    page = admin_client.get(
        reverse("admin:equipment_machinestatechange_change", args=[change.pk])
    ).content.decode()
    assert 'type="submit" value="Save"' not in page


NO_INLINE_ROWS = {
    f"{prefix}-{count}": 0
    for prefix in ("rate", "included_hours", "events")
    for count in ("TOTAL_FORMS", "INITIAL_FORMS")
}


def test_an_admin_edit_is_checked_and_tells_the_gates(admin_client, machine, gate_calls):
    """The admin saves through the same service: unworkable rules refused, gates told."""
    url = reverse("admin:equipment_machine_change", args=[machine.pk])
    data = {
        "name": machine.name,
        "area": "",
        "description": "",
        "required_certification": "",
        "maintainers": [],
        "slot_minutes": 30,
        "min_minutes": 240,
        "max_minutes": 60,
        "book_ahead_days": 14,
        "weekly_hours_per_member": 8,
        "daily_bookings_per_member": 2,
        "buffer_minutes": 0,
        **NO_INLINE_ROWS,
    }
    refused = admin_client.post(url, data)
    assert "shorter than the shortest" in refused.content.decode()
    response = admin_client.post(
        url, {**data, "min_minutes": 30, "maintainers": [UserFactory().pk]}
    )
    assert response.status_code == 302
    assert Machine.objects.get(pk=machine.pk).min_minutes == 30
    assert gate_calls.machines() == [machine]


def test_staff_meter_a_machine_and_include_hours_in_a_plan_on_its_admin_page(
    admin_client, machine, plan
):
    """The rate and a plan's included hours are set with the machine; a rate in a currency's
    unit Stripe does not take is refused."""
    url = reverse("admin:equipment_machine_change", args=[machine.pk])
    rules = {
        "name": machine.name,
        "slot_minutes": 30,
        "min_minutes": 30,
        "max_minutes": 240,
        "book_ahead_days": 14,
        "weekly_hours_per_member": 8,
        "daily_bookings_per_member": 2,
        "buffer_minutes": 0,
    }
    metered = {
        **rules,
        **NO_INLINE_ROWS,
        "rate-TOTAL_FORMS": 1,
        "rate-0-per_minute_minor": 55,
        "rate-0-currency": "bhd",  # three decimals: Stripe takes multiples of 10
        "rate-0-step_minutes": 15,
        "rate-0-minimum_minor": 500,
        "rate-0-metered_since_0": "2026-10-01",
        "rate-0-metered_since_1": "00:00:00",
        "included_hours-TOTAL_FORMS": 1,
        "included_hours-0-plan": plan.pk,
        "included_hours-0-hours": 10,
    }
    refused = admin_client.post(url, metered)
    assert "Stripe takes BHD in multiples of 10." in refused.content.decode()

    response = admin_client.post(url, {**metered, "rate-0-currency": "usd"})
    assert response.status_code == 302
    assert (machine.rate.per_minute_minor, machine.rate.step_minutes) == (55, 15)
    assert machine.included_hours.get().hours == 10
