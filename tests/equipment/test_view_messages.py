"""What the machine page tells the person after a state change or a problem report."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.messages import INFO, SUCCESS, get_messages
from django.urls import reverse

from tests.factories.equipment import MachineFactory


@pytest.fixture
def machine(db):
    return MachineFactory(name="CNC router", slug="cnc")


def _told(response) -> list[tuple[int, str]]:
    """The messages the page shown after the post carried (follow=True: each one is shown once)."""
    return [(m.level, m.message) for m in get_messages(response.wsgi_request)]


def test_a_state_change_names_the_new_state(client, member, machine):
    machine.maintainers.add(member.user)
    client.force_login(member.user)
    post = {"state": "out_of_service", "reason": "Spindle noise", "form_token": uuid.uuid4()}
    url = reverse("equipment:machine_state", args=["cnc"])
    assert _told(client.post(url, post, follow=True)) == [
        (SUCCESS, "CNC router is now out of service.")
    ]
    # The same form again (a double click) changes nothing and says so, as information.
    (again,) = _told(client.post(url, post, follow=True))
    assert again[0] == INFO and "already submitted" in again[1]


def test_a_report_without_a_description_asks_for_one(member_client, machine):
    response = member_client.post(
        reverse("equipment:problem_report", args=["cnc"]),
        {"description": "", "form_token": uuid.uuid4()},
    )
    assert [m for _, m in _told(response)] == ["Describe the problem so staff can fix it."]
    assert not machine.problem_reports.exists()
