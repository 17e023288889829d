"""Machine pages: list, detail, QR label, service state by maintainers, problem reports."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from equipment.models import MachineState, ProblemReport
from tests.factories.equipment import IncludedHoursFactory, MachineFactory, MachineRateFactory


@pytest.fixture
def machine(db):
    return MachineFactory(name="CNC router", slug="cnc")


def test_machine_list_and_page(member_client, machine):
    """Members see the machines and each machine's page."""
    assert "CNC router" in member_client.get(reverse("equipment:machine_list")).content.decode()
    page = member_client.get(reverse("equipment:machine_detail", args=["cnc"])).content.decode()
    assert "Report a problem" in page and "Change state" not in page


def test_a_metered_machines_page_states_its_price_before_anyone_books(
    member_client, member, machine
):
    page = member_client.get(reverse("equipment:machine_detail", args=["cnc"])).content.decode()
    assert "data-machine-rate" not in page  # not metered

    MachineRateFactory(machine=machine)
    IncludedHoursFactory(machine=machine, plan=member.membership.plan, hours=10)
    page = member_client.get(reverse("equipment:machine_detail", args=["cnc"])).content.decode()
    assert (
        "Metered: $0.50 a minute the machine is on, rounded up to 15 minutes, at least $5.00 a "
        "session; 10 h a month included in Monthly membership</li>"
    ) in page


def test_qr_label_links_to_the_machine_page(member_client, machine):
    """The printable label holds an SVG QR code and the machine page's address."""
    page = member_client.get(reverse("equipment:machine_label", args=["cnc"])).content.decode()
    assert "<svg" in page and "/machines/cnc/" in page


def test_a_maintainer_takes_the_machine_out_of_service_and_back(client, member, machine):
    """Maintainers change the state; each change is logged with who and why."""
    machine.maintainers.add(member.user)
    client.force_login(member.user)
    url = reverse("equipment:machine_state", args=["cnc"])
    client.post(
        url, {"state": "out_of_service", "reason": "Spindle noise", "form_token": uuid.uuid4()}
    )
    machine.refresh_from_db()
    assert (machine.state, machine.state_reason) == (MachineState.OUT_OF_SERVICE, "Spindle noise")
    client.post(url, {"state": "in_service", "reason": "", "form_token": uuid.uuid4()})
    machine.refresh_from_db()
    assert machine.state == MachineState.IN_SERVICE
    assert [c.to_state for c in machine.state_changes.all()] == ["in_service", "out_of_service"]
    assert all(c.actor == member.user for c in machine.state_changes.all())


def test_a_member_who_is_not_a_maintainer_cannot_change_the_state(member_client, machine):
    """Everyone else is refused and nothing changes."""
    member_client.post(
        reverse("equipment:machine_state", args=["cnc"]),
        {"state": "out_of_service", "reason": "x", "form_token": uuid.uuid4()},
    )
    machine.refresh_from_db()
    assert machine.state == MachineState.IN_SERVICE
    assert not machine.state_changes.exists()


def test_any_member_reports_a_problem_and_staff_see_it(member_client, staff_user, machine):
    """A report from any member shows on the staff list; members cannot open that list."""
    member_client.post(
        reverse("equipment:problem_report", args=["cnc"]),
        {"description": "Dust extraction is weak", "form_token": uuid.uuid4()},
    )
    assert ProblemReport.objects.get().description == "Dust extraction is weak"
    assert member_client.get(reverse("equipment:problem_list")).status_code == 403
    staff_client = Client()
    staff_client.force_login(staff_user)
    page = staff_client.get(reverse("equipment:problem_list")).content.decode()
    assert "Dust extraction is weak" in page
