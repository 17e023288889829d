"""A change of who may use a machine reaches the gates' allow-lists in its own transaction."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from access.models import GateMessage
from tests.factories.access import GateDeviceFactory
from tests.factories.locations import AreaFactory
from tests.factories.membership import UserFactory


@pytest.fixture
def staff_client(client, laser, staff_user):
    """Logged in once the clock is frozen in 2030, so the session has not expired by then."""
    client.force_login(staff_user)
    return client


def edit(client, machine, **changes):
    data = {
        "name": machine.name,
        "slot_minutes": 30,
        "min_minutes": 30,
        "max_minutes": 180,
        "book_ahead_days": 14,
        "weekly_hours_per_member": 6,
        "daily_bookings_per_member": 2,
        "buffer_minutes": 0,
        "required_certification": machine.required_certification_id,
        "maintainers": "",
        "form_token": str(uuid.uuid4()),
        **changes,
    }
    response = client.post(reverse("equipment:machine_edit", args=[machine.slug]), data)
    assert response.status_code == 302


@pytest.mark.parametrize("change", ["maintainers", "certification"])
def test_the_edit_page_refreshes_the_gates_with_the_change(staff_client, laser, gate_calls, change):
    """The new allow-list is queued in the edit's own transaction: no hook after commit."""
    gate = GateDeviceFactory(machine=laser)
    changes = (
        {"maintainers": UserFactory().email}
        if change == "maintainers"
        else {"required_certification": ""}
    )
    edit(staff_client, laser, **changes)
    assert gate_calls.machines() == [laser]
    assert GateMessage.objects.filter(device=gate, kind="allowlist", state="queued").count() == 1


def test_a_change_of_rules_alone_does_not(staff_client, laser, gate_calls):
    back_room = AreaFactory(location=laser.location, name="Back room")
    edit(staff_client, laser, area=back_room.pk, max_minutes=120)
    assert gate_calls.machines() == []
