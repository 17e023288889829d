"""Staff watch the machines live: the page follows the gates without a reload, and the emergency
stop button reaches the machine's gate."""

from __future__ import annotations

import pytest
from django.utils import timezone

from access.models import AccessEvent, AccessSource, GateDevice, GateMessage
from tests.access.conftest import build_scene
from tests.factories.access import GateDeviceFactory
from tests.factories.membership import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_live_page_follows_a_gate_and_sends_an_emergency_stop(page, log_in, settings):
    settings.GATE_BROKER_URL = "mqtt://127.0.0.1:1"  # no broker: the stop is recorded all the same
    scene = build_scene()
    device = GateDeviceFactory(machine=scene.machine)
    log_in(UserFactory(role="Staff"), PASSWORD)
    page.goto("/access/live/")
    card = page.get_by_role("region", name=scene.machine.name)
    card.get_by_text("power off").wait_for()

    # The gate reports: a member switched the laser on. No reload: htmx polls the page.
    GateDevice.objects.filter(pk=device.pk).update(
        online=True, last_seen=timezone.now(), relay_on=True
    )
    AccessEvent.objects.create(
        at=timezone.now(),
        source=AccessSource.GATE,
        badge_uid=scene.badge_uid,
        device=device,
        machine=scene.machine,
        member=scene.member,
        allowed=True,
        reason="allowed_booking",
    )
    card.get_by_text("power ON").wait_for()
    card.get_by_text("online").wait_for()
    card.locator("li.decision.allowed").get_by_text(scene.member.display_name).wait_for()

    # Two steps, and the page stops refreshing while the stop form is open.
    card.get_by_text("Emergency stop…").click()
    page.wait_for_timeout(3500)  # a refresh would close the form: it must still be there
    card.get_by_role("button", name=f"Stop and lock {scene.machine.name}").click()
    page.get_by_text(f"Emergency stop queued for 1 gate(s) of {scene.machine.name}").wait_for()
    assert GateMessage.objects.get(kind="command").reason == "emergency_stop"
    card = page.get_by_role("region", name=scene.machine.name)
    card.get_by_text("every scan is refused until cleared").wait_for()
    card.get_by_text("queued").first.wait_for()  # no broker: the stop waits, and says so

    card.get_by_text("Clear the emergency stop").click()
    card.get_by_label("Why is it safe again?").fill("Checked the lens with Sam")
    card.get_by_role("button", name="Clear and allow scans").click()
    page.get_by_text(f"Emergency stop of {scene.machine.name} cleared").wait_for()
